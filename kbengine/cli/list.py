"""`kb list [trees|articles]`: the KB's trees and articles, one line each."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kbengine.cli.options import json_option, open_kb, print_json, root_option
from kbengine.services.listing import Kind, catalogue

_KINDS: dict[str, tuple[Kind, ...]] = {"all": ("tree", "article"), "trees": ("tree",),
                                       "articles": ("article",)}


@click.command("list")
@click.argument("what", type=click.Choice(list(_KINDS)), default="all")
@click.option("--lang", metavar="CODE", help="Only content in this language (en, nl, ...).")
@click.option("--category", metavar="ID", help="Only content in this category of kb.yaml.")
@click.option("--public", "public_only", is_flag=True,
              help="Only what the public help site shows (published, public audience).")
@root_option
@json_option
def command(what: str, lang: str | None, category: str | None, public_only: bool, root: Path | None,
            as_json: bool) -> None:
    """List the KB's troubleshooting trees and articles, trees first, by title.

    Each line gives the id (what `kb walk ID` and `kb show ID` take), the language,
    who may see it and its title. Drafts, archived and internal content are listed
    too, marked as such, unless --public is given.

    \b
    Examples:
      kb list trees                 # what an agent can walk
      kb list articles --lang nl    # the Dutch articles
      kb list --public --json       # what the help site shows, for a script
    """
    kb = open_kb(root)
    entries = catalogue(kb, kinds=_KINDS[what], lang=lang, category=category, public_only=public_only)
    if as_json:
        print_json({"items": [entry.as_json() for entry in entries]})
        return
    if not entries:
        click.echo("Nothing matches." if (lang or category or public_only) else "The KB is empty.",
                   err=True)
        return
    width = max(len(entry.id) for entry in entries)
    for entry in entries:
        marks = [m for m in (entry.audience if entry.audience != "public" else "",
                             entry.status if entry.status != "published" else "") if m]
        suffix = f"  ({', '.join(marks)})" if marks else ""
        click.echo(f"{entry.kind:<7} {entry.id:<{width}}  {entry.lang}  {entry.title}{suffix}")
    if sys.stdout.isatty():
        click.echo(f"\n{len(entries)} item(s). `kb walk ID` walks a tree; `kb show ID` shows either.",
                   err=True)
