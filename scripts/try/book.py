"""Reads the Try-it blocks out of the book's chapters.

The book's format (book/TRY-IT.md explains it to authors): a Try-it is a ```console fenced block inside a
section whose heading starts with "Try it". Lines that start with `$ ` are commands; lines that start with
`> ` right after a command continue it (the shell's PS2 prompt); the body of a here-document belongs to
the command that opened it; every other line is sample output for the reader and is not checked. HTML
comments right after the block say what the block must show:

    <!-- try-expect: REGEX -->       re.search(REGEX, output, re.MULTILINE) must match
    <!-- try-expect-not: REGEX -->   ... must not match
    <!-- try-expect-fail -->         a command may exit non-zero (the expectations decide)
    <!-- try-timeout: SECONDS -->    time box for each command of the block (default 60)
    <!-- try-requires: perf ... -->  skip the block (counted) where a program is missing
    <!-- try-skip: REASON -->        skip the block (counted and printed; a last resort)

and a chapter may say, once, before its first block:

    <!-- try: cluster=full|single|acl|none needs=part1/index.md -->

Chapters are taken in SUMMARY.md order. Nothing here runs anything; run.py does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

PROFILES = ("full", "single", "acl", "none")
BLOCK_KEYS = ("expect", "expect-not", "expect-fail", "timeout", "requires", "skip")
DEFAULT_TIMEOUT_S = 60

FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
ANNOTATION = re.compile(r"^\s*<!--\s*try-([a-z-]+)\s*(?::\s*(.*?))?\s*-->\s*$")
CHAPTER_DIRECTIVE = re.compile(r"^\s*<!--\s*try:\s*(.*?)\s*-->\s*$")
HEREDOC = re.compile(r"<<(-?)\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")
SUMMARY_LINK = re.compile(r"\]\(([^)]+\.md)\)")


class BookError(Exception):
    """A chapter breaks the Try-it format; the message names the file and line."""


@dataclass
class Command:
    """One `$ ` command (with its continuation lines), as typed into the shell."""

    line: int  # 1-based line of the `$ ` in the chapter
    text: str  # what is sent to bash, continuation prompts removed


@dataclass
class Block:
    """One ```console block of a Try-it section and the annotations after it."""

    chapter: str  # path relative to book/src, e.g. part2/offsets.md
    line: int  # 1-based line of the opening fence
    heading: str  # the Try-it heading the block sits under
    commands: list[Command] = field(default_factory=list)
    expect: list[str] = field(default_factory=list)
    expect_not: list[str] = field(default_factory=list)
    expect_fail: bool = False
    timeout_s: int = DEFAULT_TIMEOUT_S
    requires: list[str] = field(default_factory=list)
    skip: str | None = None

    @property
    def where(self) -> str:
        return f"{self.chapter}:{self.line}"


@dataclass
class Chapter:
    """A chapter of SUMMARY.md with its Try-it blocks and the cluster it asks for."""

    path: str  # relative to book/src
    profile: str = "full"
    needs: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)


def summary_order(src: Path) -> list[str]:
    """The chapter files of SUMMARY.md, in reading order, each once."""
    seen: list[str] = []
    for line in (src / "SUMMARY.md").read_text(encoding="utf-8").splitlines():
        for target in SUMMARY_LINK.findall(line):
            target = target.split("#", 1)[0]
            if target not in seen:
                seen.append(target)
    return seen


def split_commands(body: list[tuple[int, str]], where: str) -> list[Command]:
    """The commands of a console block; `body` holds (line number, text) pairs without the fences."""
    commands: list[Command] = []
    current: list[str] | None = None
    start = 0
    heredoc: tuple[str, bool] | None = None  # (terminator, tabs stripped)
    for number, text in body:
        if heredoc is not None:
            current.append(text)  # type: ignore[union-attr]
            word, strip_tabs = heredoc
            if (text.lstrip("\t") if strip_tabs else text) == word:
                heredoc = None
            continue
        if text.startswith("$ ") or text == "$":
            if current is not None:
                commands.append(Command(start, "\n".join(current)))
            current, start = [text[2:]], number
        elif current is not None and (text.startswith("> ") or text == ">"):
            current.append(text[2:])
        else:
            if current is not None:
                commands.append(Command(start, "\n".join(current)))
            current = None
            continue
        match = HEREDOC.search(current[-1])
        if match and "<<<" not in current[-1]:
            heredoc = (match.group(3), match.group(1) == "-")
    if heredoc is not None:
        raise BookError(f"{where}: here-document without its terminator {heredoc[0]!r}")
    if current is not None:
        commands.append(Command(start, "\n".join(current)))
    return [c for c in commands if c.text.strip()]


def apply_annotation(block: Block, key: str, value: str | None, where: str) -> None:
    if key not in BLOCK_KEYS:
        raise BookError(f"{where}: unknown annotation try-{key} (known: {', '.join(BLOCK_KEYS)})")
    needs_value = key in ("expect", "expect-not", "timeout", "requires", "skip")
    if needs_value and not value:
        raise BookError(f"{where}: try-{key} needs a value, e.g. <!-- try-{key}: ... -->")
    if key in ("expect", "expect-not"):
        try:
            re.compile(value)  # type: ignore[arg-type]
        except re.error as e:
            raise BookError(f"{where}: bad regular expression in try-{key}: {e}") from e
        (block.expect if key == "expect" else block.expect_not).append(value)  # type: ignore[arg-type]
    elif key == "expect-fail":
        block.expect_fail = True
    elif key == "timeout":
        if not value.isdigit() or int(value) <= 0:  # type: ignore[union-attr]
            raise BookError(f"{where}: try-timeout takes whole seconds, got {value!r}")
        block.timeout_s = int(value)  # type: ignore[arg-type]
    elif key == "requires":
        block.requires.extend(value.split())  # type: ignore[union-attr]
    elif key == "skip":
        block.skip = value


def parse_directive(chapter: Chapter, text: str, where: str) -> None:
    for item in text.split():
        key, _, value = item.partition("=")
        if key == "cluster" and value in PROFILES:
            chapter.profile = value
        elif key == "needs" and value:
            chapter.needs.extend(v for v in value.split(",") if v)
        else:
            raise BookError(f"{where}: bad try directive {item!r} (cluster=full|single|acl|none, needs=a.md,b.md)")


def parse_chapter(src: Path, rel: str) -> Chapter:
    """Every Try-it block of one chapter, with its annotations; raises BookError on a format mistake."""
    chapter = Chapter(rel)
    lines = (src / rel).read_text(encoding="utf-8").splitlines()
    try_level = 0  # heading level of the Try-it section we are in, 0 outside
    heading = ""
    i = 0
    last_block: Block | None = None  # the block annotations may still attach to
    while i < len(lines):
        text = lines[i]
        where = f"{rel}:{i + 1}"
        fence = FENCE.match(text)
        if fence:
            indent, marks, info = fence.groups()
            body: list[tuple[int, str]] = []
            j = i + 1
            while j < len(lines):
                close = lines[j].strip()
                if close.startswith(marks[0] * len(marks)) and close.strip(marks[0]) == "":
                    break
                body.append((j + 1, lines[j][len(indent):] if lines[j].startswith(indent) else lines[j]))
                j += 1
            if j == len(lines):
                raise BookError(f"{where}: code block never closed")
            last_block = None
            if try_level and info == "console":
                block = Block(rel, i + 1, heading)
                block.commands = split_commands(body, where)
                if not block.commands:
                    raise BookError(f"{where}: console block in a Try-it section without a `$ ` command")
                chapter.blocks.append(block)
                last_block = block
            i = j + 1
            continue
        annotation = ANNOTATION.match(text)
        directive = CHAPTER_DIRECTIVE.match(text)
        if annotation:
            if last_block is None:
                raise BookError(f"{where}: try-{annotation.group(1)} must follow a console block of a Try-it")
            apply_annotation(last_block, annotation.group(1), annotation.group(2), where)
        elif directive:
            if chapter.blocks:
                raise BookError(f"{where}: the try directive goes before the chapter's first block")
            parse_directive(chapter, directive.group(1), where)
        elif text.strip():
            last_block = None
            head = HEADING.match(text)
            if head:
                level = len(head.group(1))
                if try_level and level <= try_level:
                    try_level = 0
                if re.match(r"try it\b", head.group(2), re.IGNORECASE):
                    try_level, heading = level, head.group(2)
        i += 1
    bare = [b.where for b in chapter.blocks if not b.expect and not b.expect_not and b.skip is None]
    if bare:
        raise BookError(
            f"{', '.join(bare)}: Try-it block without an expectation; add <!-- try-expect: REGEX --> after it"
        )
    return chapter


def load_book(src: Path) -> tuple[list[Chapter], dict[str, str]]:
    """All chapters of SUMMARY.md in order (those without a Try-it too, with no blocks), and the
    format errors of the chapters that could not be read (path -> message); those are left out."""
    chapters = []
    errors: dict[str, str] = {}
    for rel in summary_order(src):
        if not (src / rel).exists():
            continue
        try:
            chapters.append(parse_chapter(src, rel))
        except BookError as e:
            errors[rel] = str(e)
    known = {c.path for c in chapters} | set(errors)
    for c in chapters:
        for need in c.needs:
            if need not in known:
                errors[c.path] = f"{c.path}: needs={need} is not a chapter of SUMMARY.md"
    return [c for c in chapters if c.path not in errors], errors
