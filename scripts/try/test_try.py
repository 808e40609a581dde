#!/usr/bin/env python3
"""Tests of the Try-it runner itself (no cluster needed): the format parser, the shell session, the
process bookkeeping. `make try` runs them first; `python3 scripts/try/test_try.py` runs them alone."""

from __future__ import annotations

import os
import sys
import tempfile
import textwrap
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import procs  # noqa: E402
from book import BookError, load_book, parse_chapter  # noqa: E402
from run import select  # noqa: E402
from session import Session  # noqa: E402

CHAPTER = """\
# A chapter

```console
$ echo not a try-it
```

<!-- try: cluster=single needs=a.md -->

## Try it

Some text.

```console
$ export X=1
$ for i in 1 2; do
>   echo $i
> done
1
2
$ cat > /tmp/f <<'EOF'
a=1
$ not a command
EOF
$ grep a /tmp/f
a=1
```

<!-- try-expect: ^1$ -->
<!-- try-expect-not: error -->

<!-- try-timeout: 5 -->

```sh
$ not run
```

### Try it: more

```console
$ false
```
<!-- try-expect-fail -->
<!-- try-expect: . -->
<!-- try-requires: perf xxd -->

## Exercises

```console
$ not run either
```
"""


def write_book(chapters: dict[str, str]) -> Path:
    src = Path(tempfile.mkdtemp())
    summary = "# Summary\n\n" + "".join(f"- [{name}]({name})\n" for name in chapters)
    (src / "SUMMARY.md").write_text(summary)
    for name, text in chapters.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(text)
    return src


class FormatTest(unittest.TestCase):
    def test_blocks_commands_and_annotations(self):
        src = write_book({"a.md": "# A\n", "c.md": CHAPTER})
        chapter = parse_chapter(src, "c.md")
        self.assertEqual(chapter.profile, "single")
        self.assertEqual(chapter.needs, ["a.md"])
        self.assertEqual(len(chapter.blocks), 2)
        first, second = chapter.blocks
        self.assertEqual(first.line, 13)
        self.assertEqual(first.heading, "Try it")
        texts = [c.text for c in first.commands]
        self.assertEqual(
            texts,
            [
                "export X=1",
                "for i in 1 2; do\n  echo $i\ndone",
                "cat > /tmp/f <<'EOF'\na=1\n$ not a command\nEOF",
                "grep a /tmp/f",
            ],
        )
        self.assertEqual([c.line for c in first.commands], [14, 15, 20, 24])
        self.assertEqual(first.expect, ["^1$"])
        self.assertEqual(first.expect_not, ["error"])
        self.assertEqual(first.timeout_s, 5)
        self.assertFalse(first.expect_fail)
        self.assertEqual(second.heading, "Try it: more")
        self.assertTrue(second.expect_fail)
        self.assertEqual(second.requires, ["perf", "xxd"])

    def test_mistakes_are_refused_with_their_line(self):
        cases = {
            "## Try it\n\n```console\n$ true\n```\n": "without an expectation",
            "## Try it\n\n```console\n$ true\n```\n<!-- try-expext: x -->\n": "unknown annotation try-expext",
            "## Try it\n\ntext\n\n<!-- try-expect: x -->\n": "must follow a console block",
            "## Try it\n\n```console\n$ true\n```\nText.\n<!-- try-expect: x -->\n": "must follow a console block",
            "## Try it\n\n```console\n$ true\n```\n<!-- try-expect: ( -->\n": "bad regular expression",
            "## Try it\n\n```console\n$ cat <<EOF\nx\n```\n<!-- try-expect: x -->\n": "without its terminator",
            "<!-- try: cluster=huge -->\n": "bad try directive",
        }
        for text, message in cases.items():
            src = write_book({"c.md": text, "ok.md": CHAPTER.replace("needs=a.md", "")})
            chapters, errors = load_book(src)
            self.assertEqual([c.path for c in chapters], ["ok.md"], msg=text)
            self.assertIn(message, errors["c.md"])
            self.assertIn("c.md:", errors["c.md"])

    def test_needs_are_pulled_in_in_book_order(self):
        src = write_book({"a.md": "# A\n", "b.md": "# B\n", "c.md": CHAPTER})
        chapters, errors = load_book(src)
        self.assertEqual(errors, {})
        self.assertEqual([c.path for c in select(chapters, ["c.md"], errors)], ["a.md", "c.md"])
        with self.assertRaises(BookError):
            select(chapters, ["nope.md"], errors)

    def test_the_real_book_parses(self):
        chapters, errors = load_book(Path(__file__).resolve().parents[2] / "book/src")
        self.assertEqual(errors, {})
        self.assertTrue(any(c.blocks for c in chapters))


class SessionTest(unittest.TestCase):
    def setUp(self):
        self.session = Session(tempfile.gettempdir(), dict(os.environ, TERM="dumb"))

    def tearDown(self):
        self.session.close()

    def test_output_status_and_state_carry_over(self):
        r = self.session.run("x=42; echo out; echo err >&2", 5)
        self.assertEqual((r.output, r.rc), ("out\nerr\n", 0))
        self.assertEqual(self.session.run("echo $x; false", 5).rc, 1)
        self.assertEqual(self.session.run("echo $x", 5).output, "42\n")
        self.assertEqual(self.session.run("printf 'no newline'", 5).output, "no newline")
        self.assertEqual(self.session.run(r"printf '\033[33m WARN\033[0m x\n'", 5).output, " WARN x\n")
        heredoc = self.session.run("cat <<'EOF'\n$x stays\nEOF", 5)
        self.assertEqual(heredoc.output, "$x stays\n")

    def test_a_hanging_command_is_interrupted_and_the_shell_goes_on(self):
        r = self.session.run("sleep 30", 1)
        self.assertTrue(r.timed_out)
        self.assertIsNone(r.rc)
        self.assertLess(r.seconds, 10)
        self.assertEqual(self.session.run("echo still here", 5).output, "still here\n")

    def test_job_control_ends_a_whole_background_job(self):
        r = self.session.run("(sleep 300; echo never) & echo started", 5)
        self.assertIn("started", r.output)
        pids = procs.descendants(self.session.pid)
        self.assertTrue(pids)
        self.session.run("kill %1; wait", 5)
        time.sleep(0.2)
        self.assertEqual(procs.descendants(self.session.pid), [])


class ProcsTest(unittest.TestCase):
    def test_orphans_stay_descendants_and_are_ended(self):
        self.assertTrue(procs.become_subreaper())
        reaper = procs.Reaper()
        try:
            done = reaper.run(["bash", "-c", "sleep 300 >/dev/null & echo $!"], stdout=-1, text=True)
            orphan = int(done.stdout)
            self.assertIn(orphan, procs.descendants(os.getpid()))
            self.assertEqual(procs.kill_all([orphan]), [orphan])
            for _ in range(30):
                if procs.state(orphan) is None:
                    break
                time.sleep(0.1)
            self.assertIsNone(procs.state(orphan), "the reaper collects the adopted child")
        finally:
            reaper.stop.set()


if __name__ == "__main__":
    unittest.main(verbosity=1)
