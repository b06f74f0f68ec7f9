"""`kb sessions`: list, show, export and purge the records that `kb walk` writes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from kbengine.cli.options import (
    database_option,
    json_option,
    open_records,
    print_json,
    resolve_root,
    root_option,
)
from kbengine.walk.events import OUTCOMES
from kbengine.walk.handover import handover, handover_markdown
from kbengine.walk.store import SessionError, SessionStore, open_store, parse_age, parse_moment, read_config


@contextmanager
def _store(root: Path | None, database: str | None) -> Iterator[SessionStore]:
    """The configured store, closed afterwards; its errors end the command with exit 1."""
    try:
        store = open_records(root, database)
    except SessionError as error:
        _fail(str(error))
    try:
        yield store
    except SessionError as error:
        _fail(str(error))
    finally:
        store.close()


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
    """The session records written by `kb walk`: list, show, export, purge, import.

    Every walk records one session, one event per step (the format is in docs/walk.md),
    in the session store: --database URL, else $KB_DATABASE_URL, else the folder
    $KB_SESSIONS, else `sessions:` in kb.yaml (a folder relative to the KB, or a URL),
    else $XDG_DATA_HOME/kbengine/sessions/<KB folder name>. A store is a folder of JSON
    Lines files, sqlite:///file.db or postgresql://user@host/database. Records may hold
    personal data: purge them with `kb sessions purge` (kb.yaml `sessions_retention: 90d`).

    \b
    Exit status: 0 done, 1 a session not found or a store that cannot be used,
                 2 the command was used wrongly.
    """


@command.command("list")
@root_option
@click.option("--tree", metavar="TREE", help="Only walks that started in this tree.")
@click.option("--outcome", type=click.Choice(OUTCOMES), help="Only walks with this outcome.")
@click.option("--since", metavar="DATE", help="Only walks active since a date (2024-05-01) or age (7d).")
@click.option("--ticket", metavar="REF", help="Only walks tied to this ticket.")
@database_option
@json_option
def list_command(root: Path | None, tree: str | None, outcome: str | None, since: str | None,
                 ticket: str | None, database: str | None, as_json: bool) -> None:
    """List sessions, oldest first, one line each.

    \b
    Examples:
      kb sessions list --outcome escalated --since 7d
      kb sessions list --ticket INC0012345 --json
    """
    moment = _since(since)
    with _store(root, database) as store:
        sessions = store.list_sessions(tree=tree, outcome=outcome, since=moment, ticket=ticket)
    if as_json:
        print_json({"store": store.url, "sessions": [s.summary() for s in sessions]})
        return
    if not sessions:
        click.echo(f"No sessions{' match' if tree or outcome or since or ticket else ''} in {store.url}.")
        return
    for session in sessions:
        item = session.summary()
        ticket_text = f" {item['ticket']}" if item["ticket"] else ""
        steps = f"{item['steps']} step{'s' * (item['steps'] != 1)}"
        click.echo(f"{item['session']}  {item['started'][:16].replace('T', ' ')}  "
                   f"{item['outcome']:<11} {item['tree']}{ticket_text}  ({steps})")
    click.echo(f"{len(sessions)} session{'s' * (len(sessions) != 1)} in {store.url}")


@command.command("show")
@click.argument("session_id", metavar="ID")
@root_option
@database_option
@json_option
def show_command(session_id: str, root: Path | None, database: str | None, as_json: bool) -> None:
    """Show one session: every event in order, and where it ended.

    ID may be shortened to any unique beginning. Showing never waits for, nor disturbs,
    a walk that holds the session.

    \b
    Examples:
      kb sessions show 20240501-143012-3fa9
      kb sessions show 20240501-1430 --json
    """
    with _store(root, database) as store:
        session = store.load(session_id)
    if as_json:
        print_json({**session.summary(), "state": session.state, "events": session.event_data()})
        return
    item = session.summary()
    click.echo(f"Session {item['session']}: {item['title']} ({item['tree']})")
    for name in ("ticket", "agent", "outcome", "started", "last"):
        if item[name]:
            click.echo(f"  {name}: {item[name]}")
    if session.damaged:
        click.echo(f"  damaged: {session.damaged} line{'s' * (session.damaged != 1)} cut short, left out")
    for event in session.event_data()[1:]:
        click.echo(f"  {str(event.get('at', ''))[11:19]}  {_describe(event)}")


def _describe(event: dict[str, Any]) -> str:
    """One event in words."""
    action = event.get("event")
    where = f"[{event.get('tree')}#{event.get('node')}]"
    if action == "answer":
        return f"answer {where} {event.get('answer')}"
    if action == "done":
        return f"done {where}"
    if action == "input":
        return f"input {where} {event.get('name')} = {event.get('value')}"
    if action == "back":
        return f"back to stop {event.get('to')}"
    if action == "note":
        return f"note: {event.get('text')}"
    return str(action)


@command.command("export")
@click.argument("session_id", metavar="ID")
@root_option
@database_option
@click.option("--format", "output", type=click.Choice(["md", "json"]), default="md", show_default=True,
              help="md: Markdown to paste into a ticket or chat; json: the same as data.")
@click.option("-o", "--output", "target", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (written aside, then swapped in) instead of printing.")
@click.option("--mode", default="600", show_default=True, metavar="OCTAL",
              help="The permissions of the file written with -o, e.g. 640. The hand-over holds the "
                   "caller's inputs and notes: it is as private as the records unless you say otherwise.")
def export_command(session_id: str, root: Path | None, database: str | None, output: str,
                   target: Path | None, mode: str) -> None:
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
        permissions = int(mode, 8)
    except ValueError:
        permissions = -1
    if not 0 <= permissions <= 0o777:
        raise click.BadParameter(f"'{mode}' is not a file mode; write it in octal, e.g. 600 or 640",
                                 param_hint="--mode")
    with _store(root, database) as store:
        data = handover(store.load(session_id))
    text = (json.dumps(data, ensure_ascii=False, indent=2) + "\n" if output == "json"
            else handover_markdown(data))
    if target is None:
        click.echo(text, nl=False)
        return
    try:
        write_private(target, text, permissions)
    except OSError as error:
        _fail(f"cannot write {target}: {error.strerror}")


def write_private(target: Path, text: str, permissions: int) -> None:
    """Write aside with exactly these permissions (whatever the umask), then swap in."""
    aside = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(descriptor, permissions)
        os.write(descriptor, text.encode("utf-8"))
    finally:
        os.close(descriptor)
    os.replace(aside, target)


@command.command("purge")
@root_option
@database_option
@click.option("--older-than", metavar="AGE",
              help="Delete records with no activity for this long: 90d, 12w or 36h. "
                   "Default: sessions_retention in kb.yaml.")
@click.option("--dry-run", is_flag=True, help="Only say what would be deleted.")
@json_option
def purge_command(root: Path | None, database: str | None, older_than: str | None, dry_run: bool,
                  as_json: bool) -> None:
    """Delete old session records (they may hold personal data), in whichever store is used.

    A record's age counts from its last event. Without --older-than the retention
    comes from kb.yaml (`sessions_retention: 90d`); with neither, nothing is deleted
    and the exit status is 2.

    \b
    Examples:
      kb sessions purge
      kb sessions purge --older-than 30d --dry-run
      kb sessions purge --database postgresql://kb@db/desk --older-than 90d
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
    except SessionError as error:
        raise click.BadParameter(str(error), param_hint="--older-than") from None
    with _store(root, database) as store:
        removed = store.purge(age, dry_run=dry_run)
    if as_json:
        print_json({"removed": len(removed), "dry_run": dry_run, "older_than": older_than,
                    "sessions": removed})
        return
    verb = "Would remove" if dry_run else "Removed"
    click.echo(f"{verb} {len(removed)} session record{'s' * (len(removed) != 1)} "
               f"older than {older_than}.")


@command.command("import")
@click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@root_option
@database_option
@json_option
def import_command(folder: Path, root: Path | None, database: str | None, as_json: bool) -> None:
    """Copy the JSON Lines records of FOLDER into the configured store (a database).

    Running it again adds nothing: a session already there is skipped, and one that
    went on after it was imported gets only its new events. The files are left as they
    are; delete them (or `kb sessions purge --database FOLDER`) once the import is checked.

    \b
    Examples:
      kb sessions import ~/.local/share/kbengine/sessions/kb --database sqlite:///desk.db
      KB_DATABASE_URL=postgresql://kb@db/desk kb sessions import ./records
    """
    source = open_store(str(folder.resolve()))
    damaged: list[str] = []
    sessions = events = 0
    with _store(root, database) as store:
        if store.url == source.url:
            _fail(f"{folder} is the store itself; name a database with --database or KB_DATABASE_URL")
        for session in source.sessions(damaged=damaged.append):
            added = store.add(session)
            sessions += added > 0
            events += added
    for message in damaged:
        click.echo(f"kb sessions: {message}; not imported", err=True)
    if as_json:
        print_json({"store": store.url, "sessions": sessions, "events": events, "damaged": len(damaged)})
        return
    click.echo(f"Imported {sessions} session{'s' * (sessions != 1)} ({events} event{'s' * (events != 1)}) "
               f"into {store.url}" + (f"; {len(damaged)} damaged record(s) not imported" if damaged else "."))
