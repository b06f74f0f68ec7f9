"""Pages render as written: the site's article bodies have the block structure a CommonMark
reference gives the same Markdown (lists, nested lists, code blocks, tables, quotes, headings).

Measured on the bundled KB, the corpus slice in tests/fixtures and, when it is on this machine,
a sample of the whole shared corpus. The reference is markdown-it-py's plain `commonmark` preset
with GFM tables. It reads the Markdown the site's parser reads (DocFX includes and images
expanded), so what is compared is the rendering, not the DocFX pre-processing. Callouts and
DocFX `[!div]` blocks are block quotes in the source that the site shows as a div: they count
as the block quotes they are.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from kbengine.read.sources import load_article
from kbengine.site.markdown import CALLOUT_KINDS, ArticleRenderer
from tests.conftest import CORPUS_SLICE, REPO, require_corpus

AGREEMENT = 0.98
_BLOCKS = {"ul", "ol", "li", "pre", "table", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "hr"}
_VOID = {"hr", "br", "img", "input", "meta", "link", "wbr"}
_QUOTE_LIKE = {"callout", "docfx-div"}


class _Skeleton(HTMLParser):
    """The block elements of an HTML fragment, each with how many blocks it sits in."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.blocks: list[tuple[int, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = set((dict(attrs).get("class") or "").split())
        if tag == "div" and classes & _QUOTE_LIKE:
            tag = "blockquote"
        if tag in _BLOCKS:
            self.blocks.append((sum(t in _BLOCKS for t in self.open), tag))
        if tag not in _VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index] == tag or (tag == "div" and self.open[index] == "blockquote"):
                del self.open[index:]
                return


def skeleton(html: str) -> list[tuple[int, str]]:
    parser = _Skeleton()
    parser.feed(html)
    parser.close()
    return parser.blocks


class _AnyLink:
    """Every link resolves, so no link is dropped from either rendering."""

    def wiki(self, target: str) -> tuple[str, str] | None:
        return "/wiki/", target

    def page(self, path: str) -> str | None:
        return "/page/"

    def file(self, path: str) -> str | None:
        return "/file"


REFERENCE = MarkdownIt("commonmark", {"html": True}).enable("table")


def differing(root: Path, files: list[Path]) -> list[str]:
    """KB-relative paths of the articles whose block structure differs from the reference."""
    renderer = ArticleRenderer(root, _AnyLink(), {kind: kind for kind in CALLOUT_KINDS})
    found = []
    for path in files:
        rel = path.relative_to(root).as_posix()
        article, _ = load_article(rel, path.read_bytes())
        if article is None:
            continue
        ours = renderer.render(article.body, rel, article.headings).html
        theirs = REFERENCE.render(renderer.source_text(article.body, rel))
        if skeleton(ours) != skeleton(theirs):
            found.append(rel)
    return found


def test_the_skeleton_keeps_nesting_and_treats_callouts_as_quotes() -> None:
    html = '<ol><li>a<ul><li>b</li></ul></li></ol><div class="callout"><p>x</p><pre>c</pre></div>'
    assert skeleton(html) == [(0, "ol"), (1, "li"), (2, "ul"), (3, "li"), (0, "blockquote"), (1, "pre")]


def test_lists_nested_by_two_or_three_spaces_stay_nested() -> None:
    body = "1. It must:\n   - be long;\n   - be new.\n2. Done.\n\n- a\n  - b\n"
    html = ArticleRenderer(REPO, _AnyLink(), {k: k for k in CALLOUT_KINDS}).render(body, "articles/a.md").html
    assert skeleton(html) == [(0, "ol"), (1, "li"), (2, "ul"), (3, "li"), (3, "li"), (1, "li"),
                              (0, "ul"), (1, "li"), (2, "ul"), (3, "li")]


def test_the_bundled_reset_password_page_shows_its_nested_list() -> None:
    path = REPO / "articles" / "accounts" / "reset-forgotten-password.md"
    article, _ = load_article("articles/accounts/reset-forgotten-password.md", path.read_bytes())
    assert article is not None
    html = ArticleRenderer(REPO, _AnyLink(), {k: k for k in CALLOUT_KINDS}).render(
        article.body, article.path, article.headings).html
    assert "<li>be at least <strong>12 characters</strong> long;</li>" in html
    assert (2, "ul") in skeleton(html)


def test_every_bundled_article_has_the_block_structure_of_commonmark() -> None:
    assert differing(REPO, sorted((REPO / "articles").rglob("*.md"))) == []


@pytest.mark.parametrize("sample", ["slice", "shared corpus"])
def test_corpus_articles_agree_with_commonmark_on_block_structure(sample: str) -> None:
    if sample == "slice":
        root, files = CORPUS_SLICE, sorted(CORPUS_SLICE.rglob("*.md"))
    else:  # every 8th article of the whole corpus, when it is on this machine
        root = require_corpus()
        files = sorted(root.rglob("*.md"))[::8]
    found = differing(root, files)
    agreement = 1 - len(found) / len(files)
    assert agreement >= AGREEMENT, f"{agreement:.1%} agree; differing: {found[:20]}"
