#!/usr/bin/env python3
"""`make try`: runs every Try-it block of the book against a fresh local cluster and checks its output.

For each chapter of book/src/SUMMARY.md that has Try-it blocks (book.py reads them), in order:
bring the cluster into the state the chapter asks for (cluster.py: full, single or none; killed nodes
restarted, paused ones resumed, a leader in every group), open one interactive bash at the repository
root with target/release first on PATH (session.py), type each block's commands, check the block's
expectations, and end every process the chapter left behind (procs.py). The cluster is stopped at the
end, also after a failure or Ctrl-C. book/TRY-IT.md is the guide for authors.

    scripts/try/run.py                      every chapter
    scripts/try/run.py part2/offsets.md     one chapter (and the chapters it needs=)
    scripts/try/run.py --list               the blocks, without running anything

Exit status: 0 when every block passed or was skipped, 1 when one failed, 2 on a format error.
The whole transcript goes to target/try/try.log.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import procs  # noqa: E402
from book import Block, BookError, Chapter, load_book  # noqa: E402
from cluster import Cluster, ClusterError  # noqa: E402
from session import Session, SessionBroken  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "book/src"
OUTPUT_LINES_ON_FAILURE = 60
# What `make` passes to its children: a student's shell has none of it, and a nested make would
# otherwise print "Entering directory" lines and share our job server.
MAKE_VARIABLES = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "MAKE_TERMOUT", "MAKE_TERMERR")
# Settings of the developer's shell that change what the book's commands print; a student has none.
DEVELOPER_VARIABLES = ("NAMESRV_ADDR", "RUST_BACKTRACE", "RUST_LIB_BACKTRACE", "RUST_LOG", "ROCKETMQ_HOME", "RMQ_TOOLS_YML")


class Interrupted(Exception):
    pass


def select(chapters: list[Chapter], wanted: list[str], errors: dict[str, str]) -> list[Chapter]:
    """The chapters asked for plus, transitively, the chapters they need, in book order; of the
    format errors, only those of these chapters are kept."""
    by_path = {c.path: c for c in chapters}
    by_path.update({path: Chapter(path) for path in errors})
    keep: set[str] = set()
    todo = []
    for w in wanted:
        rel = w.removeprefix("book/src/").removeprefix("./")
        if rel not in by_path:
            raise BookError(f"no chapter {w!r} in SUMMARY.md (give a path like part2/offsets.md)")
        todo.append(rel)
    while todo:
        rel = todo.pop()
        if rel not in keep:
            keep.add(rel)
            todo.extend(by_path[rel].needs)
    for path in list(errors):
        if path not in keep:
            del errors[path]
    return [c for c in chapters if c.path in keep]


def list_blocks(chapters: list[Chapter]) -> None:
    total = 0
    for c in chapters:
        if not c.blocks:
            continue
        needs = f", needs {', '.join(c.needs)}" if c.needs else ""
        print(f"{c.path}  (cluster={c.profile}{needs})")
        for b in c.blocks:
            total += 1
            tags = []
            if b.skip:
                tags.append(f"skip: {b.skip}")
            if b.requires:
                tags.append(f"requires {' '.join(b.requires)}")
            if b.expect_fail:
                tags.append("may fail")
            if b.timeout_s != 60:
                tags.append(f"timeout {b.timeout_s} s")
            print(f"  {b.where:34} {len(b.commands)} command(s)  {'  '.join(tags)}")
            for cmd in b.commands:
                print(f"      $ {cmd.text.splitlines()[0][:100]}")
            for e in b.expect:
                print(f"      expect      {e}")
            for e in b.expect_not:
                print(f"      expect-not  {e}")
    print(f"{total} blocks in {sum(1 for c in chapters if c.blocks)} chapters")


class Runner:
    def __init__(self, run_dir: Path, log_path: Path, verbose: bool):
        self.reaper = procs.Reaper()
        self.run_dir = run_dir
        self.log_file = open(log_path, "w", encoding="utf-8")
        self.verbose = verbose
        self.cluster = Cluster(ROOT, run_dir, self.reaper, self.log)
        self.passed = self.failed = self.skipped = 0
        self.failures: list[str] = []
        self.skips: list[str] = []

    def log(self, text: str) -> None:
        self.log_file.write(text if text.endswith("\n") else text + "\n")
        self.log_file.flush()

    def say(self, text: str) -> None:
        print(text, flush=True)
        self.log(text)

    def env(self, tmp_dir: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in MAKE_VARIABLES + DEVELOPER_VARIABLES}
        env.update(
            # A chapter's `mktemp -d` lands here and is removed with the chapter: a Try-it that
            # starts its own broker leaves a store of a few GiB (preallocated files) behind.
            TMPDIR=tmp_dir,
            PATH=f"{ROOT / 'target/release'}{os.pathsep}{os.environ.get('PATH', '')}",
            RUN_DIR=str(self.run_dir),
            TERM="dumb",
            NO_COLOR="1",
            CARGO_TERM_COLOR="never",
            CARGO_TERM_PROGRESS_WHEN="never",
            PAGER="cat",
            GIT_PAGER="cat",
        )
        return env

    def run_chapter(self, chapter: Chapter) -> None:
        self.say(f"== {chapter.path} (cluster={chapter.profile})")
        took = self.cluster.ensure(chapter.profile)
        if took > 1:
            self.say(f"   cluster ready in {took:.1f} s")
        for group in self.cluster.groups(chapter.profile) if chapter.profile != "none" else []:
            self.log(f"   leader of {group}: {self.cluster.leader(group)}")
        session = None
        tmp_dir = tempfile.mkdtemp(prefix="try-")
        try:
            with self.reaper.lock:
                session = Session(str(ROOT), self.env(tmp_dir))
                self.reaper.own.add(session.pid)
            for block in chapter.blocks:
                self.run_block(session, block)
        except SessionBroken as e:
            self.failed += 1
            self.say(f"FAIL {chapter.path}: the shell broke: {e}")
            self.failures.append(f"{chapter.path}: the shell broke")
        finally:
            if session is not None:
                session.close()
                self.reaper.own.discard(session.pid)
            self.cleanup(chapter.path)
            shutil.rmtree(tmp_dir, ignore_errors=True)

    def cleanup(self, what: str) -> None:
        """Ends what the chapter left running, except the cluster's own nodes."""
        nodes = self.cluster.pids()
        keep = set(nodes)
        for p in nodes:
            keep.update(procs.descendants(p))
        left = [p for p in procs.descendants(os.getpid()) if p not in keep]
        if left:
            ended = procs.kill_all(left)
            if ended:
                self.log(f"   {what}: ended {len(ended)} leftover process(es): {ended}")

    def run_block(self, session: Session, block: Block) -> None:
        title = f"{block.where} ({block.heading})"
        if block.skip:
            self.skipped += 1
            self.skips.append(f"{block.where}: {block.skip}")
            self.say(f"SKIP {title}: {block.skip}")
            return
        missing = [p for p in block.requires if shutil.which(p) is None]
        if missing:
            self.skipped += 1
            self.skips.append(f"{block.where}: needs {', '.join(missing)}")
            self.say(f"SKIP {title}: {', '.join(missing)} not installed")
            return
        began = time.monotonic()
        output = []
        problem = None
        for cmd in block.commands:
            self.log(f"$ {cmd.text}")
            result = session.run(cmd.text, block.timeout_s)
            self.log(result.output + f"[rc={result.rc} {result.seconds:.1f}s]")
            output.append(result.output)
            if result.timed_out:
                problem = (cmd, f"did not finish within {block.timeout_s} s (interrupted)")
                break
            if result.rc != 0 and not block.expect_fail:
                problem = (cmd, f"exited with status {result.rc}")
                break
        text = "".join(output)
        if problem is None:
            for pattern in block.expect:
                if not re.search(pattern, text, re.MULTILINE):
                    problem = (None, f"expected /{pattern}/ in the output")
                    break
            for pattern in block.expect_not:
                if problem is None and re.search(pattern, text, re.MULTILINE):
                    problem = (None, f"did not expect /{pattern}/ in the output")
        seconds = time.monotonic() - began
        if problem is None:
            self.passed += 1
            self.say(f"PASS {title}  {len(block.commands)} command(s), {seconds:.1f} s")
            if self.verbose:
                print(textwrap.indent(text.rstrip(), "     | "))
            return
        self.failed += 1
        cmd, why = problem
        where = f"{block.chapter}:{cmd.line}" if cmd else block.where
        self.failures.append(f"{where}: {why}")
        lines = text.rstrip().splitlines()
        if len(lines) > OUTPUT_LINES_ON_FAILURE:
            lines = [f"[... {len(lines) - OUTPUT_LINES_ON_FAILURE} lines ...]"] + lines[-OUTPUT_LINES_ON_FAILURE:]
        self.say(f"FAIL {title}  after {seconds:.1f} s")
        self.say(f"     at {where}: {why}")
        if cmd:
            self.say(textwrap.indent(f"$ {cmd.text}", "     "))
        self.say(textwrap.indent("\n".join(lines) or "(no output)", "     | "))

    def finish(self) -> None:
        self.cleanup("end")
        self.cluster.stop()
        self.cleanup("after stop")
        self.reaper.stop.set()


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the book's Try-it blocks against a fresh cluster.")
    parser.add_argument("chapters", nargs="*", help="chapters to run (e.g. part2/offsets.md); default all")
    parser.add_argument("--list", action="store_true", help="list the blocks and their expectations, run nothing")
    parser.add_argument("--run-dir", default=str(ROOT / "target/try/run"), help="the cluster's RUN_DIR")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every block's output")
    args = parser.parse_args()

    chapters, errors = load_book(SRC)
    if args.chapters:
        try:
            chapters = select(chapters, args.chapters, errors)
        except BookError as e:
            print(f"try: {e}", file=sys.stderr)
            return 2
    for message in errors.values():
        print(f"FORMAT {message}", file=sys.stderr)
    if args.list:
        list_blocks(chapters)
        return 2 if errors else 0
    chapters = [c for c in chapters if c.blocks]
    if not chapters:
        print("try: no Try-it blocks in the chosen chapters")
        return 2 if errors else 0

    if sys.platform.startswith("linux") and not procs.become_subreaper():
        print("try: warning: could not become a child subreaper; orphaned processes may be missed")
    run_dir = Path(args.run_dir).resolve()
    log_path = ROOT / "target/try/try.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    runner = Runner(run_dir, log_path, args.verbose)
    runner.failed = len(errors)
    runner.failures = [f"format: {m}" for m in errors.values()]
    # Another cluster on the fixed ports (a `make run`, another `make try`) may be about to end:
    # wait for it a while (TRY_WAIT_PORTS_S, default 900 s) rather than fail at once.
    needs_ports = any(c.profile != "none" for c in chapters)
    wait_until = time.monotonic() + float(os.environ.get("TRY_WAIT_PORTS_S", "900"))
    busy = runner.cluster.busy_ports() if needs_ports else []
    if busy:
        print(f"try: ports {busy} are in use: another cluster runs; waiting for them to be free")
    while busy and time.monotonic() < wait_until:
        time.sleep(5)
        busy = runner.cluster.busy_ports()
    if busy:
        print(f"try: ports {busy} are in use: another cluster runs (make stop, or wait for its flock)")
        return 1
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)

    def interrupted(signum, _frame):
        raise Interrupted(signal.Signals(signum).name)

    # SIGINT too: a shell starts background jobs with SIGINT ignored, and Ctrl-C must still stop us.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupted)
    began = time.monotonic()
    status = 0
    try:
        for chapter in chapters:
            try:
                runner.run_chapter(chapter)
            except ClusterError as e:
                runner.failed += 1
                runner.failures.append(f"{chapter.path}: {e}")
                runner.say(f"FAIL {chapter.path}: {e}")
    except (KeyboardInterrupt, Interrupted) as e:
        runner.say(f"try: interrupted ({e or 'SIGINT'}); stopping the cluster")
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        status = 130
    finally:
        runner.finish()
    minutes, seconds = divmod(int(time.monotonic() - began), 60)
    runner.say(
        f"try: {runner.passed} passed, {runner.failed} failed, {runner.skipped} skipped "
        f"in {minutes} min {seconds} s (transcript: {log_path.relative_to(ROOT)})"
    )
    for s in runner.skips:
        runner.say(f"   skipped {s}")
    for f in runner.failures:
        runner.say(f"   FAILED  {f}")
    if status:
        return status
    return 1 if runner.failed else 0


if __name__ == "__main__":
    sys.exit(main())
