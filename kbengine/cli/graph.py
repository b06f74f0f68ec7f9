"""`kb graph [ID]`: the knowledge graph, or one item's neighbourhood or flow, as JSON, DOT or Mermaid."""

from __future__ import annotations

from pathlib import Path

import click

from kbengine.cli.options import fail_unknown, open_kb, root_option
from kbengine.cli.output import GRAPH_FORMATS
from kbengine.services.errors import UnknownItem
from kbengine.services.graph import graph_view


@click.command("graph")
@click.argument("item_id", metavar="[ID]", required=False)
@click.option("--format", "output", type=click.Choice(["json", "dot", "mermaid"]), default="json",
              show_default=True, help="json for scripts (the default), dot for Graphviz, "
              "mermaid for a flowchart in a pull request or Markdown preview.")
@click.option("--json", "as_json_flag", is_flag=True, help="Same as --format json (the default).")
@click.option("--depth", type=click.IntRange(min=1), default=1, show_default=True,
              help="With an article id: how many links away to go. With a tree id: 1 is the "
                   "tree itself, 2 adds the trees its gotos lead to, and so on.")
@root_option
def command(item_id: str | None, output: str, as_json_flag: bool, depth: int,
            root: Path | None) -> None:
    """Print the knowledge graph, or the part of it around one article or tree.

    Without ID: every article, tree, tree step, tag, category and embedded file, and
    every link between them (each edge has a kind: links_to, related, explains,
    answer, next, goto, translation_of, tagged, in_category, ...).

    With an article id: its neighbourhood - the articles that link it and that it
    links, related articles, translations and the trees whose steps point at it -
    to --depth links away. With a tree id: its flow, step by step, with the answers
    on the arrows; `--format mermaid` gives a flowchart to paste into a pull request.

    JSON is the default output: {"nodes": [{id, kind, title, path, ...}],
    "edges": [{source, target, kind, label}]}; node ids are article:ID, tree:ID,
    node:TREE#STEP, tag:TAG, category:ID and file:PATH.

    \b
    Exit status: 0 printed, 1 no article or tree has that id,
                 2 the command was used wrongly.

    \b
    Examples:
      kb graph > graph.json
      kb graph --format dot | dot -Tsvg > kb.svg
      kb graph reset-forgotten-password --depth 2
      kb graph printer-not-printing --format mermaid
    """
    kb = open_kb(root)
    try:
        view = graph_view(kb, item_id, depth)
    except UnknownItem as unknown:
        fail_unknown("graph", unknown)
    click.echo(GRAPH_FORMATS["json" if as_json_flag else output](view))
