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
        page.on("requestfailed", self._request_failed)
        page.on("response", self._response)

    def _request_failed(self, req):
        # A reload or a navigation cancels the page's fetches still in flight (the live TPS
        # poll, a live view's refresh): the browser aborted them, the console did not fail.
        if req.failure != "net::ERR_ABORTED":
            self.problems.append(f"request failed: {req.url} {req.failure}")

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
        # The dashboard: the console samples every second here; messages sent now show as a
        # rate of the topic and of its broker.
        b.open("/dashboard")
        expect(page.locator("#view")).to_contain_text("Top topics", timeout=TIMEOUT_MS)
        for i in range(3):
            out = mqadmin(fx, "sendMessage", "-t", topic, "-p", f"dashboard {i}")
            assert "SEND_OK" in out, out
        top_row = page.locator("#view tr", has_text=topic).first
        expect(top_row).to_be_visible(timeout=TIMEOUT_MS)
        eventually("the dashboard counts the three messages in its window", lambda: int(top_row.locator("td").nth(1).inner_text()) >= 3)
        expect(page.locator("#topicChart path").first).to_have_attribute("d", re.compile(r"L"))
        expect(page.locator("#brokerPutChart path").first).to_have_attribute("d", re.compile(r"L"))
        visit("/dashboard", "dashboard", ["Broker put TPS", "Topic TPS", fx["broker_name"], topic])
        visit("/cluster", "cluster", [fx["cluster"], fx["broker_name"], fx["broker_addr"]])
        # The live TPS line has sampled at least once without an error.
        expect(page.locator("#tpsText")).to_contain_text("put", timeout=TIMEOUT_MS)
        visit(f"/broker/{fx['broker_addr']}", "broker", ["brokerClusterName", "putTps", fx["broker_name"]])
        visit(f"/storage/{fx['broker_addr']}", "storage", ["Commit log", "dispatched up to", topic, "Index files", "checkpoint: index flushed through"])
        expect(page.locator("#commitLog rect").first).to_be_visible()
        # GET_STORE_STATS: one index file, holding the keys and unique ids of the 300+ messages sent.
        index_rows = page.locator("#view table", has_text="Hash slots used").locator("tr").all_inner_texts()[1:]
        assert len(index_rows) == 1 and int(index_rows[0].split("\t")[1]) > 300, index_rows
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

        # ---- message trace: the traced producer's Pub line, decoded by rmq_client::trace ----
        def trace_shown():
            b.open(f"/message/{fx['traced_msg_id']}?topic={topic}")
            return "console_trace_pg" in page.locator("#view table", has_text="Cost (ms)").inner_text()
        eventually("the Message page shows the traced producer's Pub event", trace_shown)
        expect(page.locator("#view table", has_text="Cost (ms)")).to_contain_text("Pub")
        b.check_clean("message trace")
        b.shot(shots, "message-trace")
        visited.append("message-trace")

        # ---- resend: the online group's client consumes the stored message again, now ----
        b.open(f"/message/{fx['offset_msg_id']}")
        expect(page.locator("#resendForm input[name=group]")).to_have_value(group)
        page.click("#resendForm button")
        expect(page.locator("#resendResult")).to_contain_text("CR_SUCCESS", timeout=TIMEOUT_MS)
        b.check_clean("resend a message")

        # ---- the DLQ page: the failing group's dead letter, and a resend to its consumer ----
        dlq = fx["dlq_group"]
        now = int(time.time() * 1000) + 1000
        # 4.8.0 creates the DLQ topic write-only: the page says so and offers to make it readable.
        b.allowed_statuses = {("/api/messages", 400)}
        b.open(f"/dlq?group={dlq}&begin={fx['begin']}&end={now}")
        expect(page.locator("#view .errbox")).to_contain_text("write only")
        page.click("#dlqReadable")
        expect(page.locator("#result")).to_contain_text(fx["dlq_key"], timeout=TIMEOUT_MS)
        route = mqadmin(fx, "topicRoute", "-t", f"%DLQ%{dlq}")
        assert '"perm":6' in route.replace(" ", ""), route
        b.check_clean("make the DLQ readable")
        b.allowed_statuses = set()
        visit(f"/dlq?group={dlq}&begin={fx['begin']}&end={now}", "dlq", [f"%DLQ%{dlq}", fx["dlq_key"]])
        page.locator("#result a").first.click()
        page.wait_for_url("**#/message/*")
        b.wait_rendered()
        expect(page.locator("#view")).to_contain_text(f"%DLQ%{dlq}")
        expect(page.locator("#resendForm input[name=group]")).to_have_value(dlq)
        page.click("#resendForm button")
        # The group's listener fails on purpose: it answers "later".
        expect(page.locator("#resendResult")).to_contain_text("CR_LATER", timeout=TIMEOUT_MS)
        b.check_clean("resend a dead letter")
        b.shot(shots, "dlq-resend")
        visited.append("dlq-resend")

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
        # Each queue's new offset is its max offset, as mqadmin topicStatus reports it.
        status = mqadmin(fx, "topicStatus", "-t", topic)
        max_by_queue = {p[1]: p[3] for p in (l.split() for l in status.splitlines()) if len(p) >= 4 and p[0] == fx["broker_name"]}
        assert len(max_by_queue) == 4, status
        assert {r.split()[1]: r.split()[-1] for r in rows} == max_by_queue, (rows, status)
        b.check_clean("skip accumulated")

        # Delete the new topic; mqadmin no longer finds its route.
        b.open(f"/topic/{new_topic}")
        page.once("dialog", lambda d: d.accept())
        page.click("#deleteTopic")
        page.wait_for_url("**#/topics")
        b.wait_rendered()
        eventually("mqadmin topicRoute no longer finds the deleted topic", lambda: "No topic route info" in mqadmin(fx, "topicRoute", "-t", new_topic))
        b.check_clean("delete topic")

        # ---- consumer groups: create with settings, update, delete ----
        new_group = fx["new_group"]
        sub_json = os.path.join(fx["store_dir"], "config", "subscriptionGroup.json")

        def retries_on_disk():
            try:
                with open(sub_json) as f:
                    g = json.load(f)["subscriptionGroupTable"].get(new_group)
            except (OSError, ValueError):
                return None
            return None if g is None else g["retryMaxTimes"]

        b.open("/consumers")
        page.fill("#groupForm input[name=group]", new_group)
        page.fill("#groupForm input[name=retryMaxTimes]", "3")
        page.click("#groupForm button")
        page.wait_for_url(f"**#/consumer/{new_group}")
        b.wait_rendered()
        settings = page.locator("#view table", has_text="Retries before DLQ")
        expect(settings).to_contain_text(fx["broker_addr"])
        eventually("the broker's subscriptionGroup.json has the new group with 3 retries", lambda: retries_on_disk() == 3)
        page.fill("#groupForm input[name=retryMaxTimes]", "5")
        page.click("#groupForm button")
        eventually("the update reached the broker's subscriptionGroup.json", lambda: retries_on_disk() == 5)
        b.wait_rendered()
        expect(settings.locator("tr", has_text=fx["broker_addr"])).to_contain_text("5")
        b.check_clean("create and update a consumer group")
        b.shot(shots, "consumer-settings")
        visited.append("consumer-settings")
        # Delete: DELETE_SUBSCRIPTIONGROUP (207) on every master; the group leaves the broker's file.
        page.once("dialog", lambda d: d.accept())
        page.click("#deleteGroup")
        page.wait_for_url("**#/consumers")
        b.wait_rendered()
        eventually("the group is gone from the broker's subscriptionGroup.json", lambda: retries_on_disk() is None)
        expect(page.locator("#view")).not_to_contain_text(new_group)
        b.check_clean("delete a consumer group")

        # ---- the live DLedger view: a leader, then an election when the test kills it ----
        group_title = page.locator("#view h3").first
        b.open("/dledger")
        expect(group_title).to_contain_text("leader n", timeout=TIMEOUT_MS)
        expect(page.locator("#view")).to_contain_text(fx["dledger_group"])
        old = re.search(r"leader (n\d+)", group_title.inner_text()).group(1)
        # Every member reports its end, committed and applied index (GET_STORE_STATS on its broker).
        def member_indexes():
            rows = page.locator("#view table", has_text="Applied index").first.locator("tr").evaluate_all(
                "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))")
            head, body = rows[0], rows[1:]
            cols = [head.index(h) for h in ("End index", "Committed index", "Applied index")]
            got = {r[0]: [r[c] for c in cols] for r in body}
            # The test stored three messages in the group: every member has entries to apply.
            return got if all(v.isdigit() and int(v) >= 2 for vals in got.values() for v in vals) else None
        indexes = eventually("every member shows its end, committed and applied index", member_indexes)
        assert len(indexes) == 3, indexes
        # Applied never passes committed, and committed never passes the end of the log.
        assert all(int(a) <= int(c) <= int(e) for e, c, a in indexes.values()), indexes
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

        # ---- a console started with --user: the login form and its session cookie ----
        login_url = fx["login_url"]
        b.base = login_url
        b.allowed_statuses = {("/login", 401)}
        page.goto(login_url + "/#/topics")
        # Sent to the login page (the browser keeps the fragment across the redirect).
        page.wait_for_url(re.compile(r"/login(#.*)?$"))
        expect(page.locator("#loginForm")).to_be_visible()
        b.shot(shots, "login")
        visited.append("login")
        page.fill("#user", fx["login_user"])
        page.fill("#password", "not-the-password")
        page.click("#loginForm button")
        expect(page.locator(".errbox")).to_contain_text("wrong user name or password")
        page.fill("#user", fx["login_user"])
        page.fill("#password", fx["login_password"])
        page.click("#loginForm button")
        page.wait_for_url(re.compile(re.escape(login_url) + r"/(#.*)?$"))
        b.wait_rendered()
        expect(page.locator("#view")).to_contain_text(fx["broker_name"])
        expect(page.locator("#logout button")).to_be_visible()
        b.check_clean("log in")
        assert page.request.get(login_url + "/api/ops").status == 200
        page.click("#logout button")
        page.wait_for_url(re.compile(r"/login(#.*)?$"))
        assert page.request.get(login_url + "/api/ops").status == 401
        b.check_clean("log out")
        b.allowed_statuses = set()

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
