"""Compile a KB: find its files, load them (reusing the cache in .kb/), build the graph.

The cache is keyed by content hashes: an unchanged file is never parsed twice, and an
unchanged KB is one pickle load. Deleting .kb/ is always safe.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kbengine import __version__ as _release
from kbengine.graph import KBGraph, build_graph
from kbengine.model import Article, Config, Diagnostic, Tree
from kbengine.slugs import slugify
from kbengine.sources import content_hash, load_article, load_config, load_tree

CONFIG_FILE = "kb.yaml"
CACHE_DIR = ".kb"
_CACHE_FILE = "compiled.pickle"
_SNIPPET_FOLDERS = {"includes", "_includes", "snippets"}  # DocFX/Jekyll partials, not articles
Progress = Callable[[int, int], None]


def _code_version() -> str:
    """The release plus the newest module time, so a changed kbengine never reads an old cache."""
    package = Path(__file__).parent
    newest = max(p.stat().st_mtime_ns for p in [*package.glob("*.py"), *package.glob("schemas/*.json")])
    return f"{_release}-{newest}"


__version__ = _code_version()


@dataclass
class KnowledgeBase:
    """A compiled KB: every article and tree, the graph, and what the checks found."""

    root: Path
    config: Config
    articles: dict[str, Article]
    trees: dict[str, Tree]
    graph: KBGraph
    diagnostics: list[Diagnostic]
    files: list[str] = field(default_factory=list)
    fingerprint: str = ""

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]


def find_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` holding kb.yaml (or else articles/ or trees/)."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    for folder in (start, *start.parents):
        if (folder / "articles").is_dir() or (folder / "trees").is_dir():
            return folder
    return None


def discover(root: Path) -> tuple[list[str], list[str], list[str]]:
    """(article files, tree files, every other file) under articles/ and trees/, sorted."""
    articles: list[str] = []
    trees: list[str] = []
    others: list[str] = []
    for top in ("articles", "trees"):
        base = root / top
        for folder, dirs, names in os.walk(base):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            rel_folder = Path(folder).relative_to(root).as_posix()
            snippets = bool(_SNIPPET_FOLDERS & set(rel_folder.split("/")))
            for name in sorted(names):
                if name.startswith("."):
                    continue
                rel = f"{rel_folder}/{name}"
                lower = name.lower()
                if top == "articles" and lower.endswith((".md", ".markdown")) and not snippets:
                    articles.append(rel)
                elif top == "trees" and lower.endswith((".yaml", ".yml")):
                    trees.append(rel)
                else:
                    others.append(rel)
    return articles, trees, others


class _Cache:
    """The pickle in .kb/: file stats -> hashes, hashes -> parse results, the last compile."""

    def __init__(self, root: Path) -> None:
        self.path = root / CACHE_DIR / _CACHE_FILE
        self.state: dict[str, Any] = {"version": __version__, "stats": {}, "parsed": {}}
        try:
            with self.path.open("rb") as handle:
                state = pickle.load(handle)
            if isinstance(state, dict) and state.get("version") == __version__:
                self.state = state
        except Exception:
            pass

    def save(self) -> None:
        try:
            self.path.parent.mkdir(exist_ok=True)
            aside = self.path.with_suffix(f".{os.getpid()}.tmp")
            with aside.open("wb") as handle:
                pickle.dump(self.state, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(aside, self.path)
        except OSError:
            pass  # a read-only KB still compiles; it is just not cached


def compile_kb(root: Path, *, use_cache: bool = True, progress: Progress | None = None) -> KnowledgeBase:
    """Load and check everything under `root`; never raises on bad content."""
    root = root.resolve()
    cache = _Cache(root) if use_cache else None
    stats: dict[str, tuple[int, int, str]] = cache.state["stats"] if cache else {}
    article_files, tree_files, other_files = discover(root)
    sources = ([CONFIG_FILE] if (root / CONFIG_FILE).is_file() else []) + article_files + tree_files
    hashes: dict[str, str] = {}
    fresh: dict[str, bytes] = {}
    diagnostics: list[Diagnostic] = []
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
    if cache and cache.state.get("fingerprint") == fingerprint and not diagnostics:
        kb: KnowledgeBase = cache.state["kb"]
        kb.root = root
        return kb

    parsed: dict[str, tuple[str, Any, list[Diagnostic]]] = cache.state["parsed"] if cache else {}
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
    compiled = build_graph(config, articles_by_id, trees_by_id, {*article_files, *other_files})
    diagnostics.extend(compiled.diagnostics)
    diagnostics.sort(key=lambda d: (d.path, d.line, d.col, d.code))
    kb = KnowledgeBase(root, config, articles_by_id, trees_by_id, compiled.graph, diagnostics,
                       article_files + tree_files + other_files, fingerprint)
    if cache:
        cache.state = {"version": __version__, "stats": new_stats, "parsed": new_parsed,
                       "fingerprint": fingerprint, "kb": kb}
        cache.save()
    return kb


def _assign_article_ids(articles: list[Article], diagnostics: list[Diagnostic]) -> dict[str, Article]:
    """Unique ids: an explicit duplicate is an error; colliding derived ids get qualified by path."""
    groups: dict[str, list[Article]] = {}
    for article in articles:
        groups.setdefault(article.id, []).append(article)
    result: dict[str, Article] = {}
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
        for parsed in group:
            # a copy: the cached parse keeps the id from the file name, which a later compile needs
            # once the collision is gone
            article = replace(parsed, id=_path_id(parsed.path))
            result[article.id] = article
            others = ", ".join(a.path for a in group if a is not parsed)
            diagnostics.append(Diagnostic(
                article.path, 1, 1, "KB302", "warning",
                f"file name gives the id '{article_id}', as does {others}; using '{article.id}'",
                "set an explicit id: in the front matter, or rename one of the files"))
    return result


def _path_id(path: str) -> str:
    parts = Path(path).with_suffix("").parts[1:]  # drop the articles/ folder
    return "/".join(slugify(part) for part in parts)


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
