"""Walks over the API and MCP: each request reads the walk's session record, replays it on the tree
version the walk began with, takes one action and writes it in one transaction before the answer
leaves. The write succeeds only if nobody wrote to the session since it was read (else the step is
taken again on the newer record) and no terminal walk holds it.

Nothing of a walk lives in the server process, so any worker can serve the next step and a server
killed between two steps loses nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from kbengine.compiler import load_content
from kbengine.layout import CACHE_DIR
from kbengine.model import Article
from kbengine.report import Filters
from kbengine.search.usage import Usage, load_usage
from kbengine.server import content
from kbengine.server.auth import Caller
from kbengine.server.errors import Conflict, NotFound, Unprocessable
from kbengine.server.library import Library
from kbengine.services.report import read_records, team_report
from kbengine.walk.engine import Walk, WalkError
from kbengine.walk.events import ArticleOpened, Ticket
from kbengine.walk.handover import handover, handover_markdown, handover_text
from kbengine.walk.recording import (
    RecordedWalk,
    rebuild_walk,
    start_walk,
    walk_state,
)
from kbengine.walk.store import Session, SessionError, SessionLocked, SessionMoved, SessionStore, parse_moment

HANDOVER_FORMATS = ("json", "md", "text")
HOLD_WAIT = 5.0  # seconds a step waits for a terminal walk that holds the session to let go


class Walks:
    """The walk, session and report services of the server, for one KB and one session store."""

    def __init__(self, library: Library, store: SessionStore) -> None:
        self.library = library
        self.store = store
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    # Walking

    def start(self, caller: Caller, tree_id: str, ticket: str | None = None,
              query: str = "") -> dict[str, Any]:
        """A new walk; `query` is what was searched before the tree was chosen (search learns from it)."""
        kb = self.library.kb
        content.find_tree(kb, caller, tree_id)
        recorded = start_walk(kb, self.store, tree_id, ticket, agent=caller.name, hold=False, query=query)
        return self._view(caller, recorded)

    def open_article(self, caller: Caller, walk_id: str, article_id: str) -> Article:
        """The article the agent reads during the walk, recorded as read (`article_opened`): the content
        report counts it, and search learns from it when the walk is solved. Reading it again straight
        away (a reload) is not recorded twice."""
        found = content.find_article(self.library.kb, caller, article_id)
        last = self._session(caller, walk_id).events[-1]
        if not (isinstance(last, ArticleOpened) and last.article == found.id):
            self._act(caller, walk_id, lambda walk: walk.opened(found.id), ended_ok=True)
        return found

    def usage(self) -> Usage | None:
        """What this server's own solved walks say answered which queries, for its searches."""
        try:
            return load_usage(self.store, self.library.root / CACHE_DIR / "search-usage-server.json")
        except SessionError:
            return None  # learning is a bonus: a database that cannot be read never stops a search

    def state(self, caller: Caller, walk_id: str) -> dict[str, Any]:
        return self._view(caller, self._rebuild(caller, walk_id))

    def answer(self, caller: Caller, walk_id: str, answer: str | int) -> dict[str, Any]:
        """Answer the question (by label or number), or confirm an action step (any answer)."""

        def act(walk: Walk) -> None:
            if walk.node.kind == "do":
                walk.confirm()
            else:
                walk.answer(str(answer))

        return self._act(caller, walk_id, act)

    def back(self, caller: Caller, walk_id: str) -> dict[str, Any]:
        return self._act(caller, walk_id, lambda walk: walk.back())

    def restart(self, caller: Caller, walk_id: str) -> dict[str, Any]:
        return self._act(caller, walk_id, lambda walk: walk.restart(), ended_ok=True)

    def note(self, caller: Caller, walk_id: str, text: str) -> dict[str, Any]:
        return self._act(caller, walk_id, lambda walk: walk.note(text), ended_ok=True)

    def provide(self, caller: Caller, walk_id: str, name: str, value: str) -> dict[str, Any]:
        return self._act(caller, walk_id, lambda walk: walk.provide(name, value))

    def ticket(self, caller: Caller, walk_id: str, ticket: str) -> dict[str, Any]:
        """Give or correct the walk's ticket reference, also after it ended: the hand-over carries it."""
        def give(walk: Walk) -> None:
            if walk.listener is not None:  # recorded with the walk's other actions, in the same write
                walk.listener(Ticket(at=walk.clock(), ticket=ticket.strip()))

        return self._act(caller, walk_id, give, ended_ok=True)

    def handover(self, caller: Caller, walk_id: str, form: str = "json") -> dict[str, Any] | str:
        if form not in HANDOVER_FORMATS:
            raise Unprocessable(f"format must be one of: {', '.join(HANDOVER_FORMATS)}",
                                allowed=list(HANDOVER_FORMATS))
        data = handover(self._session(caller, walk_id))
        if form == "text":
            return handover_text(data)
        return data if form == "json" else handover_markdown(data)

    # Records

    def sessions(self, caller: Caller, *, since: str | None = None, tree: str | None = None,
                 outcome: str | None = None) -> list[dict[str, Any]]:
        """Summaries of the sessions the caller may see: their own, or every one for a lead."""
        found = self.store.list_sessions(tree=tree, outcome=outcome, since=_moment(since))
        return [_summary(session) for session in found if _may_read(caller, session)]

    def session(self, caller: Caller, session_id: str) -> dict[str, Any]:
        session = self._session(caller, session_id)
        return {**_summary(session), "handover": handover(session)}

    def report(self, *, since: str | None = None, by: str = "week") -> dict[str, Any]:
        """`kb report --json` over the store: recurring problems first, then the figures."""
        kb = self.library.kb
        records = read_records(self.store, Filters(), kb.config, kb)
        return {**team_report(records, _moment(since), None, by), "damaged_records": len(records.damaged)}

    # Opening a walk for one request

    def _session(self, caller: Caller, walk_id: str) -> Session:
        try:
            session = self.store.read(walk_id)
        except SessionError:
            raise NotFound(f"there is no walk '{walk_id}'") from None
        if not _may_read(caller, session):
            raise NotFound(f"there is no walk '{walk_id}'")  # another agent's walk does not exist for them
        return session

    def _lock(self, walk_id: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(walk_id, threading.Lock())

    def _rebuild(self, caller: Caller, walk_id: str) -> RecordedWalk:
        """The walk rebuilt from its record on the tree version it began with (one read)."""
        session = self._session(caller, walk_id)
        kb = self.library.kb_for_walk(session.tree, session.start.tree_hash)
        try:
            return rebuild_walk(kb, self.store, session)
        except SessionError as error:  # its tree is gone from the KB
            raise Conflict(str(error)) from None

    def _act(self, caller: Caller, walk_id: str, action: Callable[[Walk], Any], *,
             ended_ok: bool = False) -> dict[str, Any]:
        """Read, act, write in one go. A step of the same walk in this worker waits its turn; one on
        another worker that wrote first makes this one start again on the newer record."""
        with self._lock(walk_id):
            deadline = time.monotonic() + HOLD_WAIT
            while True:
                recorded = self._rebuild(caller, walk_id)
                if recorded.walk.ended and not ended_ok:
                    raise Conflict(f"the walk has already ended ({recorded.walk.state.outcome})",
                                   state=self._view(caller, recorded))
                try:
                    action(recorded.walk)
                except WalkError as error:
                    raise Unprocessable(str(error), allowed=error.choices) from None
                try:
                    recorded.save()
                except SessionMoved:
                    if time.monotonic() > deadline:
                        raise Conflict("the walk is being answered by another request; "
                                       "read it again") from None
                    continue
                except SessionLocked as error:
                    if time.monotonic() > deadline:
                        raise Conflict(str(error)) from None
                    time.sleep(0.02)
                    continue
                return self._view(caller, recorded)

    def _view(self, caller: Caller, recorded: RecordedWalk) -> dict[str, Any]:
        """The walk state for an integration, with API links and no server paths."""
        state = walk_state(recorded)
        state.pop("record", None)
        state["id"] = recorded.session_id
        # the server holds the whole KB, so this reads nothing
        state["article"] = content.article_link(load_content(recorded.kb), caller, recorded.walk.node.article)
        return state


def _may_read(caller: Caller, session: Session) -> bool:
    return caller.may("all_sessions") or session.start.agent == caller.name


def _summary(session: Session) -> dict[str, Any]:
    summary = session.summary()
    summary.pop("file", None)
    return summary


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return parse_moment(text)
    except SessionError:
        raise Unprocessable(f"'{text}' is not a date (2024-05-01) or an age (7d)") from None
