#!/usr/bin/env python3
"""Tests of the translation workflow (scripts/i18n/i18n.py), run by `make book-check`.

The main one edits an English paragraph of a translated chapter in a copy of the book, runs the same
`update` step a writer runs (mdbook-xgettext, then msgmerge), and checks that the translation became
fuzzy: kept, flagged, with the previous English beside it, counted by `stats`, refused by
`stats --strict`, and not shown in the zh-CN build (which shows the new English instead).
Needs mdbook, mdbook-xgettext, mdbook-gettext and gettext's msgmerge/msgfmt/msgcat (MDBOOK,
MDBOOK_XGETTEXT and MDBOOK_GETTEXT name the first three when they are not on PATH).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import i18n  # noqa: E402

ROOT = i18n.ROOT
CHAPTER = "introduction.md"  # translated first (po/README.md), so it has paragraphs to change
ZH = "zh-CN"


def copy_book(dst: Path) -> None:
    shutil.copy(ROOT / "book.toml", dst / "book.toml")
    shutil.copytree(ROOT / "book", dst / "book")
    shutil.copytree(ROOT / "po", dst / "po")


def first_paragraph_line(md: Path) -> tuple[int, str]:
    """The first line of the first plain paragraph after the chapter title."""
    lines = md.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if i > 0 and line and lines[i - 1] == "" and re.match(r"[A-Z][a-z]", line):
            return i, line
    raise AssertionError(f"no paragraph in {md}")


def entry_starting(entries: list[i18n.Entry], words: str) -> i18n.Entry:
    hits = [e for e in entries if not e.obsolete and e.msgid.startswith(words)]
    assert len(hits) == 1, f"{len(hits)} messages start with {words!r}"
    return hits[0]


class FuzzyOnChange(unittest.TestCase):
    def test_changed_paragraph_becomes_fuzzy(self):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            copy_book(root)
            md = root / "book" / "src" / CHAPTER
            idx, line = first_paragraph_line(md)
            words = " ".join(line.split()[:6])
            po = root / "po" / f"{ZH}.po"
            before = entry_starting(i18n.read_po(po), words)
            self.assertTrue(before.msgstr and not before.fuzzy,
                            f"{CHAPTER}: the paragraph {words!r}... must be translated for this test")

            # The writer changes one word of the paragraph, then runs `make i18n-update`.
            lines = md.read_text(encoding="utf-8").splitlines()
            lines[idx] = line.replace(" ", " really ", 1) if " " in line else line + " really"
            md.write_text("\n".join(lines) + "\n", encoding="utf-8")
            subprocess.run([sys.executable, str(Path(i18n.__file__)), "--root", str(root), "update"],
                           check=True, stdout=subprocess.DEVNULL)

            after = i18n.read_po(po)
            changed = entry_starting(after, " ".join(lines[idx].split()[:6]))
            self.assertTrue(changed.fuzzy, "msgmerge did not mark the changed paragraph fuzzy")
            self.assertEqual(changed.msgstr, before.msgstr, "the old translation must be kept for review")
            self.assertTrue(any(c.startswith("#| msgid") for c in changed.comments),
                            "the previous English text must be shown (#| msgid)")
            self.assertFalse([e for e in after if not e.obsolete and e.msgid == before.msgid])

            stats = lambda *a: subprocess.run(  # noqa: E731
                [sys.executable, str(Path(i18n.__file__)), "--root", str(root), "stats", *a],
                capture_output=True, text=True)
            lax, strict = stats(), stats("--strict")
            self.assertEqual(lax.returncode, 0, lax.stdout)
            self.assertRegex(lax.stdout, r"[1-9]\d* fuzzy translations?")
            self.assertEqual(strict.returncode, 1, strict.stdout)

            # A fuzzy entry is not used: the zh-CN page shows the new English paragraph.
            out = root / "zh"
            subprocess.run([sys.executable, str(Path(i18n.__file__)), "--root", str(root), "build", ZH,
                            str(out)], check=True, capture_output=True)
            page = (out / CHAPTER.replace(".md", ".html")).read_text(encoding="utf-8")
            self.assertIn(" ".join(lines[idx].split()[:6]), page)
            self.assertIn('lang="zh-CN"', page)


class UnquotedDiagram(unittest.TestCase):
    """mdbook-xgettext 0.4 skips a fenced block with no double-quoted string: a diagram with bare
    labels still reaches the template (add_skipped_diagrams) and shows translated in the zh-CN build
    (translate_diagrams, run by `preprocess` after mdbook-gettext)."""

    BLOCK = "```mermaid\nflowchart LR\n    A[commit log] -->|reput thread| B[consume queue]\n```"
    ZH_BLOCK = ('```mermaid\nflowchart LR\n    A["CommitLog 提交日志"] -->|"reput 线程"| '
                'B["ConsumeQueue 消费队列"]\n```')

    def test_unquoted_diagram_is_extracted_and_translated(self):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            copy_book(root)
            md = root / "book" / "src" / CHAPTER
            md.write_text(md.read_text(encoding="utf-8") + "\n" + self.BLOCK + "\n", encoding="utf-8")
            script = str(Path(i18n.__file__))
            subprocess.run([sys.executable, script, "--root", str(root), "update"], check=True,
                           stdout=subprocess.DEVNULL)
            pot = [e for e in i18n.read_po(root / "po" / "messages.pot") if e.msgid == self.BLOCK]
            self.assertEqual(len(pot), 1, "the unquoted diagram is not in the template")
            self.assertEqual(pot[0].sources, [f"book/src/{CHAPTER}"])
            po = root / "po" / f"{ZH}.po"
            self.assertEqual([e.msgstr for e in i18n.read_po(po) if e.msgid == self.BLOCK], [""])

            batch = root / "batch.txt"
            batch.write_text(f"@@@ {json.dumps(self.BLOCK)}\n{self.ZH_BLOCK}\n", encoding="utf-8")
            subprocess.run([sys.executable, script, "--root", str(root), "import", ZH, str(batch)],
                           check=True, stdout=subprocess.DEVNULL)
            out = root / "zh"
            subprocess.run([sys.executable, script, "--root", str(root), "build", ZH, str(out)], check=True,
                           capture_output=True)
            page = html.unescape((out / CHAPTER.replace(".md", ".html")).read_text(encoding="utf-8"))
            self.assertTrue('A["CommitLog 提交日志"] -->|"reput 线程"|' in page and "A[commit log]" not in page,
                            f"{CHAPTER}: the zh-CN page does not show the translated diagram")

    def test_only_a_whole_translated_block_is_replaced(self):
        page = f"text\n{self.BLOCK}\n\n```mermaid\nflowchart LR\n    X[other] --> Y\n```\n"
        done = i18n.translate_diagrams(page, {self.BLOCK: self.ZH_BLOCK})
        self.assertEqual(done, page.replace(self.BLOCK, self.ZH_BLOCK))
        self.assertEqual(i18n.translate_diagrams(page, {}), page)


class LanguageSwitch(unittest.TestCase):
    """The header link of a page leads to its twin, both ways (needs the two editions built by
    `make book-check` in target/book and Chromium to run the page's JavaScript)."""

    def test_switch_links_each_page_to_its_twin(self):
        book = ROOT / "target" / "book"
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if not (book / "zh-CN" / "index.html").exists() or chromium is None:
            self.skipTest("needs target/book and target/book/zh-CN (make book-check) and chromium")
        cases = {"part1/commitlog.html": "../zh-CN/part1/commitlog.html",
                 "zh-CN/part1/commitlog.html": "../../part1/commitlog.html",
                 "index.html": "zh-CN/index.html"}
        for page, twin in cases.items():
            dom = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
                                  (book / page).as_uri()], capture_output=True, text=True, timeout=120).stdout
            link = re.search(r'<a id="language-switch" href="([^"]+)"', dom)
            self.assertIsNotNone(link, f"{page}: no language switch in the header")
            self.assertEqual(link.group(1), twin, page)
            self.assertTrue((book / page).parent.joinpath(twin).resolve().exists(), twin)


class MermaidDiagrams(unittest.TestCase):
    """Every translated mermaid diagram still draws: Chromium runs the book's mermaid.js on a page
    holding all of them, and the page must end with one SVG per diagram (a diagram mermaid cannot
    parse stops the drawing, so it shows as a missing SVG)."""

    def test_translated_diagrams_render(self):
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if chromium is None:
            self.skipTest("needs chromium")
        blocks = [e.msgstr for e in i18n.read_po(ROOT / "po" / f"{ZH}.po")
                  if e.msgstr.startswith("```mermaid") and not e.fuzzy and not e.obsolete]
        if not blocks:
            self.skipTest("no translated mermaid diagram yet")
        theme = (ROOT / "book" / "theme").as_uri()
        body = "".join('<pre><code class="language-mermaid">'
                       + html.escape(b.split("\n", 1)[1].rsplit("```", 1)[0]) + "</code></pre>\n" for b in blocks)
        with tempfile.TemporaryDirectory() as tmp:
            page = Path(tmp) / "diagrams.html"
            page.write_text(f'<!DOCTYPE html><html><body>{body}<script src="{theme}/mermaid.min.js"></script>'
                            f'<script src="{theme}/mermaid-init.js"></script></body></html>', encoding="utf-8")
            dom = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
                                  "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=180).stdout
        drawn = len(re.findall(r'aria-roledescription="[a-zA-Z0-9-]+"', dom))
        self.assertNotIn("Syntax error", dom)
        self.assertEqual(drawn, len(blocks), "a translated mermaid diagram does not draw; check the last ones edited")


class Catalogue(unittest.TestCase):
    def test_po_files_round_trip(self):
        """read_po + write_po change nothing, so `import` touches only the entries it fills."""
        for path in (ROOT / "po").glob("*.po*"):
            with tempfile.TemporaryDirectory() as tmp:
                copy = Path(tmp) / path.name
                i18n.write_po(copy, i18n.read_po(path))
                self.assertEqual(copy.read_text(encoding="utf-8"), path.read_text(encoding="utf-8"), path)

    def test_repeated_anchors_are_numbered_as_mdbook_does(self):
        page = "## 文件保留时间 {#retention}\n```text\n## not a heading {#retention}\n```\n### 文件保留时间 {#retention}\n"
        self.assertEqual(i18n.unique_anchors(page), page.replace("### 文件保留时间 {#retention}",
                                                                   "### 文件保留时间 {#retention-1}"))

    def test_prose_free_messages_are_not_extracted(self):
        self.assertTrue(i18n.prose_free("```console\n$ mqadmin clusterList\n```"))
        self.assertTrue(i18n.prose_free("`SendMessageRequestHeader`"))
        self.assertTrue(i18n.prose_free("{{#include ../figures/footprint/footprint.md}}"))
        self.assertTrue(i18n.prose_free("10911"))
        self.assertFalse(i18n.prose_free('```mermaid\nflowchart LR\n  A["the book"] --> B\n```'))
        self.assertFalse(i18n.prose_free("bounds included"))
        self.assertFalse(i18n.prose_free("[CommitLog](part1/commitlog.md)"))


if __name__ == "__main__":
    unittest.main(verbosity=1)
