"""Compile a KB: find its files, load them (reusing the cache in .kb/), build the graph.

The cache is keyed by content hashes: an unchanged file is never parsed twice, and an
unchanged KB is one small pickle load (articles and the graph follow on first use, so
`kb walk` on a large KB does not pay for every article body). Deleting .kb/ is always safe.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kbengine.layout import CACHE_DIR as CACHE_DIR  # re-exported: many modules import them from here
from kbengine.layout import CONFIG_FILE as CONFIG_FILE
from kbengine.layout import code_version as __version__
from kbengine.layout import find_root as find_root
from kbengine.model import Article, Config, Diagnostic, Tree
from kbengine.read.slugs import slugify
from kbengine.read.sources import contained, content_hash, load_article, load_config, load_tree

if TYPE_CHECKING:  # the graph (networkx) and the checks load only when a compile runs
    from kbengine.graph import KBGraph

_CACHE_FILE = "compiled.pickle"  # file stats, fingerprint, the KB without articles and graph
_CONTENT_FILE = "content-{fingerprint}.pickle"  # articles and graph of that compile
_PARSED_FILE = "parsed.pickle"  # parse results by content hash, read only when something changed
_SNIPPET_FOLDERS = {"includes", "_includes", "snippets"}  # DocFX/Jekyll partials, not articles
Progress = Callable[[int, int], None]


@dataclass
class KnowledgeBase:
    """A compiled KB: every article and tree, the graph, and what the checks found."""

    root: Path
    config: Config
    trees: dict[str, Tree]
    diagnostics: list[Diagnostic]
    files: list[str] = field(default_factory=list)
    fingerprint: str = ""
    # None when loaded from the cache: read from content.pickle on first use.
    _articles: dict[str, Article] | None = field(default=None, repr=False)
    _graph: KBGraph | None = field(default=None, repr=False)

    @property
    def articles(self) -> dict[str, Article]:
        if self._articles is None:
            self._load_content()
        assert self._articles is not None
        return self._articles

    @property
    def graph(self) -> KBGraph:
        if self._graph is None:
            self._load_content()
        assert self._graph is not None
        return self._graph

    def _load_content(self) -> None:
        path = self.root / CACHE_DIR / _CONTENT_FILE.format(fingerprint=self.fingerprint)
        content = _read_pickle(path)
        if not isinstance(content, dict) or content.get("fingerprint") != self.fingerprint:
            # damaged or long replaced by newer compiles: compile again, and cache that
            fresh = _compile(self.root, use_cache=True, progress=None, allow_warm=False)
            content = {"articles": fresh._articles, "graph": fresh._graph}
        self._articles, self._graph = content["articles"], content["graph"]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]


def discover(root: Path) -> tuple[list[str], list[str], list[str], list[str]]:
    """(article files, tree files, every other file, files that lead outside the KB) under articles/
    and trees/, sorted; a symlink out of the KB is listed last and never read."""
    articles: list[str] = []
    trees: list[str] = []
    others: list[str] = []
    outside: list[str] = []
    if os.path.islink(root / CONFIG_FILE) and contained(root, CONFIG_FILE) is None:
        outside.append(CONFIG_FILE)
    for top in ("articles", "trees"):
        base = root / top
        if base.is_dir() and contained(root, top) is None:
            outside.append(top)
            continue
        for folder, dirs, names in os.walk(base):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            rel_folder = Path(folder).relative_to(root).as_posix()
            snippets = bool(_SNIPPET_FOLDERS & set(rel_folder.split("/")))
            for name in sorted(names):
                if name.startswith("."):
                    continue
                rel = f"{rel_folder}/{name}"
                lower = name.lower()
                if os.path.islink(os.path.join(folder, name)) and contained(root, rel) is None:
                    outside.append(rel)
                elif top == "articles" and lower.endswith((".md", ".markdown")) and not snippets:
                    articles.append(rel)
                elif top == "trees" and lower.endswith((".yaml", ".yml")):
                    trees.append(rel)
                else:
                    others.append(rel)
    return articles, trees, others, outside


def outside_diagnostics(outside: list[str]) -> list[Diagnostic]:
    """KB107 for each file or folder that is a link to outside the KB."""
    return [Diagnostic(rel, 1, 1, "KB107", "error",
                       "this is a link to a file outside the KB; kb does not read or publish it",
                       "copy the file into the KB instead of linking to it") for rel in outside]


def _read_pickle(path: Path) -> Any:
    try:
        with path.open("rb") as handle:
            return pickle.load(handle)
    except Exception:  # a missing or damaged cache file is rebuilt, never fatal
        return None


def _write_pickle(path: Path, value: Any) -> None:
    """Write aside and swap in, so a reader never sees half a file."""
    aside = path.with_suffix(f".{os.getpid()}.tmp")
    with aside.open("wb") as handle:
        pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(aside, path)


class _Cache:
    """The pickles in .kb/: file stats and the last compile, its content, parse results."""

    def __init__(self, root: Path) -> None:
        self.folder = root / CACHE_DIR
        self.state: dict[str, Any] = {"version": __version__, "stats": {}}
        state = _read_pickle(self.folder / _CACHE_FILE)
        if isinstance(state, dict) and state.get("version") == __version__:
            self.state = state

    def parsed(self) -> dict[str, Any]:
        parsed = _read_pickle(self.folder / _PARSED_FILE)
        ok = isinstance(parsed, dict) and parsed.get("version") == __version__
        return parsed["parsed"] if ok else {}

    def save(self, stats: dict[str, Any], parsed: dict[str, Any], kb: KnowledgeBase) -> None:
        try:
            self.folder.mkdir(exist_ok=True)
            _write_pickle(self.folder / _PARSED_FILE, {"version": __version__, "parsed": parsed})
            content = self.folder / _CONTENT_FILE.format(fingerprint=kb.fingerprint)
            _write_pickle(content, {"fingerprint": kb.fingerprint,
                                    "articles": kb.articles, "graph": kb.graph})
            # keep the previous compile's content too, for a process still holding that KB
            older = sorted(self.folder.glob(_CONTENT_FILE.format(fingerprint="*")),
                           key=lambda p: p.stat().st_mtime_ns, reverse=True)
            for stale in older[2:]:
                stale.unlink(missing_ok=True)
            # written last: it names the fingerprint that content.pickle must carry
            _write_pickle(self.folder / _CACHE_FILE, {
                "version": __version__, "stats": stats, "fingerprint": kb.fingerprint,
                "kb": replace(kb, _articles=None, _graph=None)})
        except OSError:
            pass  # a read-only KB still compiles; it is just not cached


def compile_kb(root: Path, *, use_cache: bool = True, progress: Progress | None = None) -> KnowledgeBase:
    """Load and check everything under `root`; never raises on bad content."""
    return _compile(root, use_cache, progress, allow_warm=True)


def _compile(root: Path, use_cache: bool, progress: Progress | None, allow_warm: bool) -> KnowledgeBase:
    root = root.resolve()
    cache = _Cache(root) if use_cache else None
    stats: dict[str, tuple[int, int, str]] = cache.state["stats"] if cache else {}
    article_files, tree_files, other_files, outside = discover(root)
    config_file = (root / CONFIG_FILE).is_file() and CONFIG_FILE not in outside
    sources = ([CONFIG_FILE] if config_file else []) + article_files + tree_files
    hashes: dict[str, str] = {}
    fresh: dict[str, bytes] = {}
    diagnostics: list[Diagnostic] = outside_diagnostics(outside)
    new_stats: dict[str, tuple[int, int, str]] = {}
    for rel in sources:
        try:
            info = os.stat(root / rel)
            known = stats.get(rel)
            if known and known[0] == info.st_mtime_ns and known[1] == info.st_size:
                hashes[rel] = known[2]
            else:
                fresh[rel] = (root / rel).read_bytes()
                hashes[rel] = content_hash(fresh[rel])
            new_stats[rel] = (info.st_mtime_ns, info.st_size, hashes[rel])
        except OSError as error:
            diagnostics.append(Diagnostic(rel, 1, 1, "KB106", "error",
                                          f"the file cannot be read: {error.strerror}", ""))
    fingerprint = hashlib.blake2b(
        repr((__version__, sorted(hashes.items()), other_files)).encode(), digest_size=16).hexdigest()
    if allow_warm and cache and cache.state.get("fingerprint") == fingerprint and not diagnostics:
        kb: KnowledgeBase = cache.state["kb"]
        kb.root = root
        return kb

    parsed: dict[str, tuple[str, Any, list[Diagnostic]]] = cache.parsed() if cache else {}
    new_parsed: dict[str, tuple[str, Any, list[Diagnostic]]] = {}

    def load(rel: str, loader: Callable[[str, bytes], tuple[Any, list[Diagnostic]]], salt: str = "") -> Any:
        # `salt` holds the settings a parse depends on: a new default language re-reads every file
        key = f"{hashes[rel]}{salt}"
        entry = parsed.get(rel)
        if entry is None or entry[0] != key:
            data = fresh.get(rel)
            if data is None:
                data = (root / rel).read_bytes()
            entry = (key, *loader(rel, data))
        new_parsed[rel] = entry
        diagnostics.extend(entry[2])
        return entry[1]

    config = Config()
    if CONFIG_FILE in hashes:
        config = load(CONFIG_FILE, load_config)
    lang = config.default_language
    total = len(article_files) + len(tree_files)
    articles: list[Article] = []
    for done, rel in enumerate(article_files, start=1):
        if rel in hashes:
            article = load(rel, lambda r, d: load_article(r, d, lang), salt=lang)
            if article is not None:
                articles.append(article)
        if progress and (done % 50 == 0 or done == total):
            progress(done, total)
    trees: list[Tree] = []
    for rel in tree_files:
        if rel in hashes:
            tree = load(rel, lambda r, d: load_tree(r, d, lang), salt=lang)
            if tree is not None:
                trees.append(tree)
    if progress:
        progress(total, total)

    articles_by_id = _assign_article_ids(articles, diagnostics)
    trees_by_id = _unique_tree_ids(trees, diagnostics)
    from kbengine.check.examples import check_examples
    from kbengine.graph import build_graph

    compiled = build_graph(config, articles_by_id, trees_by_id, {*article_files, *other_files})
    diagnostics.extend(compiled.diagnostics)
    diagnostics.extend(check_examples(trees_by_id))
    diagnostics.sort(key=lambda d: (d.path, d.line, d.col, d.code))
    kb = KnowledgeBase(root, config, trees_by_id, diagnostics,
                       article_files + tree_files + other_files, fingerprint,
                       articles_by_id, compiled.graph)
    if cache:
        cache.save(new_stats, new_parsed, kb)
    return kb


def _assign_article_ids(articles: list[Article], diagnostics: list[Diagnostic]) -> dict[str, Article]:
    """Unique ids: an explicit duplicate is an error; colliding derived ids get qualified by path
    (and numbered if even that collides), always with a warning: two files never share an id."""
    groups: dict[str, list[Article]] = {}
    for article in articles:
        groups.setdefault(article.id, []).append(article)
    result: dict[str, Article] = {}
    renamed: list[tuple[Article, str, list[Article]]] = []
    for article_id, group in groups.items():
        if len(group) == 1:
            result[article_id] = group[0]
            continue
        if any(a.explicit_id for a in group):
            first, *rest = sorted(group, key=lambda a: (not a.explicit_id, a.path))
            result[article_id] = first
            for other in rest:
                line, col = other.where("id") if other.explicit_id else (1, 1)
                diagnostics.append(Diagnostic(
                    other.path, line, col, "KB301", "error",
                    f"id '{article_id}' is already used by {first.path}",
                    "give each article its own id"))
            continue
        renamed += [(parsed, article_id, group) for parsed in group]
    for parsed, article_id, group in renamed:  # after every unchanged id is taken
        new_id = base = _path_id(parsed.path)
        number = 1
        while new_id in result:
            number += 1
            new_id = f"{base}-{number}"
        # a copy: the cached parse keeps the id from the file name, which a later compile needs
        # once the collision is gone
        result[new_id] = replace(parsed, id=new_id)
        others = ", ".join(a.path for a in group if a is not parsed)
        diagnostics.append(Diagnostic(
            parsed.path, 1, 1, "KB302", "warning",
            f"file name gives the id '{article_id}', as does {others}; using '{new_id}'",
            "set an explicit id: in the front matter, or rename one of the files"))
    return result


def _path_id(path: str) -> str:
    parts = Path(path).with_suffix("").parts[1:]  # drop the articles/ folder
    return "/".join(slugify(part) or "article" for part in parts)


def _unique_tree_ids(trees: list[Tree], diagnostics: list[Diagnostic]) -> dict[str, Tree]:
    result: dict[str, Tree] = {}
    for tree in trees:
        if tree.id in result:
            line, col = tree.where("id")
            diagnostics.append(Diagnostic(tree.path, line, col, "KB301", "error",
                                          f"tree id '{tree.id}' is already used by "
                                          f"{result[tree.id].path}", "give each tree its own id"))
            continue
        result[tree.id] = tree
    return result
