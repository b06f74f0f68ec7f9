"""Rules on what articles point at: links, images and includes that lead nowhere (KB501-KB505),
related articles that do not exist (KB506) and public pages pointing at hidden ones (KB507)."""

from __future__ import annotations

from collections.abc import Mapping

from kbengine.check.registry import diagnostic
from kbengine.check.suggest import did_you_mean
from kbengine.links import LinkResolver
from kbengine.model import Article, Diagnostic, Link

_MISSING = {"image": ("KB503", "image"), "include": ("KB505", "included file")}


def check_links(articles: Mapping[str, Article], links: LinkResolver) -> list[Diagnostic]:
    diagnostics: list[Diagnostic] = []
    for article in articles.values():
        for link in article.links:
            diagnostics += _link(article, link, links, articles)
        for index, other in enumerate(article.related):
            line, col = article.where("related", index)
            if other not in articles:
                diagnostics.append(diagnostic(
                    "KB506", article.path, line, col, f"related article '{other}' does not exist",
                    did_you_mean(other, articles) or "use the id of an existing article"))
            else:
                diagnostics += _hidden(article, articles[other], line, col)
    return diagnostics


def _link(article: Article, link: Link, links: LinkResolver,
          articles: Mapping[str, Article]) -> list[Diagnostic]:
    resolved = links.resolve(article.path, link)
    where = (article.path, link.line, link.col)
    raw = link.target.strip()
    if not resolved.checked:
        return []
    if link.kind == "wiki":
        if resolved.found:
            return _hidden(article, articles[link.target], link.line, link.col) if resolved.article_id else []
        hint = did_you_mean(link.target, [*articles, *links.trees])
        return [diagnostic("KB502", *where, f"[[{link.target}]] names no article or tree",
                           hint or "use the id of an existing article (its file name without .md)")]
    found: list[Diagnostic] = []
    if resolved.case_only:
        found.append(diagnostic(
            "KB504", *where, f"link '{raw}' only matches '{resolved.path}' when letter case is ignored",
            "write the path exactly as the file is named; servers are case-sensitive"))
    elif resolved.path is not None and "\\" in raw:
        found.append(diagnostic("KB504", *where, f"link '{raw}' uses backslashes",
                                "write paths with forward slashes"))
    if resolved.path is None:
        code, what = _MISSING.get(link.kind, ("KB501", "linked page"))
        found.append(diagnostic(code, *where, f"{what} '{raw}' not found",
                                "check the path, relative to this file"))
    elif resolved.article_id:
        found += _hidden(article, articles[resolved.article_id], link.line, link.col)
    return found


def _hidden(article: Article, target: Article, line: int, col: int) -> list[Diagnostic]:
    if not article.is_public or target.is_public:
        return []
    why = target.audience if target.audience != "public" else target.status
    return [diagnostic(
        "KB507", article.path, line, col,
        f"public article links the {why} article '{target.id}', which is not on the public site",
        "link a public article instead, or make this article internal")]
