"""Build the public site: plan the pages, render them, copy assets and images, index for search,
all inside a temporary folder that replaces the old site only when everything worked."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kbengine.cache import cache_key
from kbengine.kb import KnowledgeBase
from kbengine.model import Diagnostic
from kbengine.read.sources import contained
from kbengine.search.lexicon import synonyms_for
from kbengine.site.children import die_with_parent
from kbengine.site.output import (
    MARKER,
    Changes,
    aside_file,
    atomic_output,
    check_replaceable,
    output_file,
    remove_leftovers,
)
from kbengine.site.pagefind import BUNDLE, index_site
from kbengine.site.pages import SitePlan, plan_site
from kbengine.site.render import SiteRenderer, template_folders
from kbengine.site.sitemap import robots_txt, sitemap_xml
from kbengine.site.state import (
    BuildState,
    PageRecord,
    Stamps,
    digest,
    folder_stamp,
    forget_state,
    page_identity,
    read_state,
    site_id,
    state_file,
    write_state,
)

Progress = Callable[[str, int, int], None]  # (stage, done, total)
_PARALLEL_FROM = 1000  # pages; below this, starting worker processes costs more than it saves
_CHUNK = 100
_worker: tuple[SiteRenderer, Changes] | None = None  # set in each forked worker


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
    """Write the public site of `kb` to `out`; with `drafts`, a preview that also shows draft and
    internal content (for `kb serve --drafts` only).

    A first build (or one over a site without build state) is made in a folder beside `out` and
    swapped in whole. Later builds update `out` in place, file by file (each file replaced in one
    step), re-rendering only the pages whose inputs changed; the build state is removed first and
    written last, so a build that stops half-way makes the next one render everything."""
    if kb.errors:
        raise ContentErrors(kb.errors)
    started = time.perf_counter()
    report = progress or (lambda stage, done, total: None)
    out = out.absolute()
    check_replaceable(out)
    remembered = state_file(kb.root, out)
    previous = read_state(remembered) if not out.is_symlink() else None
    if previous is not None and (previous.site is None or previous.site != site_id(out / MARKER)):
        previous = None  # not the site this state describes
    inputs = digest(cache_key(), kb.fingerprint, folder_stamp(template_folders(kb.root)),
                    search, drafts)
    if previous is not None and _unchanged(kb, out, previous, inputs):
        return _summary(out, previous, kb, started)
    if previous is None:
        with atomic_output(out) as folder:
            fresh = Changes(folder, out, undoable=False)
            try:
                state = _build(kb, fresh, BuildState(), inputs, report, search, drafts)
            finally:
                fresh.keep()
        state.site = site_id(out / MARKER)
        write_state(remembered, state)
        return _summary(out, state, kb, started)
    remove_leftovers(out)
    changes = Changes(out)
    forget_state(remembered)  # until the build is done, the site has no state
    try:
        state = _build(kb, changes, previous, inputs, report, search, drafts)
    except BaseException:
        changes.undo()
        write_state(remembered, previous)  # the site is as it was
        raise
    changes.keep()
    state.site = previous.site
    write_state(remembered, state)
    return _summary(out, state, kb, started)


def _summary(out: Path, state: BuildState, kb: KnowledgeBase, started: float) -> SiteSummary:
    # what kb check already said about an article (its estimate of KB110, KB109) is not news
    known = {(d.path, d.code) for d in kb.warnings}
    found = {d for record in state.pages.values() for d in record.diagnostics}
    news = sorted((d for d in found if (d.path, d.code) not in known), key=_order)
    return SiteSummary(str(out), len(state.pages), state.files, state.bytes,
                       round(time.perf_counter() - started, 3), state.languages,
                       len(kb.warnings) + len(news), news)


def _unchanged(kb: KnowledgeBase, out: Path, state: BuildState, inputs: str) -> bool:
    """Nothing to do: same content, code, templates and options, and the files pages include or
    copy (which the KB's fingerprint knows by name only) are as they were."""
    if state.inputs != inputs or not (out / "index.html").is_file():
        return False
    outside = {key for record in state.pages.values() for key in record.keys
               if key.startswith(("include:", "file:"))}
    stamps = Stamps(kb.root)
    if any(stamps.of(key) != state.outside.get(key) for key in outside):
        return False
    return all(_stat(kb.root, rel) == known for rel, known in state.copied.items())


def _stat(root: Path, rel: str) -> tuple[int, int] | None:
    source = contained(root, rel)
    try:
        info = source.stat() if source is not None else None
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size) if info is not None else None


def _build(kb: KnowledgeBase, changes: Changes, previous: BuildState, inputs: str, report: Progress,
           search: bool, drafts: bool) -> BuildState:
    folder = changes.folder
    plan = plan_site(kb, drafts=drafts)
    asset_urls, assets_changed = sync_assets(kb.root, changes, plan.urls.asset)
    setting = digest(cache_key(), repr(kb.config), plan.languages, drafts, plan.urls,
                     sorted(asset_urls.items()), folder_stamp(template_folders(kb.root)))
    stamps = Stamps(kb.root, plan)
    fresh = previous.setting == setting
    records: dict[str, PageRecord] = {}
    todo: list[tuple[int, str]] = []
    for index, page in enumerate(plan.pages):
        output = plan.urls.output_path(page.url)
        known = previous.pages.get(output) if fresh else None
        if (known is not None and known.identity == page_identity(page)
                and stamps.combined(known.keys) == known.stamp):
            records[output] = known
        else:
            todo.append((index, output))
    renderer = SiteRenderer(plan, asset_urls)
    changed = assets_changed
    for index, output, keys, files, diagnostics, written in _render_pages(renderer, changes, todo, report):
        records[output] = PageRecord(page_identity(plan.pages[index]), keys, stamps.combined(keys),
                                     files, diagnostics)
        if written is not None:
            changes.put(written, output_file(folder, output))
            changed = True
    for output in sorted(previous.pages.keys() - records.keys()):
        changed = True
        _remove(changes, output)
    copied = _copy_files(kb.root, changes, {f for r in records.values() for f in r.files}, plan,
                         previous.copied)
    changed |= _write_if_changed(changes, "sitemap.xml", sitemap_xml(plan))
    changed |= _write_if_changed(changes, "robots.txt", robots_txt(plan))
    if search and (changed or not previous.searched):
        report("Indexing for search", 0, 1)
        index_site(folder, changes, lambda lang: synonyms_for(kb.config.search, lang))
        report("Indexing for search", 1, 1)
    elif not search:
        for path in sorted((folder / BUNDLE).rglob("*")):
            if path.is_file():
                _remove(changes, path.relative_to(folder).as_posix())
    site_files = [p for p in folder.rglob("*") if p.is_file()]
    outside = {key for record in records.values() for key in record.keys
               if key.startswith(("include:", "file:"))}
    return BuildState(inputs, setting, {o: records[o] for o in sorted(records)}, copied, search,
                      {key: stamps.of(key) for key in sorted(outside)}, plan.languages, len(site_files),
                      sum(p.stat().st_size for p in site_files))


def _order(diagnostic: Diagnostic) -> tuple[str, int, str]:
    return diagnostic.path, diagnostic.line, diagnostic.code


# index in the plan, output path, keys read, KB files used, diagnostics, the new file (if changed)
Rendered = tuple[int, str, tuple[str, ...], frozenset[str], tuple[Diagnostic, ...], Path | None]


def _render_pages(renderer: SiteRenderer, changes: Changes, todo: list[tuple[int, str]],
                  report: Progress) -> Iterator[Rendered]:
    """Render and write the pages `todo` (index in the plan, output path), in worker processes for
    many pages; for each, what it read, the KB files it uses, what rendering found, and whether
    its file changed."""
    global _worker
    total = len(todo)
    workers = min(os.cpu_count() or 1, 8)
    if total < _PARALLEL_FROM or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        for done, (index, output) in enumerate(todo, start=1):
            yield _render_one(renderer, changes, index, output)
            if done % 25 == 0 or done == total:
                report("Rendering pages", done, total)
        return
    # Forked workers inherit the compiled KB and the renderer: nothing big is pickled.
    _worker = (renderer, changes)
    try:
        chunks = [todo[start:start + _CHUNK] for start in range(0, total, _CHUNK)]
        done = 0
        with multiprocessing.get_context("fork").Pool(workers, initializer=die_with_parent) as pool:
            for results in pool.imap_unordered(_render_chunk, chunks):
                yield from results
                done += len(results)
                report("Rendering pages", done, total)
    finally:
        _worker = None


def _render_chunk(todo: list[tuple[int, str]]) -> list[Rendered]:
    assert _worker is not None
    renderer, changes = _worker
    return [_render_one(renderer, changes, index, output) for index, output in todo]


def _render_one(renderer: SiteRenderer, changes: Changes, index: int, output: str) -> Rendered:
    plan = renderer.plan
    plan.touched, renderer.files, renderer.diagnostics = set(), set(), []
    html = renderer.render(plan.pages[index])
    keys = tuple(sorted(plan.touched))
    plan.touched = None
    written = _aside_if_changed(output_file(changes.folder, output), html, changes.aside)
    return index, output, keys, frozenset(renderer.files), tuple(renderer.diagnostics), written


def _remove(changes: Changes, output: str) -> None:
    """Delete a file the site no longer has, and the folders it leaves empty."""
    folder = changes.folder
    path = output_file(folder, output)
    changes.remove(path)
    for parent in path.parents:
        if parent == folder or not parent.is_relative_to(folder):
            break
        try:
            parent.rmdir()
        except OSError:
            break  # not empty: other pages live there


def sync_assets(root: Path, changes: Changes, asset_url: Callable[[str], str]) -> tuple[dict[str, str], bool]:
    """The default assets, then the KB's own over them, into assets/ (only those that changed);
    {name: URL with a content version}, and whether any file changed."""
    wanted: dict[str, bytes] = {}
    for templates in reversed(template_folders(root)):
        source = templates / "assets"
        for path in sorted(source.rglob("*")) if source.is_dir() else []:
            if path.is_file() and contained(templates, path.relative_to(templates).as_posix()):
                wanted[path.relative_to(source).as_posix()] = path.read_bytes()  # never follows a link out
    target = changes.folder / "assets"
    changed = False
    for name, data in wanted.items():
        changed |= _write_if_changed(changes, f"assets/{name}", data)
    for path in sorted(target.rglob("*")) if target.is_dir() else []:
        if path.is_file() and path.relative_to(target).as_posix() not in wanted:
            _remove(changes, path.relative_to(changes.folder).as_posix())
            changed = True
    urls = {name: f"{asset_url(name)}?v={hashlib.blake2b(data, digest_size=4).hexdigest()}"
            for name, data in sorted(wanted.items())}
    return urls, changed


def _copy_files(root: Path, changes: Changes, files: set[str], plan: SitePlan,
                copied: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    """Copy the images and documents public pages use (those changed since `copied`, the files
    and stats of the last build); nothing else leaves the KB. Files no page uses are removed."""
    now: dict[str, tuple[int, int]] = {}
    for rel in sorted(files):
        source = contained(root, rel)
        stat = _stat(root, rel)
        if source is None or stat is None or not source.is_file():
            continue  # kb check reports it (KB107, KB503); nothing outside the KB is published
        target = output_file(changes.folder, plan.urls.output_path(plan.urls.file(rel)))
        if copied.get(rel) != stat or not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            aside = changes.aside_file()
            shutil.copyfile(source, aside)
            changes.put(aside, target)
        now[rel] = stat
    for rel in sorted(copied.keys() - now.keys()):
        _remove(changes, plan.urls.output_path(plan.urls.file(rel)))
    return now


def _write_if_changed(changes: Changes, rel: str, content: str | bytes) -> bool:
    """Put `content` at `rel` in the site unless it is already there; whether the file changed."""
    path = output_file(changes.folder, rel)
    aside = _aside_if_changed(path, content, changes.aside)
    if aside is not None:
        changes.put(aside, path)
    return aside is not None


def _aside_if_changed(path: Path, content: str | bytes, folder: Path) -> Path | None:
    """`content` written into `folder` (beside the site), ready to be renamed over `path`; None
    when `path` holds it already."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return None
    except OSError:
        pass  # not there yet
    aside = aside_file(folder)
    aside.write_bytes(data)
    return aside
