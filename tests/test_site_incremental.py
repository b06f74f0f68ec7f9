"""Incremental builds: after an edit, `kb build` re-renders only the pages that read what changed,
and the site it leaves equals a cold build of the same content, byte for byte."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from kbengine.compiler import compile_kb
from kbengine.site import build_site
from kbengine.site import render as render_module
from kbengine.site.output import Changes, remove_leftovers
from tests.conftest import copy_bundled


def files_of(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes()
            for p in sorted(site.rglob("*")) if p.is_file()}


def count_renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The URLs of the pages rendered from now on."""
    rendered: list[str] = []
    original = render_module.SiteRenderer.render

    def counting(self: render_module.SiteRenderer, page: render_module.Page) -> str:
        rendered.append(page.url)
        return original(self, page)

    monkeypatch.setattr(render_module.SiteRenderer, "render", counting)
    return rendered


def assert_equals_cold(root: Path, site: Path, tmp_path: Path, *, search: bool = False) -> None:
    build_site(compile_kb(root), site, search=search)
    cold = tmp_path / "cold"
    shutil.rmtree(cold, ignore_errors=True)
    build_site(compile_kb(root, use_cache=False), cold, search=search)
    incremental, fresh = files_of(site), files_of(cold)
    assert sorted(incremental) == sorted(fresh)
    assert [name for name in fresh if incremental[name] != fresh[name]] == []


@pytest.fixture
def kb_root(tmp_path: Path) -> Path:
    return copy_bundled(tmp_path / "kb")


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


def _article(root: Path, name: str) -> Path:
    return next(root.glob(f"articles/**/{name}"))


EDITS: dict[str, Callable[[Path], None]] = {
    "a body": lambda root: _edit(_article(root, "mailbox-full.md"), "\n\n", "\n\nA new first paragraph.\n\n"),
    "a title": lambda root: _edit(_article(root, "mailbox-full.md"), "title: ", "title: Renamed "),
    "a new tag": lambda root: _edit(_article(root, "mailbox-full.md"), "tags: [", "tags: [brand-new-tag, "),
    "a new article": lambda root: (root / "articles" / "new-one.md").write_text(
        "---\ntitle: A brand new article\ncategory: email\ntags: [printer]\n---\n"
        "See [[mailbox-full]] and [the missing one](missing.md).\n", "utf-8"),
    "a removed article": lambda root: _article(root, "mailbox-full.md").unlink(),
    "a tree": lambda root: _edit(next(root.glob("trees/*.yaml")), "prompt: ", "prompt: Now "),
    "kb.yaml": lambda root: _edit(root / "kb.yaml", "title: ", "title: Renamed "),
}


@pytest.mark.parametrize("change", sorted(EDITS))
def test_after_an_edit_the_incremental_site_equals_a_cold_build(change: str, kb_root: Path,
                                                                tmp_path: Path) -> None:
    site = tmp_path / "site"
    build_site(compile_kb(kb_root), site, search=False)
    EDITS[change](kb_root)
    assert_equals_cold(kb_root, site, tmp_path)


def test_an_edit_with_search_gives_the_same_site_and_index_as_a_cold_build(kb_root: Path,
                                                                           tmp_path: Path) -> None:
    site = tmp_path / "site"
    build_site(compile_kb(kb_root), site)
    EDITS["a title"](kb_root)
    assert_equals_cold(kb_root, site, tmp_path, search=True)
    assert (site / "pagefind" / "pagefind.js").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site")] == []


def test_a_body_edit_renders_only_that_article_page(kb_root: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    first = build_site(compile_kb(kb_root), site, search=False)
    rendered = count_renders(monkeypatch)
    EDITS["a body"](kb_root)
    build_site(compile_kb(kb_root), site, search=False)
    assert len(rendered) < first.pages / 20
    assert any("/articles/" in url for url in rendered)


def test_a_title_edit_renders_the_pages_that_list_or_link_the_article(
        kb_root: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    build_site(compile_kb(kb_root), site, search=False)
    rendered = count_renders(monkeypatch)
    EDITS["a title"](kb_root)
    build_site(compile_kb(kb_root), site, search=False)
    assert {"/en/", "/en/a-z/"} <= set(rendered)
    assert any("/tags/" in url for url in rendered) and any("/categories/" in url for url in rendered)


def test_a_build_of_unchanged_content_renders_and_writes_nothing(kb_root: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    first = build_site(compile_kb(kb_root), site)
    times = {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}
    rendered = count_renders(monkeypatch)
    again = build_site(compile_kb(kb_root), site)
    assert rendered == []
    assert {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()} == times
    assert (again.pages, again.files, again.bytes) == (first.pages, first.files, first.bytes)


def test_a_template_change_renders_every_page(kb_root: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    first = build_site(compile_kb(kb_root), site, search=False)
    own = kb_root / "site_templates"
    own.mkdir()
    (own / "footer-note.html").write_text("unused\n", "utf-8")
    rendered = count_renders(monkeypatch)
    build_site(compile_kb(kb_root), site, search=False)
    assert len(rendered) == first.pages


def test_a_changed_image_is_copied_again_though_no_page_changes(kb_root: Path, tmp_path: Path) -> None:
    article = _article(kb_root, "mailbox-full.md")
    (article.parent / "shot.png").write_bytes(b"first")
    article.write_text(article.read_text("utf-8") + "\n![A shot](shot.png)\n", "utf-8")
    site = tmp_path / "site"
    build_site(compile_kb(kb_root), site, search=False)
    (article.parent / "shot.png").write_bytes(b"second, longer")
    assert_equals_cold(kb_root, site, tmp_path)
    assert b"second, longer" in [p.read_bytes() for p in site.rglob("shot.png")]


def test_what_a_killed_in_place_build_changed_is_put_back_by_the_next_build(kb_root: Path,
                                                                            tmp_path: Path) -> None:
    site = tmp_path / "site"
    build_site(compile_kb(kb_root), site, search=False)
    before = files_of(site)
    changes = Changes(site)  # as a build would, then killed before it could finish or undo
    (site / "new.tmp").write_text("half of a new page", "utf-8")
    changes.put(site / "new.tmp", site / "en" / "new-page" / "index.html")
    (site / "home.tmp").write_text("a home page that should not stay", "utf-8")
    changes.put(site / "home.tmp", site / "en" / "index.html")
    changes.remove(site / "sitemap.xml")
    changes.undo_folder.rename(tmp_path / ".site.undo-999999999")  # its process is gone
    assert files_of(site) != before
    remove_leftovers(site)
    assert files_of(site) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site")] == []


def test_a_site_another_kb_built_in_between_is_built_again_whole(kb_root: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    build_site(compile_kb(kb_root), site, search=False)
    other = copy_bundled(tmp_path / "other")
    EDITS["a title"](other)
    build_site(compile_kb(other), site, search=False)  # the same folder, from another KB
    assert_equals_cold(kb_root, site, tmp_path)
