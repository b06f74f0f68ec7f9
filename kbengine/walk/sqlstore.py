"""The SQL store: sessions in SQLite or PostgreSQL through one SQLAlchemy Core schema (walk/database.py).

Each event is one row. A session's row keeps its summary (event count, outcome, ticket...) and who
holds it for writing (a lease renewed by every event it writes). Writing a step is one transaction
of two statements: the session's row is updated only if it still has the events the writer read and
no other walk holds it, then the events are inserted. Taking and letting go of a session are one
statement each. So two requests cannot both write a step on the same state, on any worker.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from kbengine.walk.database import EVENTS, SESSIONS, DatabaseError, open_engine
from kbengine.walk.events import DamagedEvent, Event, Start, event_data, parse_event
from kbengine.walk.store import (
    Damaged,
    Holder,
    Session,
    SessionError,
    SessionLocked,
    SessionMissing,
    SessionMoved,
    SessionStore,
    candidate_ids,
    locked_message,
    moment_of,
    redact,
)

LEASE = timedelta(minutes=30)  # a hold not renewed for this long is taken as let go of
_T = TypeVar("_T")
_HOLDER = (SESSIONS.c.held_token, SESSIONS.c.held_agent, SESSIONS.c.held_host, SESSIONS.c.held_pid,
           SESSIONS.c.held_since, SESSIONS.c.held_renewed_utc)
# The statements of a step, built once: building one costs more CPU than SQLite takes to run it.
# A holder's fields go in as parameters; `b_` names keep them apart from the columns they set.
_READ_EVENTS = select(EVENTS.c.data).where(EVENTS.c.session_id == bindparam("b_id")).order_by(EVENTS.c.seq)
_UNTOUCHED = (SESSIONS.c.id == bindparam("b_id")) & (SESSIONS.c.events == bindparam("b_have"))
_FREE = or_(SESSIONS.c.held_token.is_(None), SESSIONS.c.held_renewed_utc < bindparam("b_expired"),
            SESSIONS.c.held_token == bindparam("b_token"))
_STEP = update(SESSIONS).where(_UNTOUCHED & _FREE)
_APPEND = update(SESSIONS).where(_UNTOUCHED)
_INSERT_EVENTS = insert(EVENTS)


def _utc(stamp: str) -> datetime:
    return moment_of(stamp).astimezone(UTC).replace(tzinfo=None)


class _Refused(Exception):
    """The step's update matched no row: the session moved on, is held, or is gone (see _why)."""


class SqlStore(SessionStore):
    def __init__(self, url: str) -> None:
        self.url = redact(url)
        try:
            self.engine = open_engine(url)
        except (DatabaseError, SQLAlchemyError, OSError) as error:
            raise SessionError(f"cannot open the session database {self.url}: {_reason(error)}") from None
        postgresql = self.engine.dialect.name == "postgresql"
        # reads need no transaction: on PostgreSQL that saves the BEGIN and ROLLBACK round trips
        self._reader = (self.engine.execution_options(isolation_level="AUTOCOMMIT") if postgresql
                        else self.engine)
        # SQLite takes one writer at a time and makes the others sleep and retry (1, 2, 5 ... 100 ms
        # apart): this process's writers queue here instead, and each finds the database free
        self._one_writer: AbstractContextManager[Any] = nullcontext() if postgresql else threading.Lock()

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        """A write transaction, committed at the end of the block."""
        with self._one_writer, self.engine.begin() as connection:
            yield connection

    # writing

    def create(self, start: Start) -> str:
        for session_id in candidate_ids(start):
            first = replace(start, session=session_id)
            session = Session(session_id, [first], self.location(session_id))
            try:
                with self._begin() as connection:
                    connection.execute(insert(SESSIONS).values(
                        id=session_id, tree=first.tree, agent=first.agent, started=first.at,
                        **_summary(session)))
                    connection.execute(insert(EVENTS).values(_row(session_id, 0, first)))
            except IntegrityError:
                continue
            except SQLAlchemyError as error:
                raise SessionError(f"cannot write to {self.url}: {_reason(error)}") from None
            return session_id
        raise SessionError(f"no free session id in {self.url} after many tries")

    def record(self, session: Session, events: Sequence[Event], holder: Holder | None = None) -> Session:
        return self._write(session, events, holder, check_hold=True)

    def append(self, session_id: str, event: Event) -> None:
        # the terminal's way: its walk holds the session already, so the hold is not checked again
        self._write(self.read(session_id), [event], None, check_hold=False)

    def _write(self, session: Session, events: Sequence[Event], holder: Holder | None, *,
               check_hold: bool) -> Session:
        if not events:
            return session
        grown = session.extended(events)
        have = len(session.events)
        now = _utc_now()
        values = {**_summary(grown), "b_id": session.id, "b_have": have}
        if check_hold:
            values.update(b_expired=now - LEASE, b_token=holder.token if holder else None)
        if holder:
            values["held_renewed_utc"] = now
        rows = [_row(session.id, have + number, event) for number, event in enumerate(events)]
        for _ in range(3):
            begun = False
            try:
                with self._begin() as connection:
                    done = connection.execute(_STEP if check_hold else _APPEND, values)
                    begun = True
                    if done.rowcount != 1:
                        raise _Refused
                    connection.execute(_INSERT_EVENTS, rows)
                return grown
            except _Refused:
                self._why(session.id, have, holder)  # raises, or returns when it is worth another try
            except IntegrityError:
                raise SessionMoved(f"session {session.id} was written by another walk at the same moment; "
                                   "this step was not recorded") from None
            except DBAPIError as error:
                if not (error.connection_invalidated and not begun):  # a dropped connection: once more
                    raise SessionError(f"cannot write to {self.url}: {_reason(error)}") from None
            except SQLAlchemyError as error:
                raise SessionError(f"cannot write to {self.url}: {_reason(error)}") from None
        raise SessionMoved(f"session {session.id} keeps being written by another request; read it again")

    def _why(self, session_id: str, have: int, holder: Holder | None) -> None:
        """Why a write or a hold matched no row, as the error to raise; returns (try again) when a
        holder whose process has ended was let go of, or nothing stands in the way any more."""
        row = self._reading(lambda connection: connection.execute(
            select(SESSIONS.c.events, *_HOLDER).where(SESSIONS.c.id == session_id)).first())
        if row is None:
            raise SessionMissing(f"there is no session '{session_id}' in {self.url}")
        token = holder.token if holder else None
        if row.held_token is not None and row.held_token != token and \
                row.held_renewed_utc >= _utc_now() - LEASE:
            other = Holder(row.held_agent or "", row.held_host or "", row.held_pid or 0, row.held_since or "",
                           row.held_token)
            if not other.is_gone():
                raise SessionLocked(locked_message(session_id, other))
            self._let_go(session_id, other.token)
        if have >= 0 and row.events != have:
            raise SessionMoved(f"session {session_id} was written by another request; read it again")

    def lock(self, session_id: str, holder: Holder) -> None:
        now = _utc_now()
        held = {"held_token": holder.token, "held_agent": holder.agent, "held_host": holder.host,
                "held_pid": holder.pid, "held_since": holder.since, "held_renewed_utc": now}
        for _ in range(3):
            try:
                with self._begin() as connection:
                    done = connection.execute(update(SESSIONS).where(
                        SESSIONS.c.id == session_id, _free_for(holder, now)).values(**held))
            except SQLAlchemyError as error:
                raise SessionError(f"cannot lock session {session_id} in {self.url}: "
                                   f"{_reason(error)}") from None
            if done.rowcount == 1:
                return
            self._why(session_id, -1, holder)
        raise SessionLocked(f"session {session_id} is being taken by another walk; try again")

    def unlock(self, session_id: str, holder: Holder) -> None:
        self._let_go(session_id, holder.token)

    def _let_go(self, session_id: str, token: str) -> None:
        try:
            with self._begin() as connection:
                connection.execute(update(SESSIONS).where(SESSIONS.c.id == session_id,
                                                          SESSIONS.c.held_token == token)
                                   .values(**{column.name: None for column in _HOLDER}))
        except SQLAlchemyError as error:
            raise SessionError(f"cannot unlock {session_id} in {self.url}: {_reason(error)}") from None

    def delete(self, session_id: str) -> None:
        try:
            with self._begin() as connection:
                connection.execute(delete(EVENTS).where(EVENTS.c.session_id == session_id))
                connection.execute(delete(SESSIONS).where(SESSIONS.c.id == session_id))
        except SQLAlchemyError as error:
            raise SessionError(f"cannot delete {session_id} in {self.url}: {_reason(error)}") from None

    # reading

    def _reading(self, work: Callable[[Any], _T]) -> _T:
        """Run a read; once more when the pooled connection had been dropped (no pre-ping)."""
        for attempt in (1, 2):
            try:
                with self._reader.connect() as connection:
                    return work(connection)
            except DBAPIError as error:
                if attempt == 2 or not error.connection_invalidated:
                    raise SessionError(f"cannot read {self.url}: {_reason(error)}") from None
            except SQLAlchemyError as error:
                raise SessionError(f"cannot read {self.url}: {_reason(error)}") from None
        raise AssertionError("unreachable")

    def ids(self) -> list[str]:
        return self._ids(select(SESSIONS.c.id))

    def _ids(self, query: Any) -> list[str]:
        return sorted(self._reading(lambda connection: list(connection.scalars(query))))

    def matching(self, prefix: str) -> list[str]:
        return self._ids(select(SESSIONS.c.id).where(SESSIONS.c.id.startswith(prefix, autoescape=True)))

    def read(self, session_id: str) -> Session:
        lines = self._reading(lambda connection: list(connection.scalars(_READ_EVENTS, {"b_id": session_id})))
        if not lines:
            raise SessionMissing(f"there is no session '{session_id}' in {self.url}")
        found = self._session(session_id, lines)
        if isinstance(found, SessionError):
            raise found
        return found

    def _read(self, ids: list[str]) -> Iterator[Session | SessionError]:
        """The sessions of these ids, read in one query per batch."""
        for first in range(0, len(ids), 500):
            batch = ids[first:first + 500]
            rows: dict[str, list[str]] = {session_id: [] for session_id in batch}
            query = (select(EVENTS.c.session_id, EVENTS.c.data).where(EVENTS.c.session_id.in_(batch))
                     .order_by(EVENTS.c.session_id, EVENTS.c.seq))
            for session_id, data in self._reading(partial(_all_rows, query)):
                rows[session_id].append(data)
            for session_id in batch:
                if rows[session_id]:
                    yield self._session(session_id, rows[session_id])

    def _session(self, session_id: str, lines: list[str]) -> Session | SessionError:
        location = self.location(session_id)
        try:
            return Session(session_id, [parse_event(json.loads(line)) for line in lines], location)
        except (ValueError, DamagedEvent) as error:
            return SessionError(f"{location}: {error}")
        except SessionError as error:
            return error

    def sessions(self, ids: Iterable[str] | None = None, damaged: Damaged | None = None) -> Iterator[Session]:
        for found in self._read(self.ids() if ids is None else list(ids)):
            if isinstance(found, SessionError):
                if damaged is not None:
                    damaged(str(found))
                continue
            yield found

    def list_sessions(self, *, tree: str | None = None, outcome: str | None = None,
                      since: datetime | None = None, ticket: str | None = None,
                      damaged: Damaged | None = None) -> list[Session]:
        # every filter is a column of the session's row: only the sessions listed are read
        query = select(SESSIONS.c.id)
        if tree:
            query = query.where(SESSIONS.c.tree == tree)
        if outcome:
            query = query.where(SESSIONS.c.outcome == outcome)
        if ticket:
            query = query.where(SESSIONS.c.ticket_key == ticket.casefold())
        if since:
            query = query.where(SESSIONS.c.last_utc >= since.astimezone(UTC).replace(tzinfo=None))
        return list(self.sessions(self._ids(query), damaged))

    def versions(self, outcome: str | None = None) -> dict[str, str]:
        # each event adds one to its session's count, kept in the session's row
        query = select(SESSIONS.c.id, SESSIONS.c.events)
        if outcome:
            query = query.where(SESSIONS.c.outcome == outcome)
        return {session_id: str(events) for session_id, events in self._reading(partial(_all_rows, query))}

    def version(self, outcome: str | None = None) -> str:
        # one row of sums tells, whatever the number of sessions
        query = select(func.count(), func.sum(SESSIONS.c.events), func.min(SESSIONS.c.id),
                       func.max(SESSIONS.c.id), func.max(SESSIONS.c.last_utc))
        if outcome:
            query = query.where(SESSIONS.c.outcome == outcome)
        return repr(tuple(self._reading(lambda connection: connection.execute(query).one())))

    def purge(self, older_than: timedelta, now: datetime | None = None, dry_run: bool = False) -> list[str]:
        limit = (now or _utc_now().replace(tzinfo=UTC)).astimezone(UTC).replace(tzinfo=None) - older_than
        old = self._ids(select(SESSIONS.c.id).where(SESSIONS.c.last_utc < limit))
        if not dry_run:
            for session_id in old:
                self.delete(session_id)
        return old

    def close(self) -> None:
        self.engine.dispose()


def _free_for(holder: Holder | None, now: datetime) -> ColumnElement[bool]:
    """The session is not held, or held by this holder, or its holder's lease has run out."""
    free = or_(SESSIONS.c.held_token.is_(None), SESSIONS.c.held_renewed_utc < now - LEASE)
    return or_(free, SESSIONS.c.held_token == holder.token) if holder else free


def _summary(session: Session) -> dict[str, Any]:
    """The columns of a session's row that follow from its events."""
    state = session.state
    return {"events": len(session.events), "outcome": session.outcome, "node": str(state.get("node", "")),
            "steps": len(state.get("path", [])), "last": session.last, "last_utc": _utc(session.last),
            "ticket": session.ticket, "ticket_key": session.ticket.casefold()}


def _row(session_id: str, seq: int, event: Event) -> dict[str, Any]:
    return {"session_id": session_id, "seq": seq, "event": event.name, "at": event.at,
            "data": json.dumps(event_data(event), ensure_ascii=False, default=str)}


def _all_rows(query: Any, connection: Any) -> list[Any]:
    return list(connection.execute(query))


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _reason(error: BaseException) -> str:
    """The first line of a driver's message: enough to act on, without a stack of SQL."""
    original = getattr(error, "orig", None) or error
    return (str(original).strip().splitlines() or [type(original).__name__])[0]
