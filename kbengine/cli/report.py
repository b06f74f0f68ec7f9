"""`kb report`: figures for team leads over the session records that `kb walk` writes."""

from __future__ import annotations

import csv
import io
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from kbengine.cli.options import print_json, root_option
from kbengine.cli.sessions import records_folder
from kbengine.report import (
    PERIODS,
    TREND_FIELDS,
    Filters,
    Table,
    WalkFigures,
    build_report,
    read_walks,
    report_tables,
)
from kbengine.walk.records import SessionError, parse_moment


def _moment(text: str | None, option: str, *, end_of_day: bool = False) -> datetime | None:
    if not text:
        return None
    try:
        return parse_moment(text, end_of_day=end_of_day)
    except SessionError:
        raise click.BadParameter(f"'{text}' is not a date (2024-05-01) or an age (7d)",
                                 param_hint=option) from None


def _warn(message: str) -> None:
    click.echo(f"kb report: {message}; skipped", err=True)


@click.command("report", context_settings={"help_option_names": ["-h", "--help"]})
@root_option
@click.option("--since", metavar="DATE",
              help="Sessions started on or after a date (2024-05-01) or age (7d, 4w).")
@click.option("--until", metavar="DATE",
              help="Sessions started before this; a date alone includes that whole day.")
@click.option("--tree", "trees", metavar="TREE", multiple=True,
              help="Only walks started in this tree; repeat for several.")
@click.option("--agent", metavar="NAME", help="Only walks by this agent.")
@click.option("--ticket-prefix", metavar="PREFIX",
              help="Only walks whose ticket starts with this (INC, RITM).")
@click.option("--by", type=click.Choice(PERIODS), default="week", show_default=True,
              help="The period of each row of the trends.")
@click.option("--format", "output", type=click.Choice(["text", "md", "csv", "json"]), default="text",
              show_default=True,
              help="text: tables for people; md: Markdown for a team report; csv: the trends table; "
                   "json: every figure for scripts.")
@click.option("--json", "as_json", is_flag=True, help="The same as --format json.")
def command(root: Path | None, since: str | None, until: str | None, trees: tuple[str, ...],
            agent: str | None, ticket_prefix: str | None, by: str, output: str, as_json: bool) -> None:
    """Figures for team leads over the session records of `kb walk`.

    Sessions by outcome, first-line resolution rate (solved / (solved + escalated)),
    response, resolution and hand-over times (median and p90), escalations by team,
    priority, reason and node, figures per tree (with the node where abandoned walks
    most often stop), and trends per day, week or month. A session counts in the
    period in which it started. Every definition is in docs/report.md.

    The report shows no inputs, notes, tickets, agents or session ids: only counts,
    times, trees, nodes, teams, priorities and reasons. Record files that are damaged
    (a line cut short, not JSON, edited out of shape) are skipped, each with one
    warning line on stderr.

    \b
    Examples:
      kb report --since 4w
      kb report --since 2024-05-01 --until 2024-05-31 --by day --format md
      kb report --tree printer-not-printing --tree vpn-fails --json
      kb report --by month --format csv > trends.csv

    \b
    Exit status: 0 the report was printed (also for a period without sessions),
                 1 the sessions folder cannot be used, 2 the command was used wrongly.
    """
    start, end = _moment(since, "--since"), _moment(until, "--until", end_of_day=True)
    try:
        folder = records_folder(root)
    except SessionError as error:
        click.echo(f"kb report: {error}", err=True)
        raise SystemExit(1) from None
    damaged: list[str] = []
    walks = list(read_walks(folder, Filters(start, end, trees, agent, ticket_prefix), damaged=damaged.append))
    for message in damaged:
        _warn(message)
    skipped = len(damaged)
    report = build_report(walks, by)
    output = "json" if as_json else output
    if output == "json":
        print_json({"period": {"since": start and start.isoformat(), "until": end and end.isoformat(),
                               "by": by}, "skipped_records": skipped, **report})
    elif output == "csv":
        click.echo(_csv(report["trends"]), nl=False)
    elif not walks:
        click.echo(f"No sessions{_period_words(start, end)} in {folder}.")
    elif output == "md":
        click.echo(_markdown(report_tables(report), _heading(walks, start, end)))
    elif sys.stdout.isatty():
        _rich(report_tables(report), _heading(walks, start, end))
    else:
        click.echo(_plain(report_tables(report), _heading(walks, start, end)))


def _period_words(since: datetime | None, until: datetime | None) -> str:
    words = f" since {since:%Y-%m-%d %H:%M}" if since else ""
    return words + (f" before {until:%Y-%m-%d %H:%M}" if until else "")


def _heading(walks: list[WalkFigures], since: datetime | None, until: datetime | None) -> str:
    first = min(w.started for w in walks)
    last = max(w.started for w in walks)
    count = len(walks)
    limits = _period_words(since, until).strip()
    return (f"Session report: {count} session{'s' * (count != 1)} started "
            f"{first:%Y-%m-%d} to {last:%Y-%m-%d}" + (f" ({limits})" if limits else ""))


def _plain(tables: list[Table], heading: str) -> str:
    lines = [heading]
    for table in tables:
        lines += ["", table.title]
        if not table.rows:
            lines.append("  (none)")
            continue
        rows = (table.headers, *table.rows)
        widths = [max(len(cell) for cell in column) for column in zip(*rows, strict=True)]
        for row in rows:
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            lines.append(("  " + "  ".join(cells)).rstrip())
    return "\n".join(lines)


def _markdown(tables: list[Table], heading: str) -> str:
    lines = [f"## {heading}"]
    for table in tables:
        lines += ["", f"### {table.title}", ""]
        if not table.rows:
            lines.append("(none)")
            continue
        lines.append("| " + " | ".join(table.headers) + " |")
        lines.append("|" + "---|" * len(table.headers))
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in table.rows]
    return "\n".join(lines)


def _rich(tables: list[Table], heading: str) -> None:
    from rich.console import Console
    from rich.table import Table as RichTable

    console = Console()
    console.print(heading, style="bold", markup=False, highlight=False)
    for table in tables:
        shown = RichTable(title=table.title, title_justify="left", title_style="bold")
        for header in table.headers:
            shown.add_column(header)
        for row in table.rows:
            shown.add_row(*row)
        console.print(shown if table.rows else f"{table.title}\n  (none)", markup=False)


def _csv(trends: list[dict[str, Any]]) -> str:
    """The trends as numbers for a spreadsheet: the rate as a fraction, empty when there is none."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, TREND_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(trends)
    return buffer.getvalue()

