"""Every rule that reads the compiled KB, run in one call: the graph stage hands over, the
rules report. Rules that need only one file run while it is read (read/)."""

from __future__ import annotations

from collections.abc import Mapping

from kbengine.check.content import check_categories, check_translations
from kbengine.check.examples import check_examples
from kbengine.check.flow import check_flow
from kbengine.check.guards import check_guards
from kbengine.check.links import check_links
from kbengine.check.trees import check_tree_references
from kbengine.graph import KBGraph
from kbengine.links import LinkResolver
from kbengine.model import Article, Config, Diagnostic, Tree


def check_kb(config: Config, articles: Mapping[str, Article], trees: Mapping[str, Tree],
             graph: KBGraph, links: LinkResolver) -> list[Diagnostic]:
    """What every rule over the whole KB finds, unsorted."""
    return [
        *check_links(articles, links),
        *check_categories(config, articles),
        *check_tree_references(trees, articles),
        *check_flow(graph, trees),
        *check_guards(trees),
        *check_translations(articles, trees),
        *check_examples(trees),
    ]
