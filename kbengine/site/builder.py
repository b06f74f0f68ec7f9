"""Build the public site: plan the pages, render them, copy assets and images, index for search,
all inside a temporary folder that replaces the old site only when everything worked."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kbengine.kb import KnowledgeBase
from kbengine.model import Diagnostic
from kbengine.read.sources import contained
from kbengine.site.children import die_with_parent
from kbengine.site.output import atomic_output, output_file
from kbengine.site.pagefind import index_site
from kbengine.site.pages import SitePlan, plan_site
from kbengine.site.render import SiteRenderer, template_folders
from kbengine.site.sitemap import robots_txt, sitemap_xml

Progress = Callable[[str, int, int], None]  # (stage, done, total)
_PARALLEL_FROM = 1000  # pages; below this, starting worker processes costs more than it saves
_CHUNK = 100
_worker: tuple[SiteRenderer, Path] | None = None  # set in each forked worker


class ContentErrors(Exception):
    """The KB has errors (as `kb check` reports them); the site is not built."""

    def __init__(self, errors: list[Diagnostic]) -> None:
        super().__init__(f"{len(errors)} error(s) in the content")
        self.errors = errors


@dataclass
class SiteSummary:
    out: str
    pages: int
    files: int
    bytes: int
    seconds: float
    languages: list[str] = field(default_factory=list)
    warnings: int = 0
    # found while rendering (an article shown as plain text); kb check cannot see these
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_site(kb: KnowledgeBase, out: Path, *, progress: Progress | None = None,
               search: bool = True, drafts: bool = False) -> SiteSummary:
    """Write the public site of `kb` to `out`, whole or not at all; with `drafts`, a preview that
    also shows draft and internal content (for `kb serve --drafts` only)."""
    if kb.errors:
        raise ContentErrors(kb.errors)
    started = time.perf_counter()
    report = progress or (lambda stage, done, total: None)
    with atomic_output(out) as folder:
        plan = plan_site(kb, drafts=drafts)
        renderer = SiteRenderer(plan, copy_assets(kb.root, folder, plan.urls.asset))
        used_files, rendering = _render_pages(renderer, folder, report)
        _copy_files(kb.root, folder, used_files, plan)
        _write(output_file(folder, "sitemap.xml"), sitemap_xml(plan))
        _write(output_file(folder, "robots.txt"), robots_txt(plan))
        if search:
            report("Indexing for search", 0, 1)
            index_site(folder)
            report("Indexing for search", 1, 1)
        files = [p for p in folder.rglob("*") if p.is_file()]
        size = sum(p.stat().st_size for p in files)
    # what kb check already said about an article (its estimate of KB110, KB109) is not news
    known = {(d.path, d.code) for d in kb.warnings}
    news = sorted({d for d in rendering if (d.path, d.code) not in known}, key=_order)
    return SiteSummary(str(out), len(plan.pages), len(files), size,
                       round(time.perf_counter() - started, 3), plan.languages,
                       len(kb.warnings) + len(news), news)


def _order(diagnostic: Diagnostic) -> tuple[str, int, str]:
    return diagnostic.path, diagnostic.line, diagnostic.code


def _render_pages(renderer: SiteRenderer, folder: Path,
                  report: Progress) -> tuple[set[str], list[Diagnostic]]:
    """Render and write every page, in worker processes for big sites; the KB files pages use, and
    what rendering found."""
    global _worker
    pages, total = renderer.plan.pages, len(renderer.plan.pages)
    workers = min(os.cpu_count() or 1, 8)
    if total < _PARALLEL_FROM or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        for done, page in enumerate(pages, start=1):
            _write(output_file(folder, renderer.plan.urls.output_path(page.url)), renderer.render(page))
            if done % 25 == 0 or done == total:
                report("Rendering pages", done, total)
        return renderer.files, renderer.diagnostics
    # Forked workers inherit the compiled KB and the renderer: nothing big is pickled.
    _worker = (renderer, folder)
    try:
        chunks = [range(start, min(start + _CHUNK, total)) for start in range(0, total, _CHUNK)]
        used: set[str] = set()
        found: list[Diagnostic] = []
        done = 0
        with multiprocessing.get_context("fork").Pool(workers, initializer=die_with_parent) as pool:
            for files, diagnostics, count in pool.imap_unordered(_render_chunk, chunks):
                used |= files
                found += diagnostics
                done += count
                report("Rendering pages", done, total)
        return used, found
    finally:
        _worker = None


def _render_chunk(indexes: range) -> tuple[set[str], list[Diagnostic], int]:
    assert _worker is not None
    renderer, folder = _worker
    renderer.diagnostics.clear()  # each chunk reports what it found, once
    for index in indexes:
        page = renderer.plan.pages[index]
        _write(output_file(folder, renderer.plan.urls.output_path(page.url)), renderer.render(page))
    return renderer.files, list(renderer.diagnostics), len(indexes)


def copy_assets(root: Path, folder: Path, asset_url: Callable[[str], str]) -> dict[str, str]:
    """Copy the default assets, then the KB's own over them; {name: URL with a content version}."""
    target = folder / "assets"
    target.mkdir(parents=True, exist_ok=True)
    for templates in reversed(template_folders(root)):
        source = templates / "assets"
        for path in sorted(source.rglob("*")) if source.is_dir() else []:
            if path.is_file() and contained(templates, path.relative_to(templates).as_posix()):
                copied = target / path.relative_to(source)
                copied.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, copied)  # a symlink out of the templates is never published
    urls = {}
    for path in sorted(target.rglob("*")):
        if path.is_file():
            name = path.relative_to(target).as_posix()
            version = hashlib.blake2b(path.read_bytes(), digest_size=4).hexdigest()
            urls[name] = f"{asset_url(name)}?v={version}"
    return urls


def _copy_files(root: Path, folder: Path, files: set[str], plan: SitePlan) -> None:
    """Copy the images and documents public pages use; nothing else leaves the KB."""
    for rel in sorted(files):
        source = contained(root, rel)
        if source is None or not source.is_file():
            continue  # kb check reports it (KB107, KB503); nothing outside the KB is published
        target = output_file(folder, plan.urls.output_path(plan.urls.file(rel)))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
