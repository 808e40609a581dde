"""End-to-end check of rmq-console in a real browser (Debian's Chromium, driven by Playwright).

The Rust test crates/console/tests/browser.rs starts a name server, a broker and the console on
ephemeral 127.0.0.1 ports, puts a topic, a keyed message, a consumer group and a producer in it,
then runs this script with the names it used (one JSON argument). The script visits every page
of the console, fails on any JavaScript error, failed request or HTTP error answer it did not ask
for, checks what each page shows, drives the back button, performs the write actions and checks
each one's effect with the real `mqadmin`, and saves a screenshot of each page into
the folder the test names (target/console-e2e/, or book/src/figures/console/ for the book's
console chapter, Part III "The web console", when run with RMQ_BLESS_BOOK=1).

Exit status 0 means every check passed; anything else prints what failed.
"""

import json
import os
import platform
import re
import subprocess
import sys
import time

from playwright.sync_api import expect, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
TIMEOUT_MS = 30_000


class Browser:
    """One page plus everything that went wrong in it since the last `check_clean`."""

    def __init__(self, page, base):
        self.page = page
        self.base = base
        self.problems = []
        self.allowed_statuses = set()  # (path, status) pairs a step provokes on purpose
        page.on("pageerror", lambda e: self.problems.append(f"JS error: {e}"))
        page.on("console", self._console)
        page.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.url} {r.failure}"))
        page.on("response", self._response)

    def _console(self, msg):
        if msg.type == "error" and not self._allowed_console(msg.text):
            self.problems.append(f"console error: {msg.text}")

    def _allowed_console(self, text):
        # Chromium logs every 4xx/5xx fetch as "Failed to load resource"; those are judged by status.
        return "Failed to load resource" in text and self.allowed_statuses

    def _response(self, resp):
        if resp.status >= 400:
            path = resp.url[len(self.base):] if resp.url.startswith(self.base) else resp.url
            path = path.split("?")[0]
            if not any(path.startswith(p) and resp.status == s for p, s in self.allowed_statuses):
                self.problems.append(f"HTTP {resp.status}: {resp.url}")

    def check_clean(self, step):
        if self.problems:
            raise AssertionError(f"{step}: " + "; ".join(self.problems))

    def open(self, hash_path):
        """Navigates to a page by its URL and waits until it has rendered."""
        self.page.goto(f"{self.base}/#{hash_path}")
        self.wait_rendered()

    def wait_rendered(self):
        view = self.page.locator("#view")
        expect(view).not_to_contain_text("loading…", timeout=TIMEOUT_MS)
        expect(view).not_to_be_empty(timeout=TIMEOUT_MS)

    def shot(self, shots, name):
        self.page.screenshot(path=os.path.join(shots, f"{name}.png"), full_page=True)


def mqadmin(fx, *args):
    """Runs the real mqadmin against the test cluster; returns its stdout."""
    out = subprocess.run([fx["mqadmin"], *args, "-n", fx["namesrv"]], capture_output=True, text=True, timeout=60)
    return out.stdout + out.stderr


def eventually(what, fn, timeout_s=30):
    deadline = time.time() + timeout_s
    while True:
        last = fn()
        if last:
            return last
        if time.time() > deadline:
            raise AssertionError(f"never true: {what}")
        time.sleep(0.5)


def view_text(b):
    return b.page.locator("#view").inner_text()


def run(fx):
    shots = fx["shots"]
    os.makedirs(shots, exist_ok=True)
    visited = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.set_default_timeout(TIMEOUT_MS)
        b = Browser(page, fx["url"])

        def visit(hash_path, name, must_contain):
            b.open(hash_path)
            text = view_text(b)
            for needle in must_contain:
                if needle not in text:
                    raise AssertionError(f"#{hash_path}: {needle!r} not shown; page says:\n{text[:2000]}")
            if "errbox" in page.locator("#view").inner_html():
                raise AssertionError(f"#{hash_path}: shows an error: {text[:500]}")
            b.check_clean(f"#{hash_path}")
            b.shot(shots, name)
            visited.append(name)

        topic, group, key = fx["topic"], fx["group"], fx["key"]

        # ---- every read page, by its URL ----
        visit("/cluster", "cluster", [fx["cluster"], fx["broker_name"], fx["broker_addr"]])
        # The live TPS line has sampled at least once without an error.
        expect(page.locator("#tpsText")).to_contain_text("put", timeout=TIMEOUT_MS)
        visit(f"/broker/{fx['broker_addr']}", "broker", ["brokerClusterName", "putTps", fx["broker_name"]])
        visit(f"/storage/{fx['broker_addr']}", "storage", ["Commit log", "dispatched up to", topic])
        expect(page.locator("#commitLog rect").first).to_be_visible()
        # The view redraws itself every 2 s: still there, still without errors, after a refresh.
        page.wait_for_timeout(2500)
        expect(page.locator("#commitLog")).to_be_visible()
        b.check_clean("storage view refresh")
        visit("/ops", "ops", [fx["namesrv"], fx["cluster"]])
        visit("/topics", "topics", [topic])
        visit("/topics?kind=system", "topics-system", ["TBW102"])
        visit(f"/topic/{topic}", "topic", [topic, fx["broker_name"], group])
        visit("/consumers", "consumers", [group, "CLUSTERING"])
        visit(f"/consumer/{group}", "consumer", [topic, fx["broker_name"], "Diff"])
        visit(f"/producers?topic={topic}&group={fx['producer_group']}", "producers", [fx["producer_group"], "JAVA"])
        visit(f"/messages?topic={topic}&key={key}", "messages-by-key", [fx["msg_id"]])
        visit(f"/messages?topic={topic}&begin={fx['begin']}&end={fx['end']}", "messages-by-time", [fx["msg_id"]])
        visit(f"/message/{fx['offset_msg_id']}", "message", [fx["msg_id"], key, "UNIQ_KEY", fx["body"], "Consumed by"])
        # The group has stored an offset past the message: the track says CONSUMED, as mqadmin's progress shows.
        expect(page.locator("#view tr", has_text=group)).to_contain_text("CONSUMED")
        progress = mqadmin(fx, "consumerProgress", "-g", group)
        assert topic in progress, progress
        visit(f"/message/{fx['msg_id']}?topic={topic}", "message-by-unique-id", [fx["offset_msg_id"]])

        # ---- links and the back button ----
        b.open("/cluster")
        page.click("#tabs a[data-tab=topics]")
        page.wait_for_url("**#/topics")
        b.wait_rendered()
        page.click(f"#view a[href='#/topic/{topic}']")
        page.wait_for_url(f"**#/topic/{topic}")
        b.wait_rendered()
        expect(page.locator("#view h2")).to_contain_text(f"Topic {topic}")
        page.go_back()
        page.wait_for_url("**#/topics")
        b.wait_rendered()
        expect(page.locator("#view h2")).to_have_text("Topics")
        page.go_back()
        page.wait_for_url("**#/cluster")
        b.wait_rendered()
        expect(page.locator("#view h2").first).to_contain_text(fx["cluster"])
        page.go_forward()
        page.wait_for_url("**#/topics")
        b.wait_rendered()
        # A search form changes the URL, so its result can be linked and reloaded.
        b.open("/messages")
        page.fill("#byKey input[name=topic]", topic)
        page.fill("#byKey input[name=key]", key)
        page.click("#byKey button")
        page.wait_for_url("**key=*")
        b.wait_rendered()
        expect(page.locator("#result")).to_contain_text(fx["msg_id"])
        assert "key=" + key in page.url, page.url
        page.reload()
        b.wait_rendered()
        expect(page.locator("#result")).to_contain_text(fx["msg_id"])
        b.check_clean("back button and search URL")

        # ---- errors are shown on the page, never a blank table ----
        b.allowed_statuses = {("/api/topics/", 404), ("/api/consumers/", 404)}
        b.open("/topic/NoSuchTopicAnywhere")
        expect(page.locator("#view .errbox")).to_contain_text("NoSuchTopicAnywhere")
        b.shot(shots, "error")
        b.open("/consumer/no_such_group")
        expect(page.locator("#view .errbox")).to_be_visible()
        b.open("/no-such-page")
        expect(page.locator("#view .errbox")).to_contain_text("no such page")
        b.check_clean("error pages")
        b.allowed_statuses = set()
        visited.append("error")

        # ---- write actions, each checked with mqadmin ----
        new_topic = fx["new_topic"]
        b.open("/topics")
        page.fill("#topicForm input[name=topic]", new_topic)
        page.fill("#topicForm input[name=writeQueueNums]", "3")
        page.fill("#topicForm input[name=readQueueNums]", "3")
        page.click("#topicForm button")
        page.wait_for_url(f"**#/topic/{new_topic}")
        b.wait_rendered()
        expect(page.locator("#view h2")).to_contain_text(new_topic)
        expect(page.locator("#view")).to_contain_text(fx["broker_name"])
        route = eventually("mqadmin topicRoute shows the new topic", lambda: (
            out := mqadmin(fx, "topicRoute", "-t", new_topic)) and '"writeQueueNums":3' in out.replace(" ", "") and out)
        assert fx["broker_name"] in route, route
        b.shot(shots, "topic-created")

        page.fill("#sendForm input[name=key]", "e2e-key")
        page.fill("#sendForm input[name=tags]", "E2E")
        page.fill("#sendForm textarea[name=body]", "sent from the browser")
        page.click("#sendForm button")
        expect(page.locator("#sendResult")).to_contain_text("SEND_OK")
        sent_id = page.locator("#sendResult a").first.inner_text()
        out = eventually("mqadmin queryMsgByKey finds the sent message", lambda: (
            o := mqadmin(fx, "queryMsgByKey", "-t", new_topic, "-k", "e2e-key")) and sent_id in o and o)
        b.check_clean("send a message")
        b.shot(shots, "message-sent")

        # Reset the group's offset on its topic to the beginning (timestamp 0): the diff grows back.
        b.open(f"/consumer/{group}")
        page.fill("#resetForm input[name=topic]", topic)
        page.fill("#resetForm input[name=timestamp]", "0")
        page.click("#resetForm button")
        expect(page.locator("#resetResult")).to_contain_text(fx["broker_name"])
        out = mqadmin(fx, "consumerProgress", "-g", group)
        assert topic in out, out
        b.check_clean("reset offset")
        b.shot(shots, "offset-reset")

        # Skip accumulated: a reset to the end of every queue; the new offsets are the max offsets.
        page.once("dialog", lambda d: d.accept())
        page.locator("#resetResult").evaluate("e => e.innerHTML = ''")
        page.click("#skipAccumulated")
        expect(page.locator("#resetResult")).to_contain_text("reset (")
        rows = page.locator("#resetResult table tr").all_inner_texts()[1:]
        assert len(rows) == 4 and all(fx["broker_name"] in r for r in rows), rows
        assert sorted(r.split()[-1] for r in rows) == ["0", "0", "0", "1"], rows
        b.check_clean("skip accumulated")

        # Delete the new topic; mqadmin no longer finds its route.
        b.open(f"/topic/{new_topic}")
        page.once("dialog", lambda d: d.accept())
        page.click("#deleteTopic")
        page.wait_for_url("**#/topics")
        b.wait_rendered()
        eventually("mqadmin topicRoute no longer finds the deleted topic", lambda: "No topic route info" in mqadmin(fx, "topicRoute", "-t", new_topic))
        b.check_clean("delete topic")

        # ---- the live DLedger view: a leader, then an election when the test kills it ----
        group_title = page.locator("#view h3").first
        b.open("/dledger")
        expect(group_title).to_contain_text("leader n", timeout=TIMEOUT_MS)
        expect(page.locator("#view")).to_contain_text(fx["dledger_group"])
        old = re.search(r"leader (n\d+)", group_title.inner_text()).group(1)
        b.check_clean("DLedger view")
        b.shot(shots, "dledger")
        visited.append("dledger")
        os.kill(fx["dledger_pids"][old], 9)
        # The page redraws itself: the killed member shows as down, and the others elect a new leader.
        expect(group_title).not_to_contain_text(f"leader {old}", timeout=TIMEOUT_MS)
        expect(group_title).to_contain_text("leader n", timeout=TIMEOUT_MS)
        expect(page.locator("#view svg.ring").first).to_contain_text("down")
        b.check_clean("DLedger election")
        b.shot(shots, "dledger-election")
        visited.append("dledger-election")

        browser.close()

    meta = {
        "what": "screenshots of rmq-console taken by crates/console/e2e/console_e2e.py (make console-e2e)",
        "browser": f"Debian Chromium ({CHROMIUM}) driven by Playwright, viewport 1280x800, full page",
        "cluster": "one mqnamesrv and one mqbroker on ephemeral 127.0.0.1 ports, seeded by crates/console/tests/browser.rs",
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "pages": visited,
    }
    with open(os.path.join(shots, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(f"console e2e: {len(visited)} pages checked and captured into {shots}")


if __name__ == "__main__":
    try:
        run(json.loads(sys.argv[1]))
    except Exception as e:  # report, then fail the run
        print(f"console e2e FAILED: {e}", file=sys.stderr)
        sys.exit(1)
