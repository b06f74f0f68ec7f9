"""`kb report`: figures for team leads over the session records that `kb walk` writes."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from kbengine.cli.options import database_option, open_kb, open_records, resolve_root, root_option
from kbengine.compiler import KnowledgeBase
from kbengine.report import PERIODS, TREND_FIELDS, Filters, Table, WalkFigures, report_tables
from kbengine.report.tables import content_tables
from kbengine.services.report import Records, content_report, in_the_period, read_records, team_report
from kbengine.walk.store import SessionError, parse_moment, read_config

F = TypeVar("F", bound=Callable[..., Any])


def _moment(text: str | None, option: str, *, end_of_day: bool = False) -> datetime | None:
    if not text:
        return None
    try:
        return parse_moment(text, end_of_day=end_of_day)
    except SessionError:
        raise click.BadParameter(f"'{text}' is not a date (2024-05-01) or an age (7d)",
                                 param_hint=option) from None


def _fail(message: str) -> NoReturn:
    click.echo(f"kb report: {message}", err=True)
    raise SystemExit(1)


def _records(root: Path | None, database: str | None, filters: Filters, *, with_kb: bool,
             kb_required: bool = False) -> tuple[Records, KnowledgeBase | None]:
    """The walks that count, read once, with the KB when one is found (KB_SESSIONS works without)."""
    try:
        kb_root: Path | None = resolve_root(root)
    except click.UsageError:
        if kb_required:
            raise
        kb_root = None
    kb = open_kb(kb_root) if with_kb and kb_root else None
    config = kb.config if kb else (read_config(kb_root) if kb_root else None)
    try:
        store = open_records(root, database)
        try:
            records = read_records(store, filters, config, kb)
        finally:
            store.close()
    except SessionError as error:
        _fail(str(error))
    for message in records.damaged:
        click.echo(f"kb report: {message}; skipped", err=True)
    for message in records.notices:
        click.echo(f"kb report: {message}", err=True)
    for message in records.problems:
        click.echo(f"kb report: {message}", err=True)
    return records, kb


def _period_options(function: F) -> F:
    options = [
        click.option("--since", metavar="DATE",
                     help="Sessions started on or after a date (2024-05-01) or age (7d, 4w)."),
        click.option("--until", metavar="DATE",
                     help="Sessions started before this; a date alone includes that whole day."),
        click.option("--tree", "trees", metavar="TREE", multiple=True,
                     help="Only walks started in this tree; repeat for several."),
        click.option("--agent", metavar="NAME", help="Only walks by this agent."),
        click.option("--ticket-prefix", metavar="PREFIX",
                     help="Only walks whose ticket starts with this (INC, RITM)."),
        click.option("-o", "--output", "output_file", type=click.Path(dir_okay=False, path_type=Path),
                     help="Write the report to this file instead of printing it."),
        click.option("--json", "as_json", is_flag=True, help="The same as --format json."),
        root_option,
        database_option,
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _emit(text: str, output_file: Path | None) -> None:
    if output_file is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    try:
        output_file.write_text(text, "utf-8")
    except OSError as error:
        _fail(f"cannot write {output_file}: {error.strerror}")
    click.echo(f"Wrote {output_file}", err=True)


@click.group("report", invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@_period_options
@click.option("--by", type=click.Choice(PERIODS), default="week", show_default=True,
              help="The period of each row of the trends.")
@click.option("--format", "output", type=click.Choice(["text", "md", "csv", "json", "html"]), default="text",
              show_default=True,
              help="text: tables for people; md: Markdown for a team report; csv: the trends table; "
                   "json: every figure for scripts; html: the dashboard, one self-contained page.")
@click.pass_context
def command(context: click.Context, root: Path | None, database: str | None, since: str | None,
            until: str | None, trees: tuple[str, ...], agent: str | None, ticket_prefix: str | None,
            output_file: Path | None, as_json: bool, by: str, output: str) -> None:
    """Figures for team leads over the session records of `kb walk`.

    Recurring problems first: a tree, an end step, an escalation team or reason, or a
    collected value (an asset tag, a printer) seen in the last day far more often than in
    the 28 days before (a Poisson test; the rule and its thresholds are under `report:` in
    kb.yaml). Then sessions by outcome, first-line resolution rate (solved / (solved +
    escalated)), response, resolution and hand-over times (median and p90), escalations by
    team, priority, reason and node, figures per tree (with the node where abandoned walks
    most often stop), and trends per day, week or month. A session counts in the period in
    which it started. Every definition is in docs/report.md.

    The report shows no inputs, notes, tickets or agents. Session ids appear only behind a
    recurring problem, for leads to look into (not in --format md, the team report). Records
    edited out of shape are skipped, each with one warning line on stderr; a line cut short
    by a crash is left out of its record, with a notice.

    `kb report content` is the writers' report: article reuse, unused and stale articles,
    steps where walks are abandoned, and the help site's feedback.

    \b
    Examples:
      kb report --since 4w
      kb report --since 2024-05-01 --until 2024-05-31 --by day --format md
      kb report --tree printer-not-printing --tree vpn-fails --json
      kb report --by month --format csv > trends.csv
      kb report --since 12w --format html -o report.html

    \b
    Exit status: 0 the report was printed (also for a period without sessions),
                 1 the sessions folder cannot be used, 2 the command was used wrongly.
    """
    if context.invoked_subcommand is not None:
        return
    start, end = _moment(since, "--since"), _moment(until, "--until", end_of_day=True)
    output = "json" if as_json else output
    records, kb = _records(root, database, Filters(start, end, trees, agent, ticket_prefix),
                           with_kb=output == "html")
    report = team_report(records, start, end, by)
    walks = in_the_period(records, start, end)
    if output == "json":
        _emit(_json(report), output_file)
    elif output == "csv":
        _emit(_csv(report["trends"]), output_file)
    elif output == "html":
        from kbengine.report.dashboard import dashboard_html

        content = content_report(kb, records, start, end) if kb else None
        _emit(dashboard_html(report, content, _heading(walks, start, end)), output_file)
    elif not walks and not report["recurring"]:
        _emit(f"No sessions{_period_words(start, end)} in {records.store.url}.", output_file)
    elif output == "md":
        _emit(_markdown(report_tables(report, with_sessions=False), _heading(walks, start, end)), output_file)
    elif sys.stdout.isatty() and output_file is None:
        _rich(report_tables(report), _heading(walks, start, end))
    else:
        _emit(_plain(report_tables(report), _heading(walks, start, end)), output_file)


@command.command("content", context_settings={"help_option_names": ["-h", "--help"]})
@_period_options
@click.option("--format", "output", type=click.Choice(["text", "md", "json"]), default="text",
              show_default=True, help="text: tables for people; md: Markdown; json: every figure.")
def content_command(root: Path | None, database: str | None, since: str | None, until: str | None,
                    trees: tuple[str, ...], agent: str | None, ticket_prefix: str | None,
                    output_file: Path | None, as_json: bool, output: str) -> None:
    """Content health for writers: which articles walks use, and which need work.

    Per article: walks that reached a step linking it (or opened it), solved walks among
    them (reuse), the share of all walks that used it (link rate) and when it was last
    used. Then articles never used, stale articles by owner (`updated` older than
    `report: content: stale_after` in kb.yaml, default 365d, or no date), tree steps where
    many walks are abandoned, and what readers of the help site said ("Was this
    helpful?") and searched for without result.

    \b
    Examples:
      kb report content --since 12w
      kb report content --json > content.json

    \b
    Exit status: 0 the report was printed, 1 the sessions folder cannot be used,
                 2 the command was used wrongly (or no KB was found).
    """
    start, end = _moment(since, "--since"), _moment(until, "--until", end_of_day=True)
    records, kb = _records(root, database, Filters(start, end, trees, agent, ticket_prefix), with_kb=True,
                           kb_required=True)
    assert kb is not None
    report = content_report(kb, records, start, end)
    heading = (f"Content report: {len(kb.articles)} articles, {report['walks']} walks"
               f"{_period_words(start, end)}")
    if as_json or output == "json":
        _emit(_json(report), output_file)
    elif output == "md":
        _emit(_markdown(content_tables(report), heading), output_file)
    elif sys.stdout.isatty() and output_file is None:
        _rich(content_tables(report), heading)
    else:
        _emit(_plain(content_tables(report), heading), output_file)


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"


def _period_words(since: datetime | None, until: datetime | None) -> str:
    words = f" since {since:%Y-%m-%d %H:%M}" if since else ""
    return words + (f" before {until:%Y-%m-%d %H:%M}" if until else "")


def _heading(walks: list[WalkFigures], since: datetime | None, until: datetime | None) -> str:
    if not walks:
        return f"Session report: no sessions{_period_words(since, until)}"
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

