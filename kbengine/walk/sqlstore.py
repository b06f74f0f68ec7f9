"""The SQL store: sessions in SQLite or PostgreSQL through one SQLAlchemy Core schema (walk/database.py).

Each event is one row, committed on its own. A walk holds its session with a lock row (a lease
renewed by every event it writes), so a second agent is told who has it and since when.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from kbengine.walk.database import EVENTS, LOCKS, SESSIONS, DatabaseError, open_engine
from kbengine.walk.events import DamagedEvent, Event, Start, event_data, parse_event
from kbengine.walk.store import (
    Damaged,
    Holder,
    Session,
    SessionError,
    SessionLocked,
    SessionStore,
    candidate_ids,
    locked_message,
    moment_of,
    redact,
)

LEASE = timedelta(minutes=30)  # a lock not renewed for this long is taken as let go of


def _utc(stamp: str) -> datetime:
    return moment_of(stamp).astimezone(UTC).replace(tzinfo=None)


class SqlStore(SessionStore):
    def __init__(self, url: str) -> None:
        self.url = redact(url)
        try:
            self.engine = open_engine(url)
        except (DatabaseError, SQLAlchemyError, OSError) as error:
            raise SessionError(f"cannot open the session database {self.url}: {_reason(error)}") from None

    def _begin(self) -> Any:
        return self.engine.begin()

    def create(self, start: Start) -> str:
        for session_id in candidate_ids(start):
            first = replace(start, session=session_id)
            try:
                with self._begin() as connection:
                    connection.execute(insert(SESSIONS).values(
                        id=session_id, tree=first.tree, ticket=first.ticket, agent=first.agent,
                        started=first.at, last_utc=_utc(first.at)))
                    _insert_event(connection, session_id, 0, first)
            except IntegrityError:
                continue
            except SQLAlchemyError as error:
                raise SessionError(f"cannot write to {self.url}: {_reason(error)}") from None
            return session_id
        raise SessionError(f"no free session id in {self.url} after many tries")

    def append(self, session_id: str, event: Event) -> None:
        try:
            with self._begin() as connection:
                count = connection.scalar(select(func.count()).select_from(EVENTS)
                                          .where(EVENTS.c.session_id == session_id))
                if not count:
                    raise SessionError(f"there is no session '{session_id}' in {self.url}")
                _insert_event(connection, session_id, int(count), event)
                changes: dict[str, Any] = {"last_utc": _utc(event.at)}
                ticket = getattr(event, "ticket", "")
                if ticket:
                    changes["ticket"] = ticket
                connection.execute(update(SESSIONS).where(SESSIONS.c.id == session_id).values(**changes))
                connection.execute(update(LOCKS).where(LOCKS.c.session_id == session_id)
                                   .values(renewed_utc=_utc_now()))
        except IntegrityError:
            raise SessionError(f"session {session_id} was written by another walk at the same moment; "
                               "this step was not recorded") from None
        except SQLAlchemyError as error:
            raise SessionError(f"cannot write to {self.url}: {_reason(error)}") from None

    def lock(self, session_id: str, holder: Holder) -> None:
        row = {"session_id": session_id, "token": holder.token, "agent": holder.agent, "host": holder.host,
               "pid": holder.pid, "since": holder.since, "renewed_utc": _utc_now()}
        try:
            with self._begin() as connection:
                held = connection.execute(select(LOCKS).where(LOCKS.c.session_id == session_id)
                                          .with_for_update()).mappings().first()
                if held is not None:
                    other = _holder(held)
                    if other.token != holder.token and not self._stale(held, other):
                        raise SessionLocked(locked_message(session_id, other))
                    connection.execute(delete(LOCKS).where(LOCKS.c.session_id == session_id))
                connection.execute(insert(LOCKS).values(**row))
        except IntegrityError:  # another walk took it between our look and our insert
            with self._begin() as connection:
                held = connection.execute(select(LOCKS).where(LOCKS.c.session_id == session_id)
                                          ).mappings().first()
            other = _holder(held) if held else holder
            raise SessionLocked(locked_message(session_id, other)) from None
        except SQLAlchemyError as error:
            raise SessionError(f"cannot lock session {session_id} in {self.url}: {_reason(error)}") from None

    @staticmethod
    def _stale(held: Any, other: Holder) -> bool:
        return held["renewed_utc"] < _utc_now() - LEASE or other.is_gone()

    def unlock(self, session_id: str, holder: Holder) -> None:
        try:
            with self._begin() as connection:
                connection.execute(delete(LOCKS).where(LOCKS.c.session_id == session_id,
                                                       LOCKS.c.token == holder.token))
        except SQLAlchemyError as error:
            raise SessionError(f"cannot unlock {session_id} in {self.url}: {_reason(error)}") from None

    def delete(self, session_id: str) -> None:
        try:
            with self._begin() as connection:
                for table, column in ((LOCKS, LOCKS.c.session_id), (EVENTS, EVENTS.c.session_id),
                                      (SESSIONS, SESSIONS.c.id)):
                    connection.execute(delete(table).where(column == session_id))
        except SQLAlchemyError as error:
            raise SessionError(f"cannot delete {session_id} in {self.url}: {_reason(error)}") from None

    def ids(self) -> list[str]:
        return self._ids(select(SESSIONS.c.id))

    def _ids(self, query: Any) -> list[str]:
        try:
            with self.engine.connect() as connection:
                return sorted(connection.scalars(query))
        except SQLAlchemyError as error:
            raise SessionError(f"cannot read {self.url}: {_reason(error)}") from None

    def read(self, session_id: str) -> Session:
        found = next(self._read([session_id]), None)
        if found is None:
            raise SessionError(f"there is no session '{session_id}' in {self.url}")
        if isinstance(found, SessionError):
            raise found
        return found

    def _read(self, ids: list[str]) -> Iterator[Session | SessionError]:
        """The sessions of these ids, read in one query per batch."""
        for first in range(0, len(ids), 500):
            batch = ids[first:first + 500]
            rows: dict[str, list[str]] = {session_id: [] for session_id in batch}
            try:
                with self.engine.connect() as connection:
                    for session_id, data in connection.execute(
                            select(EVENTS.c.session_id, EVENTS.c.data).where(EVENTS.c.session_id.in_(batch))
                            .order_by(EVENTS.c.session_id, EVENTS.c.seq)):
                        rows[session_id].append(data)
            except SQLAlchemyError as error:
                raise SessionError(f"cannot read {self.url}: {_reason(error)}") from None
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
        # the database narrows by tree and time first; outcome and ticket as the other stores do
        query = select(SESSIONS.c.id)
        if tree:
            query = query.where(SESSIONS.c.tree == tree)
        if since:
            query = query.where(SESSIONS.c.last_utc >= since.astimezone(UTC).replace(tzinfo=None))
        return [session for session in self.sessions(self._ids(query), damaged)
                if (not outcome or session.outcome == outcome)
                and (not ticket or session.ticket.casefold() == ticket.casefold())]

    def close(self) -> None:
        self.engine.dispose()


def _insert_event(connection: Connection, session_id: str, seq: int, event: Event) -> None:
    connection.execute(insert(EVENTS).values(
        session_id=session_id, seq=seq, event=event.name, at=event.at,
        data=json.dumps(event_data(event), ensure_ascii=False, default=str)))


def _holder(row: Any) -> Holder:
    return Holder(row["agent"], row["host"], row["pid"], row["since"], row["token"])


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _reason(error: BaseException) -> str:
    """The first line of a driver's message: enough to act on, without a stack of SQL."""
    original = getattr(error, "orig", None) or error
    return (str(original).strip().splitlines() or [type(original).__name__])[0]
