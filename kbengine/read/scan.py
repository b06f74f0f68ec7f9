"""Find headings and links in a Markdown body, with their lines, without rendering it."""

from __future__ import annotations

import re
from collections.abc import Iterator

from kbengine.model import Heading, Link, LinkKind
from kbengine.read.slugs import slugify

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^\s{0,3}(#{1,6})(?:[ \t]+(.*))?$")
_INLINE_CODE = re.compile(r"`+[^`]*`+")
# Every pattern below stops scanning at the next '[' (or '<', ':::') and never backtracks
# (possessive `*+`), so a hostile line of a million brackets is read in linear time.
# [text](target "title") and ![alt](target); the target may be <wrapped> or hold (balanced) parens.
_LINK = re.compile(r"(!?)\[(?:[^\[\]]|\[[^\[\]]*\])*+\]\(\s*+<?((?:[^()\s<>\[\]]|\([^()\s<>\[\]]*\))*+)>?"
                   r"(?:\s+[\"'(][^)\[]*)?\)")
_REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
_WIKI = re.compile(r"\[\[([^\[\]|#]+)(?:#[^\[\]|]*)?(?:\|[^\[\]]*)?\]\]")
_INCLUDE = re.compile(r"\[!INCLUDE\s*\[[^\[\]]*\]\(\s*([^()\s\[\]]+)\s*\)\]", re.IGNORECASE)
_DOCFX_IMAGE = re.compile(r":::image\b(?:(?!:::).)*?\bsource=\"([^\"]+)\"")
_HTML_IMG = re.compile(r"<img\b[^<>]*?\bsrc=[\"']([^\"'<>]+)[\"']", re.IGNORECASE)
_IMAGE_EXT = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".bmp")


# Python-Markdown's inline patterns are quadratic in the brackets of one line: 8,000 take
# six seconds. No real line has this many, so such a line is shown as plain text.
MAX_BRACKETS_PER_LINE = 200


def prose_lines(body: str, first_line: int) -> Iterator[tuple[int, str]]:
    """(line number, line) of a Markdown body, skipping fenced and indented code."""
    fence: str | None = None
    for offset, line in enumerate(body.splitlines()):
        opened = _FENCE.match(line)
        if fence:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
            continue
        if opened:
            fence = opened.group(1)
            continue
        if line.startswith(("    ", "\t")) and not line.strip().startswith(("-", "*", ">", "1")):
            continue  # indented code block
        yield first_line + offset, line


def crowded_lines(body: str, first_line: int) -> list[int]:
    """Lines with more brackets than the renderer can take in reasonable time."""
    return [number for number, line in prose_lines(body, first_line)
            if line.count("[") > MAX_BRACKETS_PER_LINE]


def scan_body(body: str, first_line: int) -> tuple[list[Heading], list[Link]]:
    """Headings and links of a Markdown body whose first line is line `first_line` of the file."""
    headings: list[Heading] = []
    links: list[Link] = []
    seen_anchors: dict[str, int] = {}
    for number, line in prose_lines(body, first_line):
        heading = atx_heading(line)
        if heading:
            level, text = heading
            anchor = slugify(text) or "section"
            if anchor in seen_anchors:  # same rule as the renderer's toc: -1, -2, ...
                seen_anchors[anchor] += 1
                anchor = f"{anchor}-{seen_anchors[anchor]}"
            else:
                seen_anchors[anchor] = 0
            headings.append(Heading(level, text, anchor, number))
        if line.count("[") > MAX_BRACKETS_PER_LINE:
            continue  # shown as plain text: its links are not links
        code_free = _INLINE_CODE.sub(lambda m: " " * len(m.group(0)), line)
        links.extend(_links_in(code_free, number))
    return headings, links


def atx_heading(line: str) -> tuple[int, str] | None:
    """(level, text) of a `## Heading ##` line, else None."""
    match = _ATX.match(line)
    if not match or not (match.group(2) or "").strip():
        return None
    text = match.group(2).strip()
    # The closing #s are dropped in Python: as a regex (`\s*#*\s*$`) they take quadratic time.
    unclosed = text.rstrip("#")
    if unclosed != text and (not unclosed or unclosed[-1] in " \t"):
        text = unclosed.strip()
    return (len(match.group(1)), text) if text else None


def _links_in(line: str, number: int) -> list[Link]:
    found: list[Link] = []
    includes = [(m.start(), m.end()) for m in _INCLUDE.finditer(line)]
    for match in _INCLUDE.finditer(line):
        found.append(Link(match.group(1), "include", number, match.start(1) + 1))
    for match in _LINK.finditer(line):
        if any(start <= match.start() < end for start, end in includes):
            continue
        target = match.group(2)
        kind: LinkKind = "image" if match.group(1) or target.lower().endswith(_IMAGE_EXT) else "page"
        found.append(Link(target, kind, number, match.start(2) + 1))
    ref = _REF_DEF.match(line)
    if ref:
        target = ref.group(1)
        ref_kind: LinkKind = "image" if target.lower().endswith(_IMAGE_EXT) else "page"
        found.append(Link(target, ref_kind, number, ref.start(1) + 1))
    for match in _WIKI.finditer(line):
        found.append(Link(match.group(1).strip(), "wiki", number, match.start() + 1))
    for pattern in (_DOCFX_IMAGE, _HTML_IMG):
        for match in pattern.finditer(line):
            found.append(Link(match.group(1), "image", number, match.start(1) + 1))
    return found
