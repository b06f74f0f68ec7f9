"""`kb new article|tree TITLE`: start a new article or tree as a draft, with every field in place."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from kbengine.cli.options import json_option, open_kb, print_json, root_option
from kbengine.kb import KnowledgeBase
from kbengine.scaffold import SKELETONS
from kbengine.services import new as service
from kbengine.services.new import Created, NewError, NewUsageError


def _report(created: Created, as_json: bool) -> None:
    if as_json:
        print_json(created.as_json())
        return
    try_it = f"kb show {created.id}" if created.kind == "article" else f"kb walk {created.id}"
    click.echo(f"Created {created.path} ({created.kind} '{created.id}').\n"
               "It is a draft: it stays off the public site until you set status: published.\n"
               "Next steps:\n"
               f"  1. Replace every TODO in {created.path}.\n"
               "  2. Run `kb check`: it reports any mistake at its line.\n"
               f"  3. Run `{try_it}` to see it as agents will.\n"
               "  4. Set status: published and run `kb serve` to preview the help site.")


def _create(kind: str, make: Callable[[], Created], as_json: bool) -> None:
    """Run a service of kbengine.services.new: its errors become exit 1 (taken) or 2 (wrong use)."""
    try:
        created = make()
    except NewUsageError as error:
        raise click.BadParameter(str(error), param_hint=error.option) from None
    except NewError as error:
        click.echo(f"kb new {kind}: {error}", err=True)
        raise SystemExit(1) from None
    _report(created, as_json)


def _ask_category(kb: KnowledgeBase) -> str | None:
    """On a terminal, a missing category is asked for; elsewhere the service names what to pass."""
    if not sys.stdin.isatty():
        return None
    known = list(kb.config.categories)
    if known:
        return str(click.prompt("Category", type=click.Choice(known)))
    return str(click.prompt("Category"))


@click.group("new")
def command() -> None:
    """Start a new article or troubleshooting tree, as a draft.

    Writes a file with every field filled in or marked TODO, so you only write the
    content. New content is a draft (status: draft): it never reaches the public site
    until you set status: published. Nothing existing is ever overwritten.

    \b
    Examples:
      kb new article "Printer jams" --category printing
      kb new tree "Printer jams" --category printing
    """


@command.command("article")
@click.argument("title")
@click.option("--category", help="Category id from kb.yaml; asked for on a terminal when left out.")
@click.option("--lang", type=click.Choice(SKELETONS),
              help="Language of the article (and of its headings). Default: kb.yaml's default "
                   "language; with --translation-of, another language than the original's.")
@click.option("--translation-of", "translation_of", metavar="ID",
              help="Id of the article this one translates; its category, tags and audience "
                   "are copied.")
@click.option("--internal", is_flag=True, help="For agents only: never on the public site.")
@click.option("--id", "given_id", metavar="ID", help="Id and file name. Default: the title as a slug.")
@root_option
@json_option
def new_article(title: str, category: str | None, lang: str | None, translation_of: str | None,
                internal: bool, given_id: str | None, root: Path | None, as_json: bool) -> None:
    """Write articles/CATEGORY/ID.md: front matter, then a body to fill in.

    The file name is the title as a slug (`Printer jams` -> printer-jams.md) unless
    --id gives one. The front matter has every field (summary left empty for you,
    status: draft, owner from `git config user.name`, updated: today); the body has
    the sections a service-desk article needs, in English or Dutch.

    \b
    Examples:
      kb new article "Printer jams" --category printing
      kb new article "Papier loopt vast" --translation-of printer-jams --lang nl
      kb new article "Unlock an account in AD" --category accounts --internal --json

    \b
    Exit status: 0 created, 1 the file or id exists already or cannot be written,
                 2 the command was used wrongly (unknown category, bad id).
    """
    kb = open_kb(root)
    if category is None and translation_of is None:
        category = _ask_category(kb)
    _create("article", lambda: service.new_article(kb, title, category=category, lang=lang,
                                           translation_of=translation_of, internal=internal,
                                           given_id=given_id), as_json)


@command.command("tree")
@click.argument("title")
@click.option("--category", help="Category id from kb.yaml (optional for trees).")
@click.option("--lang", type=click.Choice(SKELETONS),
              help="Language of the tree. Default: kb.yaml's default language.")
@click.option("--id", "given_id", metavar="ID", help="Id and file name. Default: the title as a slug.")
@root_option
@json_option
def new_tree(title: str, category: str | None, lang: str | None, given_id: str | None,
             root: Path | None, as_json: bool) -> None:
    """Write trees/ID.yaml: a small working tree to change into yours.

    The tree has one of each step (a question, an action, a solved end and a
    hand-over that asks for an asset tag), comments that explain them, and an
    example that `kb check` runs, so it passes `kb check --strict` as written.

    \b
    Examples:
      kb new tree "Printer jams" --category printing
      kb new tree "Printer loopt vast" --lang nl --id printer-loopt-vast --json

    \b
    Exit status: 0 created, 1 the file or id exists already or cannot be written,
                 2 the command was used wrongly (unknown category, bad id).
    """
    kb = open_kb(root)
    _create("tree", lambda: service.new_tree(kb, title, category=category, lang=lang,
                                             given_id=given_id), as_json)
