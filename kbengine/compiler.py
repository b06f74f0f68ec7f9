"""Compile a KB: find its files, load them (reusing the cache in .kb/), build the graph, check.

An unchanged file is never parsed twice (cache.py); an unchanged KB is one small pickle load.
`compile_kb` gives every article and the graph; `compile_outline` gives what `kb check` and
`kb walk` need, and `load_content` adds the articles to an outline when a command asks for them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kbengine.cache import CompileCache, cache_key
from kbengine.check.registry import diagnostic
from kbengine.kb import CONFIG_FILE, KBOutline, KnowledgeBase
from kbengine.layout import find_root as find_root  # re-exported: where it always was
from kbengine.model import Article, Config, Diagnostic, Tree
from kbengine.read.slugs import slugify
from kbengine.read.sources import contained, content_hash, load_article, load_config, load_tree

if TYPE_CHECKING:  # the graph (networkx) and the checks load only when a compile runs
    from kbengine.graph import KBGraph

_SNIPPET_FOLDERS = {"includes", "_includes", "snippets"}  # DocFX/Jekyll partials, not articles
Progress = Callable[[int, int], None]
Loader = Callable[[str, bytes], tuple[Any, list[Diagnostic]]]  # a file's parse and its diagnostics


def discover(root: Path) -> tuple[list[str], list[str], list[str], list[str]]:
    """(article files, tree files, every other file, files that lead outside the KB) under articles/
    and trees/, sorted; a symlink out of the KB is listed last and never read."""
    found: dict[str, list[str]] = {"article": [], "tree": [], "other": [], "outside": []}
    if os.path.islink(root / CONFIG_FILE) and contained(root, CONFIG_FILE) is None:
        found["outside"].append(CONFIG_FILE)
    for top in ("articles", "trees"):
        base = root / top
        if base.is_dir() and contained(root, top) is None:
            found["outside"].append(top)
            continue
        for folder, dirs, names in os.walk(base):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            rel_folder = Path(folder).relative_to(root).as_posix()
            for name in sorted(names):
                rel = f"{rel_folder}/{name}"
                kind = classify(rel)
                if kind and os.path.islink(os.path.join(folder, name)) and contained(root, rel) is None:
                    kind = "outside"
                if kind:
                    found[kind].append(rel)
    return found["article"], found["tree"], found["other"], found["outside"]


def outside_diagnostics(outside: list[str]) -> list[Diagnostic]:
    """KB107 for each file or folder that is a link to outside the KB."""
    return [diagnostic("KB107", rel, 1, 1,
                       "this is a link to a file outside the KB; kb does not read or publish it",
                       "copy the file into the KB instead of linking to it") for rel in outside]


def classify(rel: str) -> str | None:
    """What a KB-relative file is: "article", "tree", "other" (an image, a snippet), or None
    (hidden, or outside articles/ and trees/)."""
    parts = rel.split("/")
    top, folders, lower = parts[0], parts[1:-1], parts[-1].lower()
    if len(parts) < 2 or top not in ("articles", "trees") or any(p.startswith(".") for p in parts[1:]):
        return None
    if top == "articles" and lower.endswith((".md", ".markdown")) and not _SNIPPET_FOLDERS & set(folders):
        return "article"
    if top == "trees" and lower.endswith((".yaml", ".yml")):
        return "tree"
    return "other"


def compile_kb(root: Path, *, use_cache: bool = True, progress: Progress | None = None) -> KnowledgeBase:
    """Load and check everything under `root`, articles and graph included; never raises on
    bad content."""
    return load_content(_compile(root.resolve(), use_cache, progress, warm=True))


def compile_outline(root: Path, *, use_cache: bool = True, progress: Progress | None = None) -> KBOutline:
    """As compile_kb, but an unchanged KB is read without its articles and graph."""
    return _compile(root.resolve(), use_cache, progress, warm=True)


def load_content(kb: KBOutline) -> KnowledgeBase:
    """The outline with its articles and graph, read from .kb/ (compiled again if gone)."""
    if isinstance(kb, KnowledgeBase):
        return kb
    content = CompileCache(kb.root).content(kb.fingerprint)
    if content is None:  # damaged, or replaced by newer compiles since
        fresh = _compile(kb.root, True, None, warm=False)
        assert isinstance(fresh, KnowledgeBase)
        return fresh
    articles, graph = content
    return KnowledgeBase(kb.root, kb.config, kb.trees, kb.diagnostics, kb.files, kb.fingerprint,
                         kb.article_ids, articles, graph)


def _compile(root: Path, use_cache: bool, progress: Progress | None, warm: bool) -> KBOutline:
    cache = CompileCache(root) if use_cache else None
    stats: dict[str, tuple[int, int, str]] = cache.stats if cache else {}
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
            diagnostics.append(diagnostic("KB106", rel, 1, 1,
                                          f"the file cannot be read: {error.strerror}", ""))
    fingerprint = hashlib.blake2b(
        repr((cache_key(), sorted(hashes.items()), other_files)).encode(), digest_size=16).hexdigest()
    outline = cache.outline(fingerprint) if warm and cache and not diagnostics else None
    if outline is not None:
        outline.root = root
        return outline

    parsed: dict[str, tuple[str, Any, list[Diagnostic]]] = cache.parsed() if cache else {}
    new_parsed: dict[str, tuple[str, Any, list[Diagnostic]]] = {}

    def load(rel: str, loader: Loader, salt: str) -> Any:
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

    kb = _parse_and_check(root, load, [f for f in article_files if f in hashes],
                          [f for f in tree_files if f in hashes], CONFIG_FILE in hashes, diagnostics,
                          article_files + tree_files + other_files, fingerprint, progress)
    if cache:
        cache.save(new_stats, new_parsed, kb)
    return kb


def _parse_and_check(root: Path, load: Callable[[str, Loader, str], Any], article_files: list[str],
                     tree_files: list[str], has_config: bool, diagnostics: list[Diagnostic],
                     files: list[str], fingerprint: str, progress: Progress | None) -> KnowledgeBase:
    """Parse every file with `load` (which may answer from a cache), then graph and check."""
    config = load(CONFIG_FILE, load_config, "") if has_config else Config()
    lang = config.default_language
    total = len(article_files) + len(tree_files)
    articles: list[Article] = []
    for done, rel in enumerate(article_files, start=1):
        article = load(rel, lambda r, d: load_article(r, d, lang), lang)
        if article is not None:
            articles.append(article)
        if progress and (done % 50 == 0 or done == total):
            progress(done, total)
    trees = [tree for rel in tree_files
             if (tree := load(rel, lambda r, d: load_tree(r, d, lang), lang)) is not None]
    if progress:
        progress(total, total)
    articles_by_id = _assign_article_ids(articles, diagnostics)
    trees_by_id = _unique_tree_ids(trees, diagnostics)
    others = {f for f in files if classify(f) == "other"}
    graph, found = graph_and_check(config, articles_by_id, trees_by_id, {*article_files, *others})
    diagnostics.extend(found)
    diagnostics.sort(key=lambda d: (d.path, d.line, d.col, d.code))
    return KnowledgeBase(root, config, trees_by_id, diagnostics, files, fingerprint,
                         list(articles_by_id), articles_by_id, graph)


def compile_snapshot(root: Path, files: Mapping[str, bytes]) -> KnowledgeBase:
    """Compile a KB given as {KB-relative path: bytes}, e.g. read from a git revision; no cache."""
    names = sorted(files)
    diagnostics: list[Diagnostic] = []

    def load(rel: str, loader: Loader, salt: str) -> Any:
        value, problems = loader(rel, files[rel])
        diagnostics.extend(problems)
        return value

    return _parse_and_check(root, load, [f for f in names if classify(f) == "article"],
                            [f for f in names if classify(f) == "tree"], CONFIG_FILE in files,
                            diagnostics, [f for f in names if classify(f)], "", None)


def graph_and_check(config: Config, articles: dict[str, Article], trees: dict[str, Tree],
                    files: Collection[str]) -> tuple[KBGraph, list[Diagnostic]]:
    """The graph of loaded articles and trees, and what every rule over the whole KB finds."""
    from kbengine.check.rules import check_kb
    from kbengine.graph import build_graph
    from kbengine.links import LinkResolver

    links = LinkResolver(articles, trees, files)
    graph = build_graph(config, articles, trees, links)
    return graph, check_kb(config, articles, trees, graph, links)


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
                diagnostics.append(diagnostic("KB301", other.path, line, col,
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
        diagnostics.append(diagnostic(
            "KB302", parsed.path, 1, 1,
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
            diagnostics.append(diagnostic("KB301", tree.path, line, col,
                                          f"tree id '{tree.id}' is already used by "
                                          f"{result[tree.id].path}", "give each tree its own id"))
            continue
        result[tree.id] = tree
    return result
