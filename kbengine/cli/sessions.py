"""`kb sessions`: list, show, export and purge the records that `kb walk` writes."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from kbengine.cli.options import json_option, print_json, resolve_root, root_option
from kbengine.walk.engine import OUTCOMES
from kbengine.walk.handover import handover, handover_markdown
from kbengine.walk.records import (
    SessionError,
    list_sessions,
    load_session,
    parse_age,
    parse_moment,
    purge,
    read_config,
    sessions_folder,
)


def records_folder(root: Path | None) -> Path:
    """The sessions folder; $KB_SESSIONS works even outside a KB. SessionError when refused."""
    if os.environ.get("KB_SESSIONS") and root is None:
        return sessions_folder(Path.cwd(), None)
    return sessions_folder(resolve_root(root))


def _folder(root: Path | None) -> Path:
    try:
        return records_folder(root)
    except SessionError as error:
        _fail(str(error))


def _fail(message: str) -> NoReturn:
    click.echo(f"kb sessions: {message}", err=True)
    raise SystemExit(1)


def _since(text: str | None) -> datetime | None:
    """A date, a date and time, or an age like 7d (that long ago)."""
    if not text:
        return None
    try:
        return parse_moment(text)
    except SessionError:
        raise click.BadParameter(f"'{text}' is not a date (2024-05-01) or an age (7d)",
                                 param_hint="--since") from None


@click.group("sessions", context_settings={"help_option_names": ["-h", "--help"]})
def command() -> None:
    """The session records written by `kb walk`: list, show, export, purge.

    Every walk writes one JSON Lines file, one event per line (the format is in
    docs/walk.md). The folder is $KB_SESSIONS if set, else `sessions:` in kb.yaml
    (relative to the KB), else $XDG_DATA_HOME/kbengine/sessions/<KB folder name>
    (~/.local/share/... when XDG_DATA_HOME is not set). Records may hold personal data:
    purge them with `kb sessions purge` (kb.yaml `sessions_retention: 90d`).

    \b
    Exit status: 0 done, 1 a session not found or a folder not writable,
                 2 the command was used wrongly.
    """


@command.command("list")
@root_option
@click.option("--tree", metavar="TREE", help="Only walks that started in this tree.")
@click.option("--outcome", type=click.Choice(OUTCOMES), help="Only walks with this outcome.")
@click.option("--since", metavar="DATE", help="Only walks active since a date (2024-05-01) or age (7d).")
@click.option("--ticket", metavar="REF", help="Only walks tied to this ticket.")
@json_option
def list_command(root: Path | None, tree: str | None, outcome: str | None, since: str | None,
                 ticket: str | None, as_json: bool) -> None:
    """List sessions, oldest first, one line each.

    \b
    Examples:
      kb sessions list --outcome escalated --since 7d
      kb sessions list --ticket INC0012345 --json
    """
    folder = _folder(root)
    sessions = list_sessions(folder, tree=tree, outcome=outcome, since=_since(since), ticket=ticket)
    if as_json:
        print_json({"folder": str(folder), "sessions": [s.summary() for s in sessions]})
        return
    if not sessions:
        click.echo(f"No sessions{' match' if tree or outcome or since or ticket else ''} in {folder}.")
        return
    for session in sessions:
        item = session.summary()
        ticket_text = f" {item['ticket']}" if item["ticket"] else ""
        steps = f"{item['steps']} step{'s' * (item['steps'] != 1)}"
        click.echo(f"{item['session']}  {item['started'][:16].replace('T', ' ')}  "
                   f"{item['outcome']:<11} {item['tree']}{ticket_text}  ({steps})")
    click.echo(f"{len(sessions)} session{'s' * (len(sessions) != 1)} in {folder}")


@command.command("show")
@click.argument("session_id", metavar="ID")
@root_option
@json_option
def show_command(session_id: str, root: Path | None, as_json: bool) -> None:
    """Show one session: every event in order, and where it ended.

    ID may be shortened to any unique beginning.

    \b
    Examples:
      kb sessions show 20240501-143012-3fa9
      kb sessions show 20240501-1430 --json
    """
    try:
        session = load_session(_folder(root), session_id)
    except SessionError as error:
        _fail(str(error))
    if as_json:
        print_json({**session.summary(), "events": session.events})
        return
    item = session.summary()
    click.echo(f"Session {item['session']}: {item['title']} ({item['tree']})")
    for name in ("ticket", "agent", "outcome", "started", "last"):
        if item[name]:
            click.echo(f"  {name}: {item[name]}")
    for event in session.events[1:]:
        click.echo(f"  {str(event.get('at', ''))[11:19]}  {_describe(event)}")


def _describe(event: dict[str, Any]) -> str:
    """One event in words."""
    action = event.get("event")
    state = event.get("state", {})
    where = f"[{event.get('tree')}#{event.get('node')}]"
    if action == "answer":
        return f"answer {where} {event.get('answer')}"
    if action == "done":
        return f"done {where}"
    if action == "input":
        return f"input {where} {event.get('name')} = {event.get('value')}"
    if action == "back":
        return f"back to {state.get('tree')}#{state.get('node')}"
    if action == "note":
        return f"note: {event.get('text')}"
    return f"{action} {where}"


@command.command("export")
@click.argument("session_id", metavar="ID")
@root_option
@click.option("--format", "output", type=click.Choice(["md", "json"]), default="md", show_default=True,
              help="md: Markdown to paste into a ticket or chat; json: the same as data.")
@click.option("-o", "--output", "target", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (written aside, then swapped in) instead of printing.")
def export_command(session_id: str, root: Path | None, output: str, target: Path | None) -> None:
    """The ticket-ready hand-over of a session.

    Symptom (the tree's title), each step with its answer, inputs collected, notes,
    outcome, escalation team, priority and reason, duration and ticket.

    \b
    Examples:
      kb sessions export 20240501-143012-3fa9 | xclip -selection clipboard
      kb sessions export 20240501-143012-3fa9 --format json -o handover.json
    """
    import json

    try:
        data = handover(load_session(_folder(root), session_id))
    except SessionError as error:
        _fail(str(error))
    text = (json.dumps(data, ensure_ascii=False, indent=2) + "\n" if output == "json"
            else handover_markdown(data))
    if target is None:
        click.echo(text, nl=False)
        return
    aside = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        aside.write_text(text, "utf-8")
        os.replace(aside, target)
    except OSError as error:
        _fail(f"cannot write {target}: {error.strerror}")


@command.command("purge")
@root_option
@click.option("--older-than", metavar="AGE",
              help="Delete records with no activity for this long: 90d, 12w or 36h. "
                   "Default: sessions_retention in kb.yaml.")
@click.option("--dry-run", is_flag=True, help="Only say what would be deleted.")
@json_option
def purge_command(root: Path | None, older_than: str | None, dry_run: bool, as_json: bool) -> None:
    """Delete old session records (they may hold personal data).

    A record's age counts from its last event. Without --older-than the retention
    comes from kb.yaml (`sessions_retention: 90d`); with neither, nothing is deleted
    and the exit status is 2.

    \b
    Examples:
      kb sessions purge
      kb sessions purge --older-than 30d --dry-run
    """
    if older_than is None:
        try:
            older_than = read_config(resolve_root(root)).sessions_retention
        except click.UsageError:
            older_than = None
        if not older_than:
            raise click.UsageError("give --older-than (e.g. 90d), or set sessions_retention: in kb.yaml")
    try:
        age = parse_age(older_than)
        removed = purge(_folder(root), age, dry_run=dry_run)
    except SessionError as error:
        _fail(str(error))
    if as_json:
        print_json({"removed": len(removed), "dry_run": dry_run, "older_than": older_than,
                    "sessions": [p.stem for p in removed]})
        return
    verb = "Would remove" if dry_run else "Removed"
    click.echo(f"{verb} {len(removed)} session record{'s' * (len(removed) != 1)} "
               f"older than {older_than}.")
