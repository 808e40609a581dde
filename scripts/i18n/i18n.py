#!/usr/bin/env python3
"""The gettext workflow of the book's translations (po/README.md explains it to translators).

mdbook-xgettext (from mdbook-i18n-helpers) extracts every paragraph, heading, list item, table cell
and mermaid diagram of book/src into po/messages.pot; po/<lang>.po holds a translation;
mdbook-gettext swaps the translations in when the book is built with book.language = <lang>. This
script wraps the steps so the Makefile and CI call them the same way:

    i18n.py extract OUT.pot     extract the template (filtered, see below) into OUT.pot
    i18n.py check-pot           fail when po/messages.pot is not what extract writes now
    i18n.py update              rewrite po/messages.pot, then msgmerge it into every po/*.po
                                (a changed English paragraph becomes a fuzzy entry there)
    i18n.py stats [--strict]    msgfmt --statistics of each po/*.po and coverage per chapter;
                                --strict fails on any untranslated or fuzzy entry
    i18n.py links DIR [EN_DIR]  every relative link of the HTML book in DIR resolves, #fragments
                                included; with EN_DIR, every anchor of an English page exists in
                                its twin in DIR (so links and the language switch keep working)
    i18n.py export LANG CHAPTER OUT   the untranslated/fuzzy entries of one chapter, for a translator
    i18n.py import LANG FILE          put the translations of an exported file into po/LANG.po
    i18n.py terms               translated messages that skip a term of book/src/terms-zh.md (report)
    i18n.py build LANG OUT      build the LANG edition of the book into OUT
    i18n.py preprocess          the mdBook preprocessor run after mdbook-gettext (see preprocess())

Extraction runs without mdBook's default preprocessors, so {{#include}} listings are not expanded: the
code shown in the book never enters the template (the crates change without touching the .pot), and
the gettext preprocessor runs before `links` (see the Makefile), so a translated page includes the
same listings. Whole ```console and ```text blocks (commands and their output) and messages with no
prose outside `code` (identifiers, numbers, an {{#include}} line) are dropped from the template:
mdbook-gettext leaves a message it does not find as it is, which is what they need.
"""

from __future__ import annotations

import argparse
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[2]
MDBOOK = os.environ.get("MDBOOK", "mdbook")
MDBOOK_XGETTEXT = os.environ.get("MDBOOK_XGETTEXT", "mdbook-xgettext")
# Fenced blocks whose whole text is a message: only mermaid diagrams carry prose (their labels).
DROPPED_FENCES = re.compile(r"^```(console|text|sh|bash|shell|json|properties|toml|xml|)\s*(\n|$)")


# --- a small PO reader/writer (gettext's own tools do the merging; this only reads and fills) ---


@dataclass
class Entry:
    """One message of a PO file, with the comment lines kept as they are."""

    comments: list[str] = field(default_factory=list)  # "#: ...", "#, fuzzy", "#| msgid ...", ...
    msgid: str = ""
    msgstr: str = ""
    obsolete: bool = False

    @property
    def fuzzy(self) -> bool:
        return any(c.startswith("#,") and "fuzzy" in c for c in self.comments)

    @property
    def sources(self) -> list[str]:
        return [s for c in self.comments if c.startswith("#:") for s in c[2:].split()]

    def set_translation(self, msgstr: str) -> None:
        self.msgstr = msgstr
        kept = []
        for c in self.comments:
            if c.startswith("#|"):
                continue  # the previous msgid of a fuzzy entry: no longer needed
            if c.startswith("#,"):
                flags = [f.strip() for f in c[2:].split(",") if f.strip() and f.strip() != "fuzzy"]
                if not flags:
                    continue
                c = "#, " + ", ".join(flags)
            kept.append(c)
        self.comments = kept


def _unquote(s: str) -> str:
    return json.loads(s) if "\\" in s else s[1:-1]


def _po_string(value: str) -> str:
    out = value.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t")
    return out.replace("\n", "\\n")


def read_po(path: Path) -> list[Entry]:
    entries: list[Entry] = []
    cur = Entry()
    field_name = None

    def flush():
        nonlocal cur
        if field_name is not None or cur.comments:
            entries.append(cur)
        cur = Entry()

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].lstrip()
            if line.startswith("|"):
                cur.comments.append("#~" + raw[2:])
                continue
        if not line.strip():
            if field_name is not None:
                flush()
                field_name = None
            continue
        if line.startswith("#") and not obsolete:
            if field_name is not None:
                flush()
                field_name = None
            cur.comments.append(line)
            continue
        cur.obsolete = cur.obsolete or obsolete
        if line.startswith("msgid "):
            field_name = "msgid"
            cur.msgid = _unquote(line[6:].strip())
        elif line.startswith("msgstr "):
            field_name = "msgstr"
            cur.msgstr = _unquote(line[7:].strip())
        elif line.startswith('"') and field_name:
            setattr(cur, field_name, getattr(cur, field_name) + _unquote(line.strip()))
        else:
            raise SystemExit(f"{path}: cannot read line: {raw!r}")
    if field_name is not None:
        flush()
    return entries


def write_po(path: Path, entries: list[Entry]) -> None:
    """Writes entries, then lets msgcat wrap them the way msgmerge does (so diffs stay small)."""
    out = []
    for e in entries:
        lines = list(e.comments)
        prefix = "#~ " if e.obsolete else ""
        for name in ("msgid", "msgstr"):
            value = getattr(e, name)
            parts = value.split("\n")
            chunks = [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
            if len(chunks) <= 1:
                lines.append(f'{prefix}{name} "{_po_string(value)}"')
            else:
                lines.append(f'{prefix}{name} ""')
                lines += [f'{prefix}"{_po_string(c)}"' for c in chunks]
        out.append("\n".join(lines))
    tmp = path.with_suffix(".tmp.po")
    tmp.write_text("\n\n".join(out) + "\n", encoding="utf-8")
    run(["msgcat", "--width=79", "-o", str(path), str(tmp)])
    tmp.unlink()


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, text=True, **kw)


# --- extract / check-pot / update ---


def prose_free(msgid: str) -> bool:
    """True for a message a translator has nothing to do with (see the module comment)."""
    if msgid.startswith("```"):
        return DROPPED_FENCES.match(msgid) is not None
    rest = re.sub(r"`[^`]*`", " ", msgid)
    rest = re.sub(r"\{\{#[a-z_]+ [^}]*\}\}", " ", rest)
    rest = re.sub(r"\]\([^)]*\)", "]", rest)
    return re.search(r"[a-z]{2}", rest) is None


def extract(out: Path, root: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        env["MDBOOK_BUILD__USE_DEFAULT_PREPROCESSORS"] = "false"  # keep {{#include}} unexpanded
        env["MDBOOK_OUTPUT"] = json.dumps(
            {"xgettext": {"command": MDBOOK_XGETTEXT, "pot-file": "messages.pot", "granularity": 0}}
        )
        run([MDBOOK, "build", "-d", tmp, str(root)], env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        entries = read_po(Path(tmp) / "messages.pot")
    header, body = entries[0], entries[1:]
    # The creation date would make every extraction differ (the template's history is in git), but
    # mdbook-gettext's PO reader needs the key: keep it, empty.
    header.msgstr = "".join(
        ("POT-Creation-Date: " if line.startswith("POT-Creation-Date") else line) + "\n"
        for line in header.msgstr.splitlines()
    )
    kept = add_skipped_diagrams([e for e in body if not prose_free(e.msgid)], root)
    write_po(out, [header] + kept)
    return len(kept)


MERMAID_BLOCK = re.compile(r"^```mermaid[ \t]*\n.*?^```[ \t]*$", re.M | re.S)


def add_skipped_diagrams(entries: list[Entry], root: Path) -> list[Entry]:
    """Adds the mermaid diagrams mdbook-xgettext skipped to the template.

    mdbook-xgettext 0.4 extracts a fenced block only when its text holds a double-quoted string, so
    a diagram whose labels are bare words (`A[commit log] -->|reads| B`) would never be translated.
    Each such block of a chapter that has messages becomes one message, its whole text as the
    msgid (what mdbook-xgettext gives a quoted diagram), placed after the messages that precede it
    in its chapter. mdbook-gettext leaves these blocks alone in a translated build, so
    translate_diagrams() (run by `preprocess`) swaps their translations in.
    """
    files: list[str] = []
    for e in entries:
        for s in e.sources:
            if chapter_of(s) not in files and s.split(":")[0].startswith("book/src/"):
                files.append(chapter_of(s))
    by_id = {e.msgid: e for e in entries}
    for chapter in files:
        text = (root / "book" / "src" / chapter).read_text(encoding="utf-8")
        source = f"book/src/{chapter}"
        for m in MERMAID_BLOCK.finditer(text):
            block = m.group(0).rstrip(" \t")
            if block in by_id:
                entry = by_id[block]
                if source not in entry.sources:
                    entry.comments = [c for c in entry.comments if not c.startswith("#:")] + \
                        ["#: " + " ".join(entry.sources + [source])]
                continue
            # After the last message of this chapter found before the block. The chapter's messages
            # are looked up in order, each after the one before, by their first words (the extracted
            # text is reflowed) at the start of a line or a table cell, so a short cell ("broker")
            # does not match a word of a paragraph. A message shared with an earlier chapter sits
            # there in the template, out of this chapter's order: only its own messages count.
            at, cursor = None, 0
            for i, e in enumerate(entries):
                if not e.sources or chapter_of(e.sources[0]) != chapter:
                    continue
                at = i if at is None else at
                words = e.msgid.split()
                # A short message (a cell, a heading) must end where its cell or line ends.
                end = r"(?=[ \t*_]*(?:\||\{|$))" if len(words) <= 6 else ""
                found = re.compile(r"(?:^|\|)[ \t#>*+\-\d.]*(" + r"\s+".join(map(re.escape, words[:6])) + ")"
                                   + end, re.M).search(text, cursor) if words else None
                if found and found.start(1) < m.start():
                    at, cursor = i + 1, found.end()
            entry = Entry(comments=[f"#: {source}"], msgid=block)
            entries.insert(len(entries) if at is None else at, entry)
            by_id[block] = entry
    return entries


def check_pot(root: Path) -> int:
    pot = root / "po" / "messages.pot"
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "messages.pot"
        extract(fresh, root)
        if pot.exists() and pot.read_text(encoding="utf-8") == fresh.read_text(encoding="utf-8"):
            print(f"i18n: po/messages.pot is current ({len(read_po(pot)) - 1} messages)")
            return 0
        old = {e.msgid for e in read_po(pot)} if pot.exists() else set()
        new = {e.msgid for e in read_po(fresh)}
    print("i18n: po/messages.pot is out of date with book/src "
          f"({len(new - old)} new messages, {len(old - new)} gone); for example:")
    for m in sorted(new - old)[:5]:
        print("  new: " + m[:100].replace("\n", " "))
    for m in sorted(old - new)[:5]:
        print("  gone: " + m[:100].replace("\n", " "))
    print("Run `make i18n-update` and commit po/: changed English paragraphs become fuzzy in po/zh-CN.po.")
    return 1


def languages(root: Path) -> list[str]:
    return sorted(p.stem for p in (root / "po").glob("*.po"))


def update(root: Path) -> int:
    pot = root / "po" / "messages.pot"
    n = extract(pot, root)
    print(f"i18n: po/messages.pot: {n} messages")
    for lang in languages(root):
        po = root / "po" / f"{lang}.po"
        run(["msgmerge", "--quiet", "--update", "--backup=none", "--previous", "--width=79",
             "--lang", lang, str(po), str(pot)])
        print(f"i18n: merged into po/{lang}.po")
    return 0


# --- stats ---


def chapter_of(source: str) -> str:
    return source.split(":")[0].removeprefix("book/src/")


def stats(root: Path, strict: bool, per_chapter: bool) -> int:
    status = 0
    for lang in languages(root):
        po = root / "po" / f"{lang}.po"
        res = subprocess.run(["msgfmt", "--check-format", "--statistics", "-o", os.devnull, str(po)],
                             text=True, capture_output=True, env={**os.environ, "LC_ALL": "C"})
        if res.returncode != 0:
            print(res.stderr, end="")
            return 1
        line = res.stderr.strip()
        print(f"i18n: po/{lang}.po: {line}")
        entries = [e for e in read_po(po)[1:] if not e.obsolete]
        if per_chapter:
            chapters: dict[str, list[int]] = {}
            for e in entries:
                for ch in {chapter_of(s) for s in e.sources}:
                    done = 1 if e.msgstr and not e.fuzzy else 0
                    row = chapters.setdefault(ch, [0, 0, 0])
                    row[0] += done
                    row[1] += 1 if e.fuzzy else 0
                    row[2] += 1
            for ch, (done, fuzzy, total) in sorted(chapters.items()):
                mark = "done" if done == total else f"{100 * done // total:3d}%"
                print(f"    {mark:>5}  {ch}: {done}/{total} translated" + (f", {fuzzy} fuzzy" if fuzzy else ""))
        missing = sum(1 for e in entries if not e.msgstr or e.fuzzy)
        if missing:
            if strict:
                print(f"i18n: po/{lang}.po has {missing} untranslated or fuzzy messages (I18N_STRICT=1): "
                      "translate them (python3 scripts/i18n/i18n.py export, po/README.md)")
                status = 1
            else:
                print(f"i18n: po/{lang}.po has {missing} untranslated or fuzzy messages "
                      "(reported only: I18N_STRICT=0)")
    return status


# --- terms: the two-column glossary used consistently ---


def term_pairs(root: Path) -> list[tuple[str, str]]:
    """(English term, zh-CN term) from the table of book/src/terms-zh.md. A cell may name several
    terms ("SYNC_FLUSH, ASYNC_FLUSH" / "同步刷盘，异步刷盘"); a parenthesis in the zh-CN cell is the
    word given at first use, so only the part before it must appear."""
    pairs = []
    for line in (root / "book" / "src" / "terms-zh.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or cells[0] in ("English", "") or set(cells[0]) <= set("-"):
            continue
        en = re.sub(r"\[([^]]*)\]\([^)]*\)", r"\1", cells[0])
        en = re.sub(r"\s*\(.*?\)", "", en).replace('"', "")
        ens = [e.strip() for e in en.split(",") if e.strip()]
        zhs = [z.strip() for z in re.split(r"[，,](?![^（]*）)", cells[1]) if z.strip()]
        if len(ens) != len(zhs):
            ens, zhs = ens[:1], zhs[:1]
        for e, z in zip(ens, zhs):
            # "CommitLog（消息存储文件）": the text may use either the name or the Chinese word.
            forms = [f.strip() for f in re.split(r"[（）]", z) if f.strip()]
            if e.lower() not in (f.lower() for f in forms):
                pairs.append((e, forms))
    return sorted(pairs, key=lambda p: -len(p[0]))


def terms(root: Path, lang: str, limit: int) -> int:
    """Reports translated messages whose English text uses a term of the table while the
    translation has neither its zh-CN term nor the English word. Report-only: a sentence can
    rightly say it another way, so a person decides."""
    pairs = term_pairs(root)
    misses = []
    for e in read_po(root / "po" / f"{lang}.po")[1:]:
        if e.obsolete or e.fuzzy or not e.msgstr:
            continue
        prose = re.sub(r"`[^`]*`|\]\([^)]*\)|<[^>]+>", " ", e.msgid)
        for en, forms in pairs:  # longest first; a matched term is blanked out for shorter ones
            # An all-capital name (HA, ACL) is matched as written; a word also in its plural.
            plural, flags = ("", 0) if en.isupper() else ("(?:s|es)?", re.I)
            pattern = re.compile(rf"(?<![\w-]){re.escape(en)}{plural}(?![\w-])", flags)
            if not pattern.search(prose):
                continue
            prose = pattern.sub(" ", prose)
            if not any(f in e.msgstr for f in forms) and en.lower() not in e.msgstr.lower():
                misses.append(f"{en} -> {' / '.join(forms)}: {e.msgstr[:60]!r}")
    for m in misses[:limit]:
        print("  " + m)
    print(f"i18n: terms: {len(pairs)} terms of book/src/terms-zh.md; {len(misses)} translated messages "
          "use an English term without its zh-CN term (reported only)")
    return 0


# --- links ---


class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if a.get(key):
                self.ids.add(a[key])
        for key in ("href", "src"):
            if a.get(key) and (tag != "link" or key == "href"):
                self.refs.append(a[key])


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


def links(book: Path, en_book: Path | None) -> int:
    pages = {p: _parse(p) for p in book.rglob("*.html")}
    # The English edition lives one level up when the zh-CN one is built into target/book/zh-CN.
    broken = []
    outside = 0
    for page_path, page in pages.items():
        if page_path.name in ("print.html", "404.html", "toc.html"):
            continue  # print.html repeats every page; 404.html uses site-url; toc.html is the sidebar
        for ref in page.refs:
            parts = urlsplit(ref)
            if parts.scheme or ref.startswith("//") or ref.startswith("mailto:"):
                continue
            target = page_path if not parts.path else (page_path.parent / unquote(parts.path)).resolve()
            if not target.is_relative_to(book):
                outside += 1  # a link into the repository (a source file): not part of the built book
                continue
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page_path.relative_to(book)}: {ref} (no such file)")
                continue
            if parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{page_path.relative_to(book)}: {ref} (no such anchor)")
    # Emphasis that did not render: CommonMark does not close `**` after a full-width bracket that
    # is followed by a letter, nor `_` inside a word, and Chinese has no spaces to end words.
    for page_path in pages:
        if page_path.name in ("print.html", "404.html", "toc.html"):
            continue
        text = page_path.read_text(encoding="utf-8", errors="replace")
        main = re.search(r"<main>(.*)</main>", text, re.S)
        body = re.sub(r"<(pre|code)[^>]*>.*?</\1>", "", main.group(1) if main else "", flags=re.S)
        body = re.sub(r"<[^>]+>", "", body)
        last_hit = -100
        for m in re.finditer(r"\*\*|(?<=[\u3000-\u9fff\uff00-\uffef])[_*]|[_*](?=[\u3000-\u9fff\uff00-\uffef])", body):
            if m.start() < last_hit + 40:
                continue  # the closing marker of the same phrase
            last_hit = m.start()
            around = body[max(m.start() - 15, 0):m.end() + 25].replace("\n", " ")
            broken.append(f"{page_path.relative_to(book)}: emphasis marker shown as text: ...{around}...")
    missing = []
    if en_book:
        for en_path in en_book.rglob("*.html"):
            rel = en_path.relative_to(en_book)
            if rel.parts[0] == book.name or rel.name in ("print.html", "404.html", "toc.html"):
                continue
            twin = book / rel
            if not twin.exists():
                missing.append(f"{rel}: no twin page")
                continue
            lost = sorted(_parse(en_path).ids - pages[twin.resolve()].ids)
            if lost:
                missing.append(f"{rel}: anchors missing in the translation: {', '.join(lost[:6])}"
                               + (" ..." if len(lost) > 6 else ""))
    for line in broken + missing:
        print("  " + line)
    if broken or missing:
        print(f"i18n: {book}: {len(broken)} broken links, {len(missing)} pages whose twin lacks anchors "
              "(a translated heading keeps its English anchor: `标题 {#english-anchor}`)")
        return 1
    print(f"i18n: {book}: {len(pages)} pages, every link and anchor resolves ({outside} links into the "
          "repository not followed)"
          + (", every English anchor has a twin" if en_book else ""))
    return 0


# --- export / import: batches for a translator ---


def export(root: Path, lang: str, chapter: str, out: Path) -> int:
    entries = read_po(root / "po" / f"{lang}.po")[1:]
    n = 0
    with out.open("w", encoding="utf-8") as f:
        for e in entries:
            if e.obsolete or (e.msgstr and not e.fuzzy):
                continue
            if chapter not in {chapter_of(s) for s in e.sources}:
                continue
            f.write(f"@@@ {json.dumps(e.msgid, ensure_ascii=False)}\n{e.msgstr if e.fuzzy else ''}\n")
            n += 1
    print(f"i18n: {n} messages of {chapter} to translate in {out}")
    return 0


def import_(root: Path, lang: str, batch: Path) -> int:
    po = root / "po" / f"{lang}.po"
    entries = read_po(po)
    by_id = {e.msgid: e for e in entries if not e.obsolete}
    text = batch.read_text(encoding="utf-8")
    filled = unknown = 0
    for chunk in re.split(r"^@@@ ", text, flags=re.M)[1:]:
        head, _, body = chunk.partition("\n")
        msgid = json.loads(head)
        msgstr = body.rstrip("\n")
        if not msgstr.strip():
            continue
        if msgid.endswith("\n") and not msgstr.endswith("\n"):
            msgstr += "\n"
        entry = by_id.get(msgid)
        if entry is None:
            unknown += 1
            print("  not in the catalogue: " + msgid[:80].replace("\n", " "))
            continue
        entry.set_translation(msgstr)
        filled += 1
    write_po(po, entries)
    print(f"i18n: {filled} translations into po/{lang}.po" + (f", {unknown} unknown" if unknown else ""))
    return 1 if unknown else 0


# --- build a translated edition ---


def build(root: Path, lang: str, out: Path) -> int:
    """mdbook build with book.language = LANG: mdbook-gettext runs before `links`, so it sees the
    {{#include}} lines as the template has them and the listings are expanded after it."""
    env = dict(os.environ)
    env["MDBOOK_BOOK__LANGUAGE"] = lang
    # mdbook-gettext renders fuzzy entries too, and msgmerge's fuzzy guesses for new paragraphs are
    # often another paragraph's translation (with another heading's anchor). The build reads a copy
    # without them, so a changed or new paragraph shows in English until it is translated.
    po_dir = (root / "target" / "i18n-po").resolve()
    po_dir.mkdir(parents=True, exist_ok=True)
    run(["msgattrib", "--no-fuzzy", "-o", str(po_dir / f"{lang}.po"), str(root / "po" / f"{lang}.po")])
    env["MDBOOK_PREPROCESSOR__GETTEXT"] = json.dumps(
        {"command": os.environ.get("MDBOOK_GETTEXT", "mdbook-gettext"), "before": ["links"],
         "po-dir": str(po_dir)})
    env["MDBOOK_PREPROCESSOR__I18N_TITLES"] = json.dumps(
        {"command": f"{sys.executable} {Path(__file__).resolve()} preprocess", "after": ["gettext"]})
    run([MDBOOK, "build", "-d", str(out.resolve()), str(root)], env=env)
    return 0


# --- an mdBook preprocessor run after mdbook-gettext ---


TITLE_ANCHOR = re.compile(r"\s*\{#[A-Za-z0-9_-]+\}\s*$")
HEADING_ANCHOR = re.compile(r"^(#{1,6} .*?\{#)([A-Za-z0-9_-]+)(\}\s*)$")


def unique_anchors(content: str) -> str:
    """Numbers a repeated `{#id}` of one page the way mdBook numbers repeated headings (`id-1`, ...).

    Two English headings with the same text ("Retention" in the idea and in the code tour) are one
    message, so both translations carry the same `{#retention}`; mdBook would give the second
    `retention-1`, and so does this.
    """
    seen: dict[str, int] = {}
    out = []
    fence = None
    for line in content.split("\n"):
        m = re.match(r"^\s*(`{3,}|~{3,})", line)
        if m and (fence is None or m.group(1).startswith(fence)):
            fence = None if fence else m.group(1)
        h = HEADING_ANCHOR.match(line) if fence is None else None
        if h:
            n = seen.get(h.group(2), 0)
            seen[h.group(2)] = n + 1
            if n:
                line = f"{h.group(1)}{h.group(2)}-{n}{h.group(3)}"
        out.append(line)
    return "\n".join(out)


def translate_diagrams(content: str, translations: dict[str, str]) -> str:
    """Swaps in the translation of every mermaid block whose whole text is a translated message:
    the diagrams mdbook-gettext leaves alone because mdbook-xgettext skipped them (see
    add_skipped_diagrams)."""
    if not translations:
        return content
    return MERMAID_BLOCK.sub(lambda m: translations.get(m.group(0).rstrip(" \t"), m.group(0)), content)


def diagram_translations(context: dict) -> dict[str, str]:
    """The translated (non-fuzzy) mermaid messages of the PO file mdbook-gettext reads."""
    config = context.get("config", {})
    lang = config.get("book", {}).get("language")
    po_dir = config.get("preprocessor", {}).get("gettext", {}).get("po-dir")
    if not lang or not po_dir:
        return {}
    po = Path(context.get("root", ".")) / po_dir / f"{lang}.po"
    if not po.exists():
        return {}
    return {e.msgid: e.msgstr for e in read_po(po)[1:]
            if e.msgid.startswith("```mermaid") and e.msgstr and not e.fuzzy and not e.obsolete}


def preprocess(argv: list[str]) -> int:
    """Swaps in the translations of the diagrams mdbook-gettext skips (translate_diagrams), strips a translated heading's `{#english-anchor}` from chapter names and part titles, and
    numbers repeated anchors of a page (unique_anchors).

    The message of a chapter's title is also its name in SUMMARY.md, so the translation
    `崩溃恢复 {#crash-recovery}` would show the anchor in the sidebar, the page title and the
    breadcrumbs. mdBook asks `... supports <renderer>` first (any renderer is fine), then sends
    [context, book] as JSON on stdin and reads the book back on stdout.
    """
    if argv[:1] == ["supports"]:
        return 0
    context, book = json.load(sys.stdin)
    diagrams = diagram_translations(context)

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "Chapter" and isinstance(value, dict) and isinstance(value.get("name"), str):
                    value["name"] = TITLE_ANCHOR.sub("", value["name"])
                    if isinstance(value.get("content"), str):
                        value["content"] = unique_anchors(translate_diagrams(value["content"], diagrams))
                if key == "PartTitle" and isinstance(value, str):
                    node[key] = TITLE_ANCHOR.sub("", value)
                else:
                    walk(node[key])
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(book)
    json.dump(book, sys.stdout)
    return 0


def main() -> int:
    if sys.argv[1:2] == ["preprocess"]:
        return preprocess(sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, default=ROOT, help="the repository (or a copy of book.toml, book/, po/)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("extract")
    p.add_argument("out", type=Path)
    sub.add_parser("check-pot")
    sub.add_parser("update")
    p = sub.add_parser("stats")
    p.add_argument("--strict", action="store_true")
    p.add_argument("--per-chapter", action="store_true")
    p = sub.add_parser("links")
    p.add_argument("book", type=Path)
    p.add_argument("en_book", type=Path, nargs="?")
    p = sub.add_parser("terms")
    p.add_argument("--lang", default="zh-CN")
    p.add_argument("--limit", type=int, default=10)
    p = sub.add_parser("build")
    p.add_argument("lang")
    p.add_argument("out", type=Path)
    p = sub.add_parser("export")
    p.add_argument("lang")
    p.add_argument("chapter")
    p.add_argument("out", type=Path)
    p = sub.add_parser("import")
    p.add_argument("lang")
    p.add_argument("batch", type=Path)
    a = ap.parse_args()
    root = a.root.resolve()
    if a.cmd == "extract":
        print(f"i18n: {extract(a.out, root)} messages in {a.out}")
        return 0
    if a.cmd == "check-pot":
        return check_pot(root)
    if a.cmd == "update":
        return update(root)
    if a.cmd == "stats":
        return stats(root, a.strict, a.per_chapter)
    if a.cmd == "links":
        return links(a.book.resolve(), a.en_book.resolve() if a.en_book else None)
    if a.cmd == "terms":
        return terms(root, a.lang, a.limit)
    if a.cmd == "build":
        return build(root, a.lang, a.out)
    if a.cmd == "export":
        return export(root, a.lang, a.chapter, a.out)
    return import_(root, a.lang, a.batch)


if __name__ == "__main__":
    sys.exit(main())
