"""Rules on what articles and trees say about themselves: categories kb.yaml does not list
(KB508) and translations of a missing original or in the same language (KB601, KB602)."""

from __future__ import annotations

from collections.abc import Mapping

from kbengine.check.registry import diagnostic
from kbengine.check.suggest import did_you_mean
from kbengine.model import Article, Config, Diagnostic, Tree


def check_categories(config: Config, articles: Mapping[str, Article]) -> list[Diagnostic]:
    diagnostics = []
    for article in articles.values():
        if article.category and config.categories and article.category not in config.categories:
            line, col = article.where("category")
            diagnostics.append(diagnostic(
                "KB508", article.path, line, col,
                f"category '{article.category}' is not listed in kb.yaml",
                did_you_mean(article.category, config.categories)
                or "add it under categories: in kb.yaml, or use one that is"))
    return diagnostics


def check_translations(articles: Mapping[str, Article], trees: Mapping[str, Tree]) -> list[Diagnostic]:
    items: list[tuple[Article | Tree, Mapping[str, Article] | Mapping[str, Tree]]] = [
        (a, articles) for a in articles.values()] + [(t, trees) for t in trees.values()]
    diagnostics = []
    for item, pool in items:
        if not item.translation_of:
            continue
        line, col = item.where("translation_of")
        original = pool.get(item.translation_of)
        if original is None:
            diagnostics.append(diagnostic(
                "KB601", item.path, line, col,
                f"translation_of names '{item.translation_of}', which does not exist",
                did_you_mean(item.translation_of, pool)
                or "use the id of the original in the other language"))
        elif original.lang == item.lang:
            diagnostics.append(diagnostic(
                "KB602", item.path, line, col,
                f"'{item.translation_of}' is in the same language ({item.lang})",
                "set lang: on the translation"))
    return diagnostics
