"""Markdown -> HTML for the site: anchors like kb check, callouts, links rewritten, output safe."""

from __future__ import annotations

from pathlib import Path

import pytest

from kbengine.read.scan import scan_body
from kbengine.site.markdown import ArticleRenderer
from tests.conftest import CORPUS_SLICE

LABELS = {"note": "Note", "tip": "Tip", "important": "Important", "warning": "Warning", "caution": "Caution"}


class Resolver:
    """Public articles `vpn` (articles/network/vpn.md) and tree `wifi`; `secret` is internal."""

    def wiki(self, target: str) -> tuple[str, str] | None:
        return {"vpn": ("/en/articles/vpn/", "Connect to the VPN"),
                "wifi": ("/en/fix/wifi/", "Wi-Fi does not connect")}.get(target)

    def page(self, path: str) -> str | None:
        return "/en/articles/vpn/" if path == "articles/network/vpn.md" else None

    def file(self, path: str) -> str | None:
        return f"/files/{path}" if path == "articles/network/media/shot.png" else None


@pytest.fixture
def renderer(tmp_path: Path) -> ArticleRenderer:
    return ArticleRenderer(tmp_path, Resolver(), LABELS)


def render(renderer: ArticleRenderer, body: str, source: str = "articles/network/page.md") -> str:
    return renderer.render(body, source, scan_body(body, 1)[0]).html


def test_heading_anchors_match_the_scanner_including_duplicates(renderer: ArticleRenderer) -> None:
    body = "## Before you start\n\ntext\n\n## Steps\n\n### Windows\n\n## Steps\n\n### Wi-Fi: can't connect!\n"
    html = render(renderer, body)
    for heading in scan_body(body, 1)[0]:
        assert f'id="{heading.anchor}"' in html
    assert 'id="steps-1"' in html


def test_a_long_article_gets_a_table_of_contents_of_its_sections(renderer: ArticleRenderer) -> None:
    body = "## One\n\n### One point one\n\n## Two\n"
    toc = renderer.render(body, "articles/a.md", scan_body(body, 1)[0]).toc
    assert [(e.level, e.text, e.anchor) for e in toc] == [
        (2, "One", "one"), (3, "One point one", "one-point-one"), (2, "Two", "two")]


@pytest.mark.parametrize("marker, kind, title", [
    ("[!NOTE]", "note", "Note"), ("[!WARNING]", "warning", "Warning"), ("[!tip]", "tip", "Tip")])
def test_github_and_docfx_alerts_become_callouts(renderer: ArticleRenderer, marker: str, kind: str,
                                                  title: str) -> None:
    html = render(renderer, f"> {marker}\n> Restart first.\n")
    assert f'class="callout callout-{kind}"' in html
    assert f'<p class="callout-title">{title}</p>' in html
    assert "Restart first." in html and marker not in html


def test_admonitions_become_callouts_with_their_title(renderer: ArticleRenderer) -> None:
    html = render(renderer, '!!! warning "Save your work"\n    The laptop restarts.\n')
    assert 'class="callout callout-warning"' in html
    assert '<p class="callout-title">Save your work</p>' in html


def test_wiki_links_point_at_public_pages_and_internal_ones_become_text(renderer: ArticleRenderer) -> None:
    html = render(renderer, "See [[vpn]], [[wifi|the Wi-Fi fix]] and [[secret]].")
    assert '<a href="/en/articles/vpn/">Connect to the VPN</a>' in html
    assert '<a href="/en/fix/wifi/">the Wi-Fi fix</a>' in html
    assert "<span>secret</span>" in html and 'href="/en/articles/secret' not in html


def test_relative_md_links_are_rewritten_and_keep_their_anchor(renderer: ArticleRenderer) -> None:
    html = render(renderer, "[VPN](vpn.md#connect), [hidden](../hr/internal.md), [web](https://example.org)")
    assert '<a href="/en/articles/vpn/#connect">VPN</a>' in html
    assert "<span>hidden</span>" in html
    assert '<a href="https://example.org">web</a>' in html


def test_images_that_exist_are_linked_and_missing_ones_dropped(renderer: ArticleRenderer) -> None:
    rendered = renderer.render("![Shot](media/shot.png) before ![Gone](media/gone.png) after",
                               "articles/network/page.md")
    assert 'src="/files/articles/network/media/shot.png"' in rendered.html
    assert "gone.png" not in rendered.html and "before" in rendered.html and "after" in rendered.html
    assert rendered.files == {"articles/network/media/shot.png"}


def test_docfx_includes_are_rendered_and_other_directives_degrade(tmp_path: Path) -> None:
    (tmp_path / "articles" / "includes").mkdir(parents=True)
    include = tmp_path / "articles" / "includes" / "note.md"
    include.write_text("---\nms.topic: include\n---\nShared **text**.\n")
    renderer = ArticleRenderer(tmp_path, Resolver(), LABELS)
    body = ('[!INCLUDE [note](includes/note.md)]\n\n:::image type="content" source="media/gone.png" '
            'alt-text="A screenshot.":::\n\n:::zone pivot="windows"\nOn Windows.\n:::zone-end\n'
            "\n[!INCLUDE [missing](includes/missing.md)]\n")
    html = renderer.render(body, "articles/page.md").html
    assert "Shared <strong>text</strong>." in html
    assert ":::" not in html and "INCLUDE" not in html and "On Windows." in html


def test_raw_html_is_sanitised(renderer: ArticleRenderer) -> None:
    body = '<script>alert(1)</script>\n\n<a href="javascript:alert(1)" onclick="x()">x</a>\n'
    html = render(renderer, body)
    assert "<script" not in html and "javascript:" not in html and "onclick" not in html


# Python-Markdown alone needs minutes for these lines: the timeout turns a hang into a failure.
@pytest.mark.timeout(30)
@pytest.mark.parametrize("line", ["[" * 200_000, "[x](" * 50_000, "[[a" * 70_000,
                                  "[!INCLUDE [" * 20_000, ":::image " * 50_000])
def test_hostile_lines_render_as_plain_text_without_hanging(renderer: ArticleRenderer, line: str) -> None:
    html = render(renderer, f"Before.\n\n{line}\n\nAfter.\n")
    assert "<p>Before.</p>" in html and "<p>After.</p>" in html
    assert "<a " not in html


def test_code_blocks_keep_wiki_syntax_as_written(renderer: ArticleRenderer) -> None:
    html = render(renderer, "```\n[[vpn]] and [!INCLUDE [x](y.md)]\n```\n")
    assert "[[vpn]] and [!INCLUDE [x](y.md)]" in html


# The CommonMark renderer keeps a fence indented 4 spaces inside a list item as CommonMark does; the
# Python-Markdown pipeline showed the rest of resolve-ediscovery-hold-issues.md raw (issue 14).
@pytest.mark.parametrize("rel", sorted(p.relative_to(CORPUS_SLICE).as_posix()
                                       for p in CORPUS_SLICE.rglob("*.md")))
def test_corpus_articles_render_with_anchors_the_scanner_agrees_with(rel: str) -> None:
    renderer = ArticleRenderer(CORPUS_SLICE, Resolver(), LABELS)
    text = (CORPUS_SLICE / rel).read_text("utf-8-sig")
    body = text.split("\n---", 1)[1] if text.startswith("---") else text
    headings = scan_body(body, 1)[0]
    html = renderer.render(body, rel, headings).html
    for heading in headings:
        assert f'id="{heading.anchor}"' in html, heading.anchor
    assert ":::image" not in html


def test_github_extensions_tables_task_lists_strikethrough_and_autolinks(renderer: ArticleRenderer) -> None:
    body = ("| Key | Does |\n|---|:-:|\n| F5 | Refresh |\n\n- [x] Saved\n- [ ] Restarted\n\n"
            "~~old~~ see www.example.org and <https://example.org/a>\n")
    html = render(renderer, body)
    assert '<div class="table-wrap">' in html and "<td" in html and "Refresh" in html
    assert html.count('type="checkbox"') == 2 and html.count('disabled="') == 2 and "checked" in html
    assert "<s>old</s>" in html
    assert '<a href="http://www.example.org">' in html and '<a href="https://example.org/a">' in html


def test_a_task_list_box_in_raw_html_cannot_become_a_form_field(renderer: ArticleRenderer) -> None:
    html = render(renderer, '<input type="password" name="pw" value="x">\n')
    assert 'type="checkbox"' in html and "password" not in html and "name=" not in html


def test_content_tabs_show_each_tab_with_its_title(renderer: ArticleRenderer) -> None:
    body = ('=== "Windows"\n\n    Press **Win+L**.\n\n    - one\n\n'
            '=== "Mac"\n\n    Press Ctrl+Cmd+Q.\n\nAfter.\n')
    html = render(renderer, body)
    assert html.count('<section class="content-tab">') == 2
    assert '<p class="content-tab-title">Windows</p>' in html and "<strong>Win+L</strong>" in html
    assert "<li>one</li>" in html and "<p>After.</p>" in html and "===" not in html


def test_alerts_with_text_on_the_marker_line_and_docfx_divs(renderer: ArticleRenderer) -> None:
    html = render(renderer, '> [!Caution] Unplug it first.\n\n'
                            '> [!div class="nextstepaction"]\n> [Go](x.md)\n')
    assert 'class="callout callout-caution"' in html and "Unplug it first." in html
    assert '<div class="docfx-div nextstepaction">' in html and "[!div" not in html


def test_an_admonition_without_a_title_gets_the_pages_word(tmp_path: Path) -> None:
    dutch = ArticleRenderer(tmp_path, Resolver(), {**LABELS, "tip": "Tip (nl)"})
    html = dutch.render("!!! hint\n    Try again.\n", "articles/a.md").html
    assert '<p class="callout-title">Tip (nl)</p>' in html and "Try again." in html
