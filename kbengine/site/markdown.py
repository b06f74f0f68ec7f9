"""Markdown -> safe HTML for the site: CommonMark block structure (markdown-it-py), GitHub's
extensions, callouts, content tabs, wiki links, page links rewritten, output sanitised.

Heading anchors follow the same rule as `kbengine.read.scan`, so a link to `#some-heading` that
`kb check` accepts also works on the site. The work of one article is bounded: past the bound,
or past a nesting the reader stage reported (KB109), the article is shown as plain text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.admon import admon_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.gfm import gfm_plugin

from kbengine.check.registry import diagnostic
from kbengine.links import is_external, is_local, relative_target
from kbengine.model import Diagnostic, Heading
from kbengine.read.scan import MAX_BRACKETS_PER_LINE
from kbengine.read.slugs import slugify
from kbengine.read.sources import (
    MAX_NESTING,
    WORK_FLOOR,
    WORK_PER_CHAR,
    contained,
    nesting_depth,
    split_front_matter,
)

# Any indentation: a fence inside a list item is indented by the item's marker width (CommonMark).
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
# Bounded to one line and free of nested brackets so hostile input cannot make them quadratic.
_INCLUDE = re.compile(r"\[!INCLUDE\s*\[[^\[\]\n]*\]\(\s*<?([^)\s>]+)>?\s*\)\]", re.IGNORECASE)
_DOCFX_IMAGE = re.compile(r":::image\b(?P<attrs>[^\n]*?):::")
_DOCFX_LONG_IMAGE = re.compile(r":::image\b(?P<attrs>[^\n]*?):::(?P<long>.*?):::image-end:::", re.DOTALL)
_DOCFX_ATTR = re.compile(r"([\w-]+)=\"([^\"]*)\"")
_DOCFX_BLOCK = re.compile(r"^\s*:::.*$")  # zones, rows, columns: their content stays, the markers go
_WIKI = re.compile(r"\[\[([^\[\]|#\n]+)(#[^\[\]|\n]*)?(?:\|([^\[\]\n]*))?\]\]")
_ALERT = re.compile(r"^\s*\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\][ \t]*\n?", re.IGNORECASE)
_DOCFX_DIV = re.compile(r"^\s*\[!div(?:\s+class=\"([\w -]*)\")?[^\]\n]*\][ \t]*\n?", re.IGNORECASE)
_TAB = re.compile(r'^===[!+]?[ \t]+"([^"\n]*)"[ \t]*$')
_INCLUDE_DEPTH = 3
# markdown-it counts a list as two levels (list, item); past this it silently drops the rest,
# which the fallback below turns into plain text instead.
_PARSER_NESTING = 4 * MAX_NESTING
CALLOUT_KINDS = ("note", "tip", "important", "warning", "caution")
# admonition types people write in `!!! type` mapped onto the five callouts
_ADMONITION_KIND = {"info": "note", "hint": "tip", "danger": "caution", "error": "caution",
                    "attention": "warning", "success": "tip", "question": "note", "example": "note"}

_TAGS = set(nh3.ALLOWED_TAGS) | {"div", "span", "figure", "figcaption", "kbd", "details", "summary",
                                  "input", "section", "s", "del"}
_ATTRIBUTES = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
_ATTRIBUTES["*"] = _ATTRIBUTES.get("*", set()) | {"class", "id", "title", "role", "lang"}
_ATTRIBUTES["a"] = _ATTRIBUTES.get("a", set()) | {"href", "hreflang"}
_ATTRIBUTES["img"] = _ATTRIBUTES.get("img", set()) | {"src", "alt", "width", "height", "loading"}
_ATTRIBUTES["th"] = _ATTRIBUTES.get("th", set()) | {"style", "scope"}
_ATTRIBUTES["td"] = _ATTRIBUTES.get("td", set()) | {"style"}
_ATTRIBUTES["input"] = {"checked"}  # task list boxes only: see _FIXED_ATTRIBUTES
_ATTRIBUTES["ol"] = _ATTRIBUTES.get("ol", set()) | {"start"}
_FIXED_ATTRIBUTES = {"input": {"type": "checkbox", "disabled": "disabled"}}


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
    diagnostics: list[Diagnostic] = field(default_factory=list)  # why it is shown as plain text


class _TooMuchWork(Exception):
    """The article needs more parsing than its bound allows."""


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
    """Show lines with more brackets than `kb check` reads (KB108) as plain text, as it says."""
    if text.count("[") <= MAX_BRACKETS_PER_LINE:
        return text
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if line.count("[") > MAX_BRACKETS_PER_LINE:
            fence = "~" * max(3, max((len(run) for run in re.findall("~+", line)), default=0) + 1)
            lines[index] = f"{fence}text\n{line}\n{fence}"
    return "\n".join(lines)


# --- parser rules ------------------------------------------------------------------------------

def _spend(env: EnvType, work: int = 1) -> None:
    env["work"] += work
    if env["work"] > env["budget"]:
        raise _TooMuchWork


def _inline_budget(state: StateInline, silent: bool) -> bool:
    """One step per position the inline parser tries; a `[` also costs what finding its label
    costs (markdown-it scans ahead to the next `]`, or to the end when there is none)."""
    src, pos = state.src, state.pos
    work = 1
    if src[pos] == "[" or (src[pos] == "!" and src.startswith("[", pos + 1)):
        close = src.find("]", pos)
        work += (close if close >= 0 else state.posMax) - pos
    _spend(state.env, work)
    return False


def _block_budget(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    _spend(state.env)
    return False


def _wiki_rule(resolver: LinkResolver) -> Callable[[StateInline, bool], bool]:
    def wiki(state: StateInline, silent: bool) -> bool:
        if not state.src.startswith("[[", state.pos):
            return False
        match = _WIKI.match(state.src, state.pos)
        if match is None:
            return False
        if not silent:
            target, anchor, label = match.group(1).strip(), match.group(2) or "", match.group(3)
            found = resolver.wiki(target)
            if found is None:
                opened = state.push("wiki_open", "span", 1)
                text = (label or target).strip()
            else:
                opened = state.push("wiki_open", "a", 1)
                opened.attrs = {"href": found[0] + anchor}
                text = (label or found[1]).strip()
            state.push("text", "", 0).content = text
            state.push("wiki_close", opened.tag, -1)
        state.pos = match.end()
        return True

    return wiki


def _tabs(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """MkDocs content tabs: `=== "Title"` and the lines indented below it."""
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    line = state.src[state.bMarks[start] + state.tShift[start]:state.eMarks[start]]
    match = _TAB.match(line)
    if match is None:
        return False
    if silent:
        return True
    old_parent, old_max, old_indent = state.parentType, state.lineMax, state.blkIndent
    state.parentType = "tab"  # type: ignore[assignment]
    state.blkIndent = state.sCount[start] + 4
    following, blank_before = start + 1, False
    while following < end:
        blank = state.isEmpty(following)
        if not blank and state.sCount[following] < state.blkIndent:
            break
        if blank and blank_before:
            break
        blank_before = blank
        following += 1
    state.lineMax = following
    opened = state.push("tab_open", "section", 1)
    opened.attrs = {"class": "content-tab"}
    opened.map = [start, following]
    state.push("tab_title_open", "p", 1).attrs = {"class": "content-tab-title"}
    title = state.push("inline", "", 0)
    title.content, title.map, title.children = match.group(1), [start, start + 1], []
    state.push("tab_title_close", "p", -1)
    state.md.block.tokenize(state, start + 1, following)
    state.push("tab_close", "section", -1)
    state.parentType, state.lineMax, state.blkIndent = old_parent, old_max, old_indent
    state.line = following
    return True


def _render_table_open(renderer: RendererHTML, tokens: Sequence[Token], index: int,
                       options: OptionsDict, env: EnvType) -> str:
    return '<div class="table-wrap">\n' + renderer.renderToken(tokens, index, options, env)


def _render_table_close(renderer: RendererHTML, tokens: Sequence[Token], index: int,
                        options: OptionsDict, env: EnvType) -> str:
    return renderer.renderToken(tokens, index, options, env) + "</div>\n"


# --- the site's changes to the parsed article ---------------------------------------------------

@dataclass
class _Job:
    """The article being rendered: where it lives and what rendering it found."""

    source: str
    headings: list[Heading]
    toc: list[TocEntry] = field(default_factory=list)
    files: set[str] = field(default_factory=set)


def _closing(tokens: list[Token], index: int) -> int:
    """Index of the token that closes the one opened at `index`."""
    depth = 0
    for position in range(index, len(tokens)):
        depth += tokens[position].nesting
        if depth == 0:
            return position
    return len(tokens) - 1


def _text_of(inline: Token) -> str:
    return "".join(child.content for child in inline.children or []
                   if child.type in ("text", "code_inline")).strip()


class ArticleRenderer:
    """Renders article bodies and step texts of one language; reuse it for every page."""

    def __init__(self, root: Path, resolver: LinkResolver, labels: dict[str, str]) -> None:
        self.root = root
        self.resolver = resolver
        self.labels = labels  # callout titles in the page's language
        md = MarkdownIt("commonmark", {"html": True, "maxNesting": _PARSER_NESTING})
        md.use(gfm_plugin).use(admon_plugin).use(deflist_plugin)
        md.options["alerts"] = False  # GitHub's and DocFX's alerts are read below, in any case
        md.options["strikethrough_single_tilde"] = False  # `~` alone stays text, as in CommonMark
        md.block.ruler.before("table", "kb-budget", _block_budget)
        md.block.ruler.before("fence", "kb-tabs", _tabs, {"alt": ["paragraph", "reference", "list"]})
        md.inline.ruler.before("text", "kb-budget", _inline_budget)
        md.inline.ruler.before("link", "kb-wiki", _wiki_rule(resolver))
        md.core.ruler.push("kb-site", self._site)
        md.add_render_rule("table_open", _render_table_open)
        md.add_render_rule("table_close", _render_table_close)
        self.md = md

    def source_text(self, body: str, source: str) -> str:
        """The Markdown the parser reads: DocFX includes and images expanded, crowded lines fenced."""
        return _outside_fences(body, lambda chunk: _fence_crowded_lines(self._docfx(chunk, source, 0)))

    def render(self, body: str, source: str, headings: list[Heading] | None = None,
               first_line: int = 1) -> RenderedBody:
        """Safe HTML of a Markdown `body` written in the KB-relative file `source`, whose first
        line is `first_line` of the file."""
        job = _Job(source, headings or [])
        text = self.source_text(body, source)
        if nesting_depth(text)[0] > MAX_NESTING:  # kb check reports it (KB109)
            return RenderedBody(_plain(body), files=set())
        env: dict[str, Any] = {"job": job, "work": 0, "budget": WORK_FLOOR + WORK_PER_CHAR * len(text)}
        try:
            tokens = self.md.parse(text, env)
        except (_TooMuchWork, RecursionError):
            return RenderedBody(_plain(body), diagnostics=[diagnostic(
                "KB110", source, first_line, 1,
                "this article takes too much work to render and is shown as plain text",
                "look for very long lines of brackets or markup, and split the article")])
        if any(token.level >= _PARSER_NESTING - 2 for token in tokens):
            return RenderedBody(_plain(body), diagnostics=[diagnostic(
                "KB109", source, first_line, 1,
                "lists, quotes or other blocks are nested too deep to show; shown as plain text",
                f"nest lists and quotes at most {MAX_NESTING} levels deep")])
        rendered = self.md.renderer.render(tokens, self.md.options, env)
        clean = nh3.clean(rendered, tags=_TAGS, attributes=_ATTRIBUTES, link_rel=None,
                          set_tag_attribute_values=_FIXED_ATTRIBUTES)
        return RenderedBody(clean, job.toc, job.files)

    # --- after parsing: anchors, links, images, callouts ------------------------------------------

    def _site(self, state: StateCore) -> None:
        job: _Job = state.env["job"]
        tokens = state.tokens
        self._anchor(tokens, job)
        for index, token in enumerate(tokens):
            if token.type == "inline" and token.children:
                token.children = self._inline(token.children, job)
            elif token.type == "blockquote_open":
                self._alert(tokens, index)
            elif token.type == "admonition_open":
                self._admonition(tokens, index)

    def _anchor(self, tokens: list[Token], job: _Job) -> None:
        # Same order as the scanner saw them: take its anchors; otherwise apply its rule here.
        positions = [i for i, t in enumerate(tokens) if t.type == "heading_open"]
        use_scanned = len(job.headings) == len(positions)
        seen: dict[str, int] = {}
        for number, index in enumerate(positions):
            text = _text_of(tokens[index + 1])
            if use_scanned:
                anchor = job.headings[number].anchor
            else:
                anchor = slugify(text) or "section"
                if anchor in seen:
                    seen[anchor] += 1
                    anchor = f"{anchor}-{seen[anchor]}"
                else:
                    seen[anchor] = 0
            tokens[index].attrSet("id", anchor)
            level = int(tokens[index].tag[1])
            if level in (2, 3):
                job.toc.append(TocEntry(level, text, anchor))

    def _inline(self, children: list[Token], job: _Job) -> list[Token]:
        kept: list[Token] = []
        links: list[Token] = []  # open links, to close each as what it became
        for child in children:
            if child.type == "link_open":
                url = self._link(str(child.attrGet("href") or ""), job)
                if url is None:  # not on the public site: keep the words, drop the link
                    child.tag, child.attrs = "span", {}
                elif url:
                    child.attrSet("href", url)
                links.append(child)
            elif child.type == "link_close" and links:
                child.tag = links.pop().tag
            elif child.type == "image" and not self._image(child, job):
                continue  # a missing image is dropped; the text around it stays
            kept.append(child)
        return kept

    def _link(self, href: str, job: _Job) -> str | None:
        """The URL a link goes to on the site; "" to leave it as written, None to drop the link."""
        href = href.strip()
        if not is_local(href):
            return ""
        target = relative_target(job.source, href)
        anchor = "#" + href.split("#", 1)[1] if "#" in href else ""
        if target.lower().endswith((".md", ".markdown")):
            url = self.resolver.page(target)
        else:
            url = self.resolver.file(target)
            if url:
                job.files.add(target)
        return None if url is None else url + anchor

    def _image(self, image: Token, job: _Job) -> bool:
        src = str(image.attrGet("src") or "").strip()
        image.attrSet("loading", "lazy")
        if is_external(src) or src.startswith("/"):
            return True
        target = relative_target(job.source, src)
        url = self.resolver.file(target) if src else None
        if url:
            image.attrSet("src", url)
            job.files.add(target)
        return bool(url)

    def _alert(self, tokens: list[Token], index: int) -> None:
        """`> [!NOTE]` (GitHub, DocFX) becomes a callout; `> [!div class=...]` a plain block."""
        if index + 2 >= len(tokens) or tokens[index + 1].type != "paragraph_open":
            return
        inline = tokens[index + 2]
        first = inline.children[0] if inline.children else None
        if first is None or first.type != "text":
            return
        alert = _ALERT.match(first.content)
        div = None if alert else _DOCFX_DIV.match(first.content)
        if not alert and not div:
            return
        children = inline.children or []
        first.content = first.content[(alert or div).end():]  # type: ignore[union-attr]
        if not first.content and len(children) > 1 and children[1].type in ("softbreak", "hardbreak"):
            inline.children = children[2:]
        closing = _closing(tokens, index)
        opened, closed = tokens[index], tokens[closing]
        opened.tag = closed.tag = "div"
        if div:  # as DocFX writes it: a div with the classes given
            opened.attrs = {"class": " ".join(["docfx-div", *(div.group(1) or "").split()])}
            return
        kind = alert.group(1).lower()  # type: ignore[union-attr]
        opened.attrs = {"class": f"callout callout-{kind}", "role": "note"}
        if not "".join(child.content for child in inline.children or []).strip():
            del tokens[index + 1:index + 4]  # the marker was the paragraph's only text
        tokens[index + 1:index + 1] = self._title(self.labels[kind])

    def _admonition(self, tokens: list[Token], index: int) -> None:
        opened = tokens[index]
        classes = str(opened.attrGet("class") or "").split()
        kind = next((c for c in classes if c not in ("admonition", "is-collapsible")
                     and not c.startswith("collapsible")), "note")
        kind = _ADMONITION_KIND.get(kind, kind if kind in CALLOUT_KINDS else "note")
        opened.attrs = {"class": f"callout callout-{kind}", "role": "note"}
        written = '"' in opened.info  # `!!! note "Title"`; without a title, the page's own word
        if index + 3 < len(tokens) and tokens[index + 1].type == "admonition_title_open":
            if written:
                tokens[index + 1].attrs = {"class": "callout-title"}
                return
            del tokens[index + 1:index + 4]
        if not (written and '""' in opened.info):
            tokens[index + 1:index + 1] = self._title(self.labels[kind])

    @staticmethod
    def _title(label: str) -> list[Token]:
        opened = Token("paragraph_open", "p", 1)
        opened.attrs = {"class": "callout-title"}
        text = Token("text", "", 0)
        text.content = label
        inline = Token("inline", "", 0)
        inline.children = [text]
        return [opened, inline, Token("paragraph_close", "p", -1)]

    # --- before parsing: DocFX -----------------------------------------------------------------------

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
        if depth >= _INCLUDE_DEPTH or not path.lower().endswith(".md"):
            return ""
        file = contained(self.root, path)
        if file is None or target.startswith("/"):
            return ""  # outside the KB: never read (kb check says so, KB509)
        try:
            text = file.read_text("utf-8-sig")
        except (OSError, UnicodeDecodeError):
            return ""  # a missing include is reported by kb check; the page goes on without it
        _, _, body, _ = split_front_matter(text)
        return self._docfx(body.strip(), path, depth + 1)


def _plain(body: str) -> str:
    return f'<pre class="unrendered">{html.escape(body)}</pre>'


def _docfx_image(attrs: str) -> str:
    found = dict(_DOCFX_ATTR.findall(attrs))
    source = found.get("source", "").strip()
    alt = found.get("alt-text", "").replace("]", ")").replace("[", "(")
    return f"![{alt}]({source})" if source else ""
