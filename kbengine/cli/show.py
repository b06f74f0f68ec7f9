"""`kb show ID`: one article or tree in the terminal, with what the graph knows about it."""

from __future__ import annotations

from pathlib import Path

import click

from kbengine.cli.options import fail_unknown, json_option, open_kb, print_json, root_option
from kbengine.kb import KnowledgeBase
from kbengine.model import Article, Tree
from kbengine.services.errors import UnknownItem
from kbengine.services.show import find_item, item_record


def _print_article(kb: KnowledgeBase, article: Article) -> None:
    from rich.console import Console
    from rich.markdown import Markdown

    console = Console()
    console.print(f"[bold]{article.title}[/bold]  [dim]{article.id} · {article.path}[/dim]")
    facts = [article.lang, article.audience, article.status]
    if article.updated:
        facts.append(f"updated {article.updated}")
    console.print("[dim]" + " · ".join(facts) + "[/dim]")
    if article.summary:
        console.print(f"[italic]{article.summary}[/italic]")
    console.print(Markdown(article.body))
    for label, ids in (("Used in trees", kb.graph.used_in_trees(article.id)),
                       ("Linked from", kb.graph.backlinks(article.id)),
                       ("Related", kb.graph.related(article.id))):
        if ids:
            console.print(f"[bold]{label}:[/bold] " + ", ".join(ids))


def _print_tree(tree: Tree) -> None:
    from rich.console import Console
    from rich.tree import Tree as Outline

    console = Console()
    console.print(f"[bold]{tree.title}[/bold]  [dim]{tree.id} · {tree.path}[/dim]")
    if tree.summary:
        console.print(f"[italic]{tree.summary}[/italic]")
    if tree.symptoms:
        console.print("[dim]Symptoms: " + "; ".join(tree.symptoms) + "[/dim]")
    outline = Outline(f"start: {tree.start}")
    for node in tree.nodes.values():
        what = node.prompt or (node.escalation.team if node.escalation else node.goto or "")
        internal = " [magenta](internal)[/magenta]" if node.audience == "internal" else ""
        branch = outline.add(f"[bold]{node.id}[/bold] [cyan]{node.kind}[/cyan]{internal}: {what}")
        for answer in node.answers:
            branch.add(f"{answer.label} → {answer.next}")
        if node.next:
            branch.add(f"→ {node.next}")
    console.print(outline)


@click.command("show")
@click.argument("item_id", metavar="ID")
@root_option
@json_option
def command(item_id: str, root: Path | None, as_json: bool) -> None:
    """Show one article or tree by its id.

    An article is rendered as Markdown with its status, the trees that use it and
    the articles that link to it; a tree is shown as an outline of its nodes and
    answers. Ids are file names without the extension (see `kb search` to find one).

    \b
    Exit status: 0 shown, 1 no article or tree has that id.

    \b
    Examples:
      kb show reset-forgotten-password
      kb show printer-not-printing --json
    """
    kb = open_kb(root)
    try:
        item = find_item(kb, item_id)
    except UnknownItem as unknown:
        fail_unknown("show", unknown)
    if as_json:
        print_json(item_record(kb, item))
    elif isinstance(item, Article):
        _print_article(kb, item)
    else:
        _print_tree(item)
