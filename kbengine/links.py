"""What a link written in an article points at: the one place that resolves link targets.

The graph uses it for edges, `kb check` for broken links, the site for URLs. No I/O: the KB's
files are passed in.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from kbengine.model import Article, Link

PAGE_SUFFIXES = (".md", ".markdown")
_EXTERNAL = re.compile(r"^([a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)


def is_external(target: str) -> bool:
    """True for `https:`, `mailto:` and `//host` links: not ours to check."""
    return bool(_EXTERNAL.match(target))


def is_local(target: str) -> bool:
    """True for a relative path into the KB (not an anchor, site-absolute or external link)."""
    return bool(target) and not target.startswith(("#", "/")) and not is_external(target)


def relative_target(source: str, target: str) -> str:
    """KB-relative path of `target` as written in the file `source` (query and anchor dropped)."""
    target = unquote(target.split("#", 1)[0].split("?", 1)[0]).replace("\\", "/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


@dataclass(frozen=True, slots=True)
class Resolved:
    """Where one link leads. `checked` is False for links that are not ours to check."""

    checked: bool
    path: str | None = None  # the file found, spelt as on disk
    article_id: str | None = None  # the article it opens
    case_only: bool = False  # found only when letter case is ignored
    tree_id: str | None = None  # the tree a [[tree-id]] link opens

    @property
    def found(self) -> bool:
        return self.path is not None or self.article_id is not None or self.tree_id is not None


class LinkResolver:
    """Resolves links against the KB's articles, trees and files."""

    def __init__(self, articles: Mapping[str, Article], trees: Collection[str],
                 files: Collection[str]) -> None:
        self.articles = articles
        self.trees = trees
        self.files = set(files)
        self.by_path = {article.path: article.id for article in articles.values()}
        self.folded = {name.lower(): name for name in self.files}
        self.folded_articles = {path.lower(): article_id for path, article_id in self.by_path.items()}

    def article_at(self, path: str) -> str | None:
        """The id of the article in the file at `path`, forgiving letter case as servers do not."""
        return self.by_path.get(path) or self.folded_articles.get(path.lower())

    def resolve(self, source: str, link: Link) -> Resolved:
        if link.kind == "wiki":
            if link.target in self.articles:
                return Resolved(True, article_id=link.target)
            return Resolved(True, tree_id=link.target if link.target in self.trees else None)
        raw = link.target.strip()
        if not is_local(raw):
            return Resolved(False)
        target = relative_target(source, raw)
        if link.kind == "page" and not target.lower().endswith(PAGE_SUFFIXES):
            return Resolved(False)
        found = target if target in self.files else None
        case_only = found is None and target.lower() in self.folded
        if case_only:
            found = self.folded[target.lower()]
        article_id = self.by_path.get(found) if found and link.kind == "page" else None
        return Resolved(True, found, article_id, case_only)
