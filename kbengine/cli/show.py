"""`kb show ID`: one article or tree in the terminal, with what the graph knows about it."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from kbengine.cli.options import close_ids, json_option, open_kb, print_json, root_option
from kbengine.compiler import KnowledgeBase
from kbengine.graph import article_key, tree_key
from kbengine.model import Article, Tree


def article_record(kb: KnowledgeBase, article: Article) -> dict[str, Any]:
    """An article as JSON-ready data, with its place in the graph."""
    record = {key: value for key, value in asdict(article).items() if key != "locations"}
    record["kind"] = "article"
    record["backlinks"] = kb.graph.backlinks(article.id)
    record["used_in_trees"] = kb.graph.used_in_trees(article.id)
    record["related_articles"] = kb.graph.related(article.id)
    record["translations"] = _translations(kb, article_key(article.id))
    return record


def tree_record(kb: KnowledgeBase, tree: Tree) -> dict[str, Any]:
    record = {key: value for key, value in asdict(tree).items() if key != "locations"}
    record["kind"] = "tree"
    record["translations"] = _translations(kb, tree_key(tree.id))
    return record


def _translations(kb: KnowledgeBase, key: str) -> dict[str, str]:
    return {lang: other.split(":", 1)[1] for lang, other in kb.graph.translations(key).items()
            if other != key}


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
    article = kb.articles.get(item_id)
    tree = kb.trees.get(item_id)
    if article is None and tree is None:
        hint = close_ids(item_id, [*kb.articles, *kb.trees])
        click.echo(f"kb show: no article or tree has the id '{item_id}'.{hint}", err=True)
        raise SystemExit(1)
    if as_json:
        print_json(article_record(kb, article) if article else tree_record(kb, tree))  # type: ignore[arg-type]
    elif article is not None:
        _print_article(kb, article)
    else:
        _print_tree(tree)  # type: ignore[arg-type]
