"""`kb search`: ranked articles and trees for the words people use, with highlighted snippets."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from kbengine.cli.options import json_option, open_kb, prepare_search, print_json, resolve_root, root_option
from kbengine.search import (
    AUDIENCES,
    KINDS,
    QueryError,
    SearchResults,
    learned_usage,
    record_sources,
    search,
    search_unchanged,
    source_stamp,
)


def format_plain(results: SearchResults) -> str:
    """Results as plain text, for pipes and files: no colour, no marks."""
    lines = []
    for rank, hit in enumerate(results.hits, start=1):
        lines.append(f"{rank:>2}. {hit.kind:<7} {hit.id}  {hit.title}")
        lines.append(f"    {hit.path}")
        if hit.snippet:
            lines.append(f"    {hit.plain_snippet}")
    lines.append(footer(results))
    return "\n".join(lines)


def footer(results: SearchResults) -> str:
    shown = len(results.hits)
    if not shown:
        text = f"No results for '{results.query}'."
    elif shown < results.total:
        text = f"{shown} of {results.total} results (see more with --limit {results.total})."
    else:
        text = f"{results.total} result{'s' * (results.total != 1)}."
    if results.suggestion:
        text += f"\nDid you mean: {results.suggestion}"
    return text


def print_rich(results: SearchResults) -> None:
    """Results for a terminal: matched words highlighted."""
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False)
    for rank, hit in enumerate(results.hits, start=1):
        heading = Text(f"{rank:>2}. ")
        heading.append(f"{hit.kind:<7} ", style="cyan")
        heading.append(hit.id, style="bold")
        heading.append(f"  {hit.title}")
        if hit.audience == "internal":
            heading.append("  (internal)", style="magenta")
        console.print(heading)
        console.print(Text(f"    {hit.path}", style="dim"))
        if hit.snippet:
            snippet = Text("    ")
            for text, matched in hit.snippet_parts():
                snippet.append(text, style="bold yellow" if matched else "")
            console.print(snippet)
    console.print(Text(footer(results), style="dim" if results.hits else ""))


@click.command("search")
@click.argument("query", nargs=-1, required=True)
@click.option("--kind", type=click.Choice(KINDS), help="Only articles, or only trees.")
@click.option("--tag", "tags", multiple=True, metavar="TAG",
              help="Only content with this tag; repeat for several (all must match).")
@click.option("--lang", metavar="LANG", help="Only content in this language, e.g. en or nl.")
@click.option("--audience", type=click.Choice(AUDIENCES),
              help="public: only what end users may see (published, not internal); "
                   "internal: only agent content. Default: everything published.")
@click.option("--drafts", is_flag=True, help="Include drafts (for writers). Archived content is never shown.")
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="How many results to show.")
@json_option
@root_option
def command(query: tuple[str, ...], kind: str | None, tags: tuple[str, ...], lang: str | None,
            audience: str | None, drafts: bool, limit: int, as_json: bool, root: Path | None) -> None:
    """Find the articles and troubleshooting trees that match QUERY, best first.

    Words are matched in every language of the KB, with stemming (printers finds
    printer, wachtwoorden finds wachtwoord). Titles, tree symptoms and tags weigh
    more than body text. Each result shows its kind, id, title, file and a snippet
    with the matched words highlighted. A misspelled word gets a "Did you mean".

    \b
    Query syntax (details in docs/search.md):
      "shared mailbox"        the exact phrase
      vpn AND wifi            both words (plain words rank: more matches, higher)
      printer NOT scanner     leave out results with a word
      title:vpn               a word in a field: title, summary, symptoms,
                              headings, body, tag, kind, lang, category, id
      kind:tree printer       kind:, lang:, tag:, category:, id: narrow the results

    \b
    Exit status: 0 results found, 1 no results, 2 a malformed query or wrong usage.

    \b
    Examples:
      kb search printer says offline
      kb search "ik ben mijn wachtwoord vergeten" --lang nl
      kb search vpn --kind tree --audience public
      kb search mfa --tag authenticator --json | jq '.hits[].id'
    """
    text = " ".join(query)
    folder = resolve_root(root)
    stamp = source_stamp(folder)  # taken before compiling: a file changed meanwhile shows next time
    filters: dict[str, Any] = {"kind": kind, "lang": lang, "tags": tags, "audience": audience,
                               "limit": limit, "drafts": drafts, "usage": learned_usage(folder)}
    try:
        results = search_unchanged(folder, stamp, text, **filters)
        if results is None:  # something changed since the last search: compile, then search
            kb = open_kb(folder)
            prepare_search(kb)
            results = search(kb, text, **filters)
            record_sources(kb, stamp)
    except QueryError as error:
        raise click.UsageError(str(error)) from None
    if as_json:
        print_json(results.as_dict())
    elif sys.stdout.isatty():
        print_rich(results)
    else:
        click.echo(format_plain(results))
    raise SystemExit(0 if results.hits else 1)
