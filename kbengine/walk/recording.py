"""Recorded walks: start, resume and drive a walk whose every action goes to its session record,
and describe where it stands for an integration. Click-free: the CLI, the server and MCP call these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kbengine.compiler import load_content
from kbengine.kb import KBOutline
from kbengine.report import DamagedRecord, WalkFigures, in_period, walk_figures
from kbengine.walk.engine import Walk, WalkError, drive, replay
from kbengine.walk.events import ENDED, Event, Start
from kbengine.walk.handover import handover, handover_markdown
from kbengine.walk.store import (
    Holder,
    Session,
    SessionError,
    SessionStore,
    new_session_id,
    open_store,
    store_url,
)


def open_sessions(kb: KBOutline, database: str | None = None) -> SessionStore:
    """The session store this KB is configured with (see walk/store.py for the order of choice)."""
    return open_store(store_url(kb.root, kb.config, database))


@dataclass
class RecordedWalk:
    """A walk whose every action is appended to its session, held for writing until `close`; or,
    rebuilt from a session already read (`rebuild_walk`), whose actions wait for `save`."""

    kb: KBOutline
    walk: Walk
    store: SessionStore
    session_id: str
    holder: Holder | None  # None: opened only to be shown; actions are refused (unless kept for `save`)
    warnings: list[str] = field(default_factory=list)
    known: Session | None = None  # the record as read, when the walk was rebuilt from it
    pending: list[Event] | None = None  # actions not yet written: `save` writes them in one go

    @property
    def location(self) -> str:
        return self.store.location(self.session_id)

    def session(self) -> Session:
        """The record, as `kb sessions` sees it: read back, or as read with the actions saved since."""
        if self.known is not None and not self.pending:
            return self.known
        return self.store.read(self.session_id)

    def save(self) -> None:
        """Write the actions kept since the walk was rebuilt, all in one write: SessionMoved when
        another request wrote to the session since it was read, SessionLocked when a walk holds it."""
        if self.known is None or self.pending is None:
            raise SessionError(f"session {self.session_id} was not rebuilt to be saved in one go")
        if self.pending:
            self.known = self.store.record(self.known, self.pending, self.holder)
            self.pending = []

    def handover_text(self) -> str:
        return handover_markdown(handover(self.session()))

    def close(self) -> None:
        """Let go of the session, so another agent may continue it."""
        if self.holder is not None:
            self.store.unlock(self.session_id, self.holder)

    def _append(self, event: Event) -> None:
        if self.pending is not None:
            self.pending.append(event)
            return
        if self.holder is None:
            raise SessionError(f"session {self.session_id} was opened to be shown, not to be walked")
        self.store.append(self.session_id, event)


def start_walk(kb: KBOutline, store: SessionStore, tree_id: str, ticket: str | None = None, *,
               agent: str | None = None, hold: bool = True, query: str = "") -> RecordedWalk:
    """A new walk of `tree_id` with a new session; WalkError for an unknown tree. Without `hold`
    (a server, which writes each step in one go) the session is not held and the walk only shown.
    `query`: the words searched before the tree was chosen (search learns from solved walks)."""
    if tree_id not in kb.trees:
        raise WalkError(f"there is no tree '{tree_id}'; the trees are: {', '.join(sorted(kb.trees))}",
                        sorted(kb.trees))
    walk = Walk(kb.trees, tree_id)
    tree = kb.trees[tree_id]
    holder = Holder.here(agent)
    session_id = store.create(Start(
        at=walk.started_at, session=new_session_id(), tree=tree_id, tree_title=tree.title,
        tree_hash=tree.content_hash, ticket=ticket or "", agent=holder.agent, kb_root=str(kb.root),
        kb_title=kb.config.title, query=" ".join(query.split())[:500], arrival=walk.start_arrival()))
    if not hold:
        return RecordedWalk(kb, walk, store, session_id, None)
    store.lock(session_id, holder)
    recorded = RecordedWalk(kb, walk, store, session_id, holder)
    walk.listener = recorded._append
    return recorded


def open_walk(kb: KBOutline, store: SessionStore, session_id: str, *, agent: str | None = None,
              hold: bool = True) -> RecordedWalk:
    """A recorded walk rebuilt through the engine, to act on it (held for writing: SessionLocked,
    naming the holder, when another walk holds it) or, with `hold=False`, only to show it.

    A front end that serves one action per request opens, acts and closes; nothing is recorded
    for opening. An ended walk opens too: its state and hand-over can be shown."""
    session = store.load(session_id)
    if not hold:
        recorded = _rebuilt(kb, store, session, None)
        recorded.known = session
        return recorded
    holder = Holder.here(agent)
    store.lock(session.id, holder)
    try:
        # read again: the last holder may have written since
        return _rebuilt(kb, store, store.read(session.id), holder)
    except BaseException:
        store.unlock(session.id, holder)
        raise


def rebuild_walk(kb: KBOutline, store: SessionStore, session: Session) -> RecordedWalk:
    """The walk of a session already read, to take actions that `save` then writes in one go
    (how a server serves a step: one read, one write, no hold in between)."""
    recorded = _rebuilt(kb, store, session, None)
    recorded.known, recorded.pending = session, []
    return recorded


def _rebuilt(kb: KBOutline, store: SessionStore, session: Session, holder: Holder | None) -> RecordedWalk:
    tree = kb.trees.get(session.tree)
    if tree is None:
        raise SessionError(f"session {session.id} walked tree '{session.tree}', "
                           "which is no longer in this KB")
    walk, problems = replay(kb.trees, session.tree, session.events)
    warnings = []
    hashes = [h for h in (getattr(e, "tree_hash", "") for e in session.events) if h]
    if hashes and hashes[-1] != tree.content_hash:
        warnings.append(f"tree '{tree.id}' has changed since this session was recorded; "
                        "the recorded answers were applied as far as they still fit")
    warnings += problems
    if session.damaged:
        warnings.append(f"{session.damaged} damaged line{'s' * (session.damaged != 1)} in the record "
                        "(cut short by a crash) left out")
    recorded = RecordedWalk(kb, walk, store, session.id, holder, warnings)
    walk.listener = recorded._append
    return recorded


def resume_walk(kb: KBOutline, store: SessionStore, session_id: str, ticket: str | None = None, *,
                agent: str | None = None) -> RecordedWalk:
    """Hold the session, replay it and continue it (a `resume` event): how a stopped, killed or
    abandoned walk goes on. SessionError for a walk that has ended (solved or escalated)."""
    recorded = open_walk(kb, store, session_id, agent=agent)
    walk = recorded.walk
    if walk.state.outcome in ENDED:
        recorded.close()
        raise SessionError(f"session {recorded.session_id} has already ended ({walk.state.outcome}); "
                           f"start a new walk, or see it with: kb sessions show {recorded.session_id}")
    session = recorded.session()
    walk.reopen(tree_hash=recorded.kb.trees[session.tree].content_hash, ticket=ticket or session.ticket)
    return recorded


def run_scripted(recorded: RecordedWalk, answers: list[str], inputs: dict[str, str]) -> dict[str, Any]:
    """Feed the answers (labels or numbers) to ask steps and the inputs to the escalation, until an
    end or a stop; the walk state, with `warnings` and `error` when there are any."""
    walk = recorded.walk
    error, used = drive(walk, answers, inputs)
    result = walk_state(recorded)
    unused = sorted(set(inputs) - used)
    warnings = [*recorded.warnings]
    if unused:
        warnings.append(f"input not asked in this walk: {', '.join(unused)}")
    if warnings:
        result["warnings"] = warnings
    if error:
        result["error"] = error
    return result


def waiting_for(walk: Walk) -> dict[str, Any]:
    """What the walk needs next: an answer (and which), an action confirmed, or an input."""
    node = walk.node
    if node.kind == "ask":
        return {"kind": "answer", "prompt": node.prompt, "answers": [a.label for a in walk.choices()]}
    item = walk.pending_input()
    if item is not None:
        return {"kind": "input", "name": item.name, "prompt": item.prompt, "pattern": item.pattern}
    return {"kind": node.kind, "prompt": node.prompt}


def walk_state(recorded: RecordedWalk) -> dict[str, Any]:
    """Where the walk stands, with all an integration needs to act on it without a second call.

    The shape is documented in docs/walk.md ("The walk state"); `kb walk --json` prints it."""
    from kbengine.search.documents import plain_text

    walk = recorded.walk
    node = walk.node
    state: dict[str, Any] = {"session": recorded.session_id, **walk.snapshot(),
                             "record": recorded.location}
    state["text"] = {"markdown": node.text, "plain": plain_text(node.text)}
    state["article"] = _article(recorded.kb, node.article) if node.article else None
    state["answers"] = [{"number": number, "label": answer.label}
                        for number, answer in enumerate(walk.choices(), start=1)]
    state["collect"] = [{"name": item.name, "prompt": item.prompt, "pattern": item.pattern,
                         "hint": getattr(item, "hint", None) or None}
                        for item in node.collect if item.name not in walk.state.inputs]
    state["breadcrumb"] = [{"tree": step.tree, "node": step.node, "prompt": step.prompt,
                            "answer": step.answer}
                           for step in walk.state.path if step.kind != "goto"]
    if walk.ended:
        state["handover"] = handover(recorded.session())
    else:
        state["waiting_for"] = waiting_for(walk)
    return state


def _article(kb: KBOutline, article_id: str) -> dict[str, Any]:
    article = load_content(kb).articles.get(article_id)  # a walk reads articles only here
    if article is None:
        return {"id": article_id, "title": "", "summary": ""}
    return {"id": article.id, "title": article.title, "summary": article.summary}


def collect_walks(store: SessionStore, since: datetime | None, until: datetime | None,
                  trees: tuple[str, ...] = (), agent: str | None = None, ticket_prefix: str | None = None,
                  damaged: Callable[[str], None] | None = None) -> tuple[list[WalkFigures], int]:
    """The figures of every session in the period that passes the filters, and how many damaged
    records were skipped; each skip, and each record with a line cut short, is passed to `damaged`."""
    skipped: list[str] = []
    notices: list[str] = []
    walks = []
    for session in store.sessions(damaged=skipped.append):
        if not _wanted(session, trees, agent, ticket_prefix):
            continue
        try:
            walk = walk_figures(session)
        except DamagedRecord as error:
            skipped.append(f"{session.location}: {error}")
            continue
        if session.damaged:
            notices.append(f"{session.location}: {session.damaged} line{'s' * (session.damaged != 1)} "
                           "cut short (a crash) left out; the rest is counted")
        if in_period(walk, since, until):
            walks.append(walk)
    for message in [f"{problem}; skipped" for problem in skipped] + notices:
        if damaged is not None:
            damaged(message)
    return walks, len(skipped)


def _wanted(session: Session, trees: tuple[str, ...], agent: str | None, ticket_prefix: str | None) -> bool:
    if trees and session.tree not in trees:
        return False
    if agent and session.start.agent != agent:
        return False
    return not ticket_prefix or session.ticket.casefold().startswith(ticket_prefix.casefold())
