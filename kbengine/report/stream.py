"""Session records read for the reports as a stream: one record at a time, and of each record
only what its `WalkFigures` need, so memory grows with the sessions, not with their events.

Reads both record formats (docs/walk.md): format 1 repeats the whole state on every line,
format 2 stores what changed (`to`, `outcome`). Lines are decoded by msgspec into small typed
structs, which skips every field the figures do not use (the state's path, facts and notes)
without building it: about 8 times faster than json.loads on format 1 lines.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from itertools import groupby
from pathlib import Path
from sys import intern
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from kbengine.report.figures import OUTCOMES, WalkFigures
from kbengine.walk.database import EVENTS, SESSIONS
from kbengine.walk.events import ENDED
from kbengine.walk.jsonl import SUFFIX, JsonlStore
from kbengine.walk.sqlstore import SqlStore
from kbengine.walk.store import Session, SessionError, SessionStore

STEPS = frozenset(("answer", "done", "input"))  # the agent's own actions at a step
ESCALATION = ("team", "priority", "reason")
ARTICLE_OPENED = "article_opened"  # an article the agent opened during a walk ({"article": id})


class DamagedRecord(Exception):
    """A record whose content cannot be counted (a line cut short, a field edited out of shape)."""


class _Place(msgspec.Struct):
    """Where a format 2 step arrived (`to`), or a goto it passed."""

    tree: str = ""
    node: str = ""
    escalation: dict[str, Any] | None = None


class _State(msgspec.Struct):
    """The part of a format 1 state the figures use; the rest of it is skipped unread."""

    tree: str = ""
    node: str = ""
    outcome: str = "in_progress"
    escalation: dict[str, Any] | None = None
    inputs: dict[str, Any] = {}


class _Line(msgspec.Struct):
    event: str
    at: str = ""
    tree: str = ""
    agent: Any = ""
    ticket: Any = ""
    state: _State | None = None
    to: _Place | int | None = None  # an arrival, or the stop a `back` returns to
    outcome: str | None = None
    gotos: list[_Place] = []
    name: Any = None  # an input's name
    value: Any = None
    article: Any = None


_DECODER = msgspec.json.Decoder(_Line)
# (tree, node, outcome, escalation): where a walk stands, as far as the figures care
_Position = tuple[str, str, str, "dict[str, Any] | None"]


@dataclass(frozen=True, slots=True)
class Filters:
    """Which sessions count: started in [since, until), in `trees`, by `agent`, with a ticket prefix."""

    since: datetime | None = None
    until: datetime | None = None
    trees: tuple[str, ...] = ()
    agent: str | None = None
    ticket_prefix: str | None = None

    def keeps(self, walk: WalkFigures, agent: str, ticket: str) -> bool:
        if self.trees and walk.tree not in self.trees:
            return False
        if self.agent and agent != self.agent:
            return False
        if self.ticket_prefix and not ticket.casefold().startswith(self.ticket_prefix.casefold()):
            return False
        return in_period(walk, self.since, self.until)


@dataclass(frozen=True, slots=True)
class Reading:
    """What the reader needs from the KB: the article linked at each step, the inputs worth comparing."""

    links: Mapping[tuple[str, str], str] = field(default_factory=dict)
    inputs: frozenset[str] = frozenset()


_EVERYTHING, _PLAIN = Filters(), Reading()


def in_period(walk: WalkFigures, since: datetime | None, until: datetime | None) -> bool:
    """A session belongs to the period in which it started: since <= start < until."""
    return (since is None or walk.started >= since) and (until is None or walk.started < until)


def read_walks(store: SessionStore, filters: Filters = _EVERYTHING, reading: Reading = _PLAIN,
               damaged: Callable[[str], None] | None = None,
               notices: Callable[[str], None] | None = None) -> Iterator[WalkFigures]:
    """The figures of every session in the store that passes the filters, oldest first.

    A record that cannot be counted (its first line is not a start, a line is JSON out of the
    documented shape) is left out and passed to `damaged` as a sentence naming it. Lines that are
    not JSON at all (cut short by a crash) are left out of their record, which still counts, and
    said in `notices`, as the store itself reads them (docs/walk.md)."""
    for session_id, location, read in _records(store, filters, damaged):
        try:
            lines, cut = read()
            walk, agent, ticket = summarize(lines, session_id, reading)
        except DamagedRecord as error:
            if damaged is not None:
                damaged(f"{location}: {error}")
            continue
        if cut and notices is not None:
            notices(f"{location}: {cut} line{'s' * (cut != 1)} cut short (a crash) left out; "
                    "the rest is counted")
        if filters.keeps(walk, agent, ticket):
            yield walk


_Read = Callable[[], tuple[list[_Line], int]]


def _records(store: SessionStore, filters: Filters,
             damaged: Callable[[str], None] | None) -> Iterator[tuple[str, str, _Read]]:
    """(id, where, how to read its lines) per session: a folder's files and a database's rows are
    decoded here, fast; any other store hands over its sessions."""
    if isinstance(store, JsonlStore):
        for path in _record_paths(store.folder):
            yield path.stem, str(path), partial(_decode, path)
    elif isinstance(store, SqlStore):
        yield from _rows(store, filters)
    else:
        for session in store.sessions(damaged=damaged):
            yield session.id, session.location, partial(_converted, session)


def _rows(store: SqlStore, filters: Filters) -> Iterator[tuple[str, str, _Read]]:
    """Every event row in one streamed query, in session order, the tree and agent filters left to
    the database; each session's rows decoded as one record file's lines would be."""
    query = select(EVENTS.c.session_id, EVENTS.c.data).order_by(EVENTS.c.session_id, EVENTS.c.seq)
    chosen = select(SESSIONS.c.id)
    if filters.trees:
        chosen = chosen.where(SESSIONS.c.tree.in_(filters.trees))
    if filters.agent:
        chosen = chosen.where(SESSIONS.c.agent == filters.agent)
    if filters.trees or filters.agent:
        query = query.where(EVENTS.c.session_id.in_(chosen))
    try:
        with store.engine.connect() as connection:
            rows = connection.execution_options(stream_results=True, yield_per=5000).execute(query)
            for session_id, group in groupby(rows, key=lambda row: row[0]):
                yield session_id, store.location(session_id), partial(_decode_rows, [row[1] for row in group])
    except SQLAlchemyError as error:
        raise SessionError(f"cannot read {store.url}: {error.__class__.__name__}") from None


def _decode_rows(rows: list[str]) -> tuple[list[_Line], int]:
    try:
        return [_DECODER.decode(row) for row in rows], 0
    except msgspec.DecodeError as error:
        raise DamagedRecord(f"an event is not in the documented shape ({error})") from None


def _record_paths(folder: Path) -> list[Path]:
    """The records in `folder` by file name (os.scandir: sorting Path objects cost a tenth of the time)."""
    try:
        with os.scandir(folder) as entries:
            names = sorted(entry.name for entry in entries if entry.name.endswith(SUFFIX))
    except OSError:
        return []
    return [folder / name for name in names]


def _decode(path: Path) -> tuple[list[_Line], int]:
    """The lines of a record file, and how many were left out as not JSON (cut short by a crash)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DamagedRecord(f"cannot be read ({error.strerror})") from None
    try:
        return _DECODER.decode_lines(data), 0
    except msgspec.DecodeError:
        pass
    lines, cut = [], 0
    for number, line in enumerate(data.splitlines(), start=1):  # one at a time, to name the bad one
        if not line.strip():
            continue
        try:
            lines.append(_DECODER.decode(line))
        except msgspec.ValidationError as error:
            raise DamagedRecord(f"line {number} is not an event in the documented shape ({error})") from None
        except msgspec.DecodeError:
            cut += 1
    return lines, cut


def _converted(session: Session) -> tuple[list[_Line], int]:
    """The events of a session read by a database store, in the shape the summary reads."""
    try:
        return [msgspec.convert(data, _Line) for data in session.event_data()], session.damaged
    except msgspec.ValidationError as error:
        raise DamagedRecord(f"an event is not in the documented shape ({error})") from None


def summarize(lines: Iterable[_Line], session: str,
              reading: Reading = _PLAIN) -> tuple[WalkFigures, str, str]:
    """One session's figures, with its agent and last ticket (for the filters, never shown)."""
    events = iter(lines)
    first = next(events, None)
    if first is None or first.event != "start":
        raise DamagedRecord("its first line is not a start event")
    started = _moment(first.at, "the start")
    agent, ticket = str(first.agent or ""), str(first.ticket or "")
    position: _Position = (first.tree, "", "in_progress", None)
    reached: list[tuple[str, str]] = []
    inputs: dict[str, Any] = {}
    opened: list[str] = []
    position = _arrive(first, position, reached, inputs)
    initial, history = position, []
    response = ended = None
    for line in events:
        event = line.event
        if event in STEPS:
            history.append(position)
            if response is None:
                response = _seconds(started, line)
            if event == "input" and line.name is not None:
                inputs[str(line.name)] = line.value
        elif event == "back" and isinstance(line.to, int) and 0 <= line.to < len(history):
            position = history[line.to]
            del history[line.to:]
        elif event == "restart":
            position, history = initial, []
        elif event == "abandon":
            position = (*position[:2], "abandoned", position[3])
        elif event == "resume":
            position = (*position[:2], "in_progress", position[3])
            ticket = str(line.ticket or ticket)
        elif event == ARTICLE_OPENED and isinstance(line.article, str):
            opened.append(line.article)
        position = _arrive(line, position, reached, inputs)
        if ended is None and position[2] in ENDED:
            ended = _seconds(started, line)
    tree, node, outcome, escalation = position
    if outcome not in OUTCOMES:
        raise DamagedRecord(f"unknown outcome '{outcome}'")
    if outcome != "escalated":
        escalation = None
    links = reading.links
    articles = [links[place] for place in reached if place in links] + opened
    collected = tuple((name, str(value).strip()) for name, value in sorted(inputs.items())
                      if name in reading.inputs and str(value).strip())
    escalation = escalation or {}
    # names repeat across thousands of sessions: one string each keeps memory per session small
    team, priority, reason = (intern(str(escalation.get(key) or "")) for key in ESCALATION)
    walk = WalkFigures(intern(first.tree), outcome, started, response, ended, intern(tree or first.tree),
                       intern(node), team, priority, reason, session,
                       tuple(intern(article) for article in dict.fromkeys(articles)), collected)
    return walk, agent, ticket


def _arrive(line: _Line, position: _Position, reached: list[tuple[str, str]],
            inputs: dict[str, Any]) -> _Position:
    """The position after a line: format 2 says where a step arrived, format 1 repeats the state."""
    to = line.to
    if isinstance(to, _Place):
        reached.extend((goto.tree, goto.node) for goto in line.gotos)
        position = (to.tree, to.node, line.outcome or "in_progress", to.escalation)
        reached.append(position[:2])
    state = line.state
    if state is not None:
        position = (state.tree or position[0], state.node, state.outcome, state.escalation)
        reached.append(position[:2])
        inputs.update(state.inputs)
    return position


def _moment(stamp: str, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        raise DamagedRecord(f"the time of {what} is not a date and time: '{stamp}'") from None
    return moment if moment.tzinfo else moment.astimezone()


def _seconds(started: datetime, line: _Line) -> float:
    return (_moment(line.at, f"a '{line.event}' event") - started).total_seconds()


def walk_figures(session: Session, reading: Reading = _PLAIN) -> WalkFigures:
    """The figures of one session read whole from any store."""
    return summarize(_converted(session)[0], session.id, reading)[0]
