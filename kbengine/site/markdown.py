"""Markdown -> safe HTML for the site: callouts, wiki links, page links rewritten, output sanitised.

Heading anchors follow the same rule as `kbengine.read.scan`, so a link to `#some-heading` that
`kb check` accepts also works on the site.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import markdown
import nh3
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor

from kbengine.links import is_external, is_local, relative_target
from kbengine.model import Heading
from kbengine.read.scan import MAX_BRACKETS_PER_LINE
from kbengine.read.slugs import slugify
from kbengine.read.sources import split_front_matter

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
# Bounded to one line and free of nested brackets so hostile input cannot make them quadratic.
_INCLUDE = re.compile(r"\[!INCLUDE\s*\[[^\[\]\n]*\]\(\s*<?([^)\s>]+)>?\s*\)\]", re.IGNORECASE)
_DOCFX_IMAGE = re.compile(r":::image\b(?P<attrs>[^\n]*?):::")
_DOCFX_LONG_IMAGE = re.compile(r":::image\b(?P<attrs>[^\n]*?):::(?P<long>.*?):::image-end:::", re.DOTALL)
_DOCFX_ATTR = re.compile(r"([\w-]+)=\"([^\"]*)\"")
_DOCFX_BLOCK = re.compile(r"^\s*:::.*$")  # zones, rows, columns: their content stays, the markers go
_WIKI = r"\[\[([^\]|#]+)(#[^\]|]*)?(?:\|([^\]]*))?\]\]"
_ALERT = re.compile(r"^\s*\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]\s*", re.IGNORECASE)
_DOCFX_DIV = re.compile(r"^\s*\[!div[^\]]*\]\s*", re.IGNORECASE)
_STASHED = re.compile("\x02[^\x03]*\x03")
_INCLUDE_DEPTH = 3
CALLOUT_KINDS = ("note", "tip", "important", "warning", "caution")
# admonition types people write in `!!! type` mapped onto the five callouts
_ADMONITION_KIND = {"info": "note", "hint": "tip", "danger": "caution", "error": "caution",
                    "attention": "warning", "success": "tip", "question": "note", "example": "note"}

_TAGS = set(nh3.ALLOWED_TAGS) | {"div", "span", "figure", "figcaption", "kbd", "details", "summary"}
_ATTRIBUTES = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
_ATTRIBUTES["*"] = _ATTRIBUTES.get("*", set()) | {"class", "id", "title", "role", "lang"}
_ATTRIBUTES["a"] = _ATTRIBUTES.get("a", set()) | {"href", "hreflang"}
_ATTRIBUTES["img"] = _ATTRIBUTES.get("img", set()) | {"src", "alt", "width", "height", "loading"}
_ATTRIBUTES["th"] = _ATTRIBUTES.get("th", set()) | {"style", "scope"}
_ATTRIBUTES["td"] = _ATTRIBUTES.get("td", set()) | {"style"}


class LinkResolver(Protocol):
    """What the renderer asks the site about link targets; None means "not on the public site"."""

    def wiki(self, target: str) -> tuple[str, str] | None:
        """(url, title) of the article or tree with this id."""

    def page(self, path: str) -> str | None:
        """URL of the article in the KB-relative file `path`."""

    def file(self, path: str) -> str | None:
        """URL of the KB-relative non-Markdown file `path` (an image, a PDF)."""


@dataclass
class TocEntry:
    level: int
    text: str
    anchor: str


@dataclass
class RenderedBody:
    html: str
    toc: list[TocEntry] = field(default_factory=list)
    files: set[str] = field(default_factory=set)  # KB-relative files the page embeds or links


def _outside_fences(text: str, change: Callable[[str], str]) -> str:
    """Apply `change` to the text between fenced code blocks, never inside them."""
    out: list[str] = []
    chunk: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        opened = _FENCE.match(line)
        if fence:
            out.append(line)
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
            continue
        if opened:
            out.append(change("\n".join(chunk)))
            chunk = []
            fence = opened.group(1)
            out.append(line)
            continue
        chunk.append(line)
    out.append(change("\n".join(chunk)))
    return "\n".join(out)


def _fence_crowded_lines(text: str) -> str:
    """Show lines with too many brackets for Python-Markdown (see scan.py) as plain text."""
    if text.count("[") <= MAX_BRACKETS_PER_LINE:
        return text
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if line.count("[") > MAX_BRACKETS_PER_LINE:
            fence = "~" * max(3, max((len(run) for run in re.findall("~+", line)), default=0) + 1)
            lines[index] = f"{fence}text\n{line}\n{fence}"
    return "\n".join(lines)


class _WikiLinks(InlineProcessor):
    def __init__(self, pattern: str, renderer: ArticleRenderer) -> None:
        super().__init__(pattern)
        self.renderer = renderer

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[ET.Element, int, int]:
        target, anchor, label = m.group(1).strip(), m.group(2) or "", m.group(3)
        found = self.renderer.resolver.wiki(target)
        if found is None:
            element = ET.Element("span")
            element.text = (label or target).strip()
        else:
            element = ET.Element("a", {"href": found[0] + anchor})
            element.text = (label or found[1]).strip()
        return element, m.start(0), m.end(0)


class _SiteTree(Treeprocessor):
    """Anchors, link and image rewriting, callouts and wide tables, on the parsed document."""

    def __init__(self, md: markdown.Markdown, renderer: ArticleRenderer) -> None:
        super().__init__(md)
        self.renderer = renderer

    def run(self, root: ET.Element) -> None:
        job = self.renderer.job
        parents = {child: parent for parent in root.iter() for child in parent}
        headings = [e for e in root.iter() if e.tag in {"h1", "h2", "h3", "h4", "h5", "h6"}]
        self._anchor(headings, job.headings, job.toc)
        for element in list(root.iter()):
            if element.tag == "a":
                self._link(element, job)
            elif element.tag == "img":
                self._image(element, parents, job)
            elif element.tag == "blockquote":
                self._alert(element)
            elif element.tag == "div" and "admonition" in element.get("class", ""):
                self._admonition(element)
            elif element.tag == "table" and element in parents:
                self._wrap_table(element, parents[element])

    @staticmethod
    def _anchor(elements: list[ET.Element], scanned: list[Heading], toc: list[TocEntry]) -> None:
        # Same order as the scanner saw them: take its anchors; otherwise apply its rule here.
        use_scanned = len(scanned) == len(elements)
        seen: dict[str, int] = {}
        for index, element in enumerate(elements):
            text = _STASHED.sub("", "".join(element.itertext())).strip()
            if use_scanned:
                anchor = scanned[index].anchor
            else:
                anchor = slugify(text) or "section"
                if anchor in seen:
                    seen[anchor] += 1
                    anchor = f"{anchor}-{seen[anchor]}"
                else:
                    seen[anchor] = 0
            element.set("id", anchor)
            level = int(element.tag[1])
            if level in (2, 3):
                toc.append(TocEntry(level, text, anchor))

    def _link(self, element: ET.Element, job: _Job) -> None:
        href = (element.get("href") or "").strip()
        if not is_local(href):
            return
        target = relative_target(job.source, href)
        anchor = "#" + href.split("#", 1)[1] if "#" in href else ""
        if target.lower().endswith((".md", ".markdown")):
            url = self.renderer.resolver.page(target)
        else:
            url = self.renderer.resolver.file(target)
            if url:
                job.files.add(target)
        if url is None:  # not on the public site: keep the words, drop the link
            element.tag = "span"
            element.attrib.clear()
        else:
            element.set("href", url + anchor)

    def _image(self, element: ET.Element, parents: dict[ET.Element, ET.Element], job: _Job) -> None:
        src = (element.get("src") or "").strip()
        element.set("loading", "lazy")
        if is_external(src) or src.startswith("/"):
            return
        target = relative_target(job.source, src)
        url = self.renderer.resolver.file(target) if src else None
        if url:
            element.set("src", url)
            job.files.add(target)
            return
        parent = parents.get(element)  # a missing image is dropped; the text around it stays
        if parent is not None:
            _remove_keeping_tail(parent, element)

    def _alert(self, element: ET.Element) -> None:
        first = element[0] if len(element) else None
        if first is None or first.tag != "p" or not first.text:
            return
        alert = _ALERT.match(first.text)
        if alert:
            kind = alert.group(1).lower()
            first.text = first.text[alert.end():]
            self._make_callout(element, kind, self.renderer.labels[kind])
        elif _DOCFX_DIV.match(first.text):
            first.text = _DOCFX_DIV.sub("", first.text)
            element.tag = "div"
        else:
            return
        if not first.text.strip() and not len(first):
            element.remove(first)

    def _admonition(self, element: ET.Element) -> None:
        classes = element.get("class", "").split()
        kind = next((c for c in classes if c != "admonition"), "note")
        kind = _ADMONITION_KIND.get(kind, kind if kind in CALLOUT_KINDS else "note")
        title = element[0] if len(element) and element[0].get("class") == "admonition-title" else None
        label = title.text or "" if title is not None else ""
        if title is not None:
            element.remove(title)
        self._make_callout(element, kind, label or self.renderer.labels[kind])

    @staticmethod
    def _make_callout(element: ET.Element, kind: str, label: str) -> None:
        element.tag = "div"
        element.attrib = {"class": f"callout callout-{kind}", "role": "note"}
        title = ET.Element("p", {"class": "callout-title"})
        title.text = label
        element.insert(0, title)

    @staticmethod
    def _wrap_table(element: ET.Element, parent: ET.Element) -> None:
        if parent.get("class") == "table-wrap":
            return
        index = list(parent).index(element)
        wrapper = ET.Element("div", {"class": "table-wrap"})
        wrapper.tail, element.tail = element.tail, None
        parent.remove(element)
        wrapper.append(element)
        parent.insert(index, wrapper)


def _remove_keeping_tail(parent: ET.Element, element: ET.Element) -> None:
    index = list(parent).index(element)
    if element.tail:
        if index > 0:
            before = parent[index - 1]
            before.tail = (before.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


@dataclass
class _Job:
    """The article being rendered: where it lives and what rendering it found."""

    source: str
    headings: list[Heading]
    toc: list[TocEntry] = field(default_factory=list)
    files: set[str] = field(default_factory=set)


class _SiteExtension(Extension):
    def __init__(self, renderer: ArticleRenderer) -> None:
        super().__init__()
        self.renderer = renderer

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.inlinePatterns.register(_WikiLinks(_WIKI, self.renderer), "kb-wiki", 175)
        md.treeprocessors.register(_SiteTree(md, self.renderer), "kb-site", 5)


class ArticleRenderer:
    """Renders article bodies and step texts of one language; reuse it for every page."""

    def __init__(self, root: Path, resolver: LinkResolver, labels: dict[str, str]) -> None:
        self.root = root
        self.resolver = resolver
        self.labels = labels  # callout titles in the page's language
        self.job = _Job("", [])
        self.md = markdown.Markdown(extensions=[
            "tables", "fenced_code", "admonition", "sane_lists", "def_list", _SiteExtension(self)])

    def render(self, body: str, source: str, headings: list[Heading] | None = None) -> RenderedBody:
        """Safe HTML of a Markdown `body` written in the KB-relative file `source`."""
        self.job = _Job(source, headings or [])
        text = _outside_fences(body, lambda chunk: _fence_crowded_lines(self._docfx(chunk, source, 0)))
        html = self.md.reset().convert(text)
        clean = nh3.clean(html, tags=_TAGS, attributes=_ATTRIBUTES, link_rel=None)
        return RenderedBody(clean, self.job.toc, self.job.files)

    def _docfx(self, text: str, source: str, depth: int) -> str:
        """Expand DocFX includes, turn `:::image` into Markdown images, drop other `:::` markers."""
        if "[!" in text:
            text = _INCLUDE.sub(lambda m: self._include(m.group(1), source, depth), text)
        if ":::" in text:
            if ":::image-end:::" in text:  # long description: its text is dropped with the marker
                text = _DOCFX_LONG_IMAGE.sub(lambda m: _docfx_image(m.group("attrs")), text)
            text = _DOCFX_IMAGE.sub(lambda m: _docfx_image(m.group("attrs")), text)
            text = "\n".join(line for line in text.split("\n") if not _DOCFX_BLOCK.match(line))
        return text

    def _include(self, target: str, source: str, depth: int) -> str:
        path = relative_target(source, target)
        if depth >= _INCLUDE_DEPTH or path.startswith("../") or not path.lower().endswith(".md"):
            return ""
        try:
            text = (self.root / path).read_text("utf-8-sig")
        except (OSError, UnicodeDecodeError):
            return ""  # a missing include is reported by kb check; the page goes on without it
        _, _, body, _ = split_front_matter(text)
        return self._docfx(body.strip(), path, depth + 1)


def _docfx_image(attrs: str) -> str:
    found = dict(_DOCFX_ATTR.findall(attrs))
    source = found.get("source", "").strip()
    alt = found.get("alt-text", "").replace("]", ")").replace("[", "(")
    return f"![{alt}]({source})" if source else ""
