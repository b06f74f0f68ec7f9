"""Recorded walks: start, resume and drive a walk whose every action goes to its session record,
and describe where it stands for an integration. Click-free: the CLI, the server and MCP call these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from kbengine.compiler import KnowledgeBase
from kbengine.report import DamagedRecord, WalkFigures, in_period, walk_figures
from kbengine.walk.engine import Walk, WalkError, drive, replay
from kbengine.walk.handover import handover, handover_markdown
from kbengine.walk.records import (
    Session,
    SessionError,
    SessionRecord,
    agent_name,
    list_sessions,
    load_session,
    new_session_id,
    read_events,
    sessions_folder,
)


@dataclass
class RecordedWalk:
    """A walk whose every action is appended to its session record."""

    kb: KnowledgeBase
    walk: Walk
    record: SessionRecord
    session_id: str
    warnings: list[str] = field(default_factory=list)

    def session(self) -> Session:
        """The record read back, as `kb sessions` sees it."""
        return Session(self.session_id, self.record.path, read_events(self.record.path))

    def handover_text(self) -> str:
        return handover_markdown(handover(self.session()))

    def close(self) -> None:
        self.record.close()


def start_walk(kb: KnowledgeBase, tree_id: str, ticket: str | None = None) -> RecordedWalk:
    """A new walk of `tree_id` with a new session record; WalkError for an unknown tree."""
    if tree_id not in kb.trees:
        raise WalkError(f"there is no tree '{tree_id}'; the trees are: {', '.join(sorted(kb.trees))}",
                        sorted(kb.trees))
    walk = Walk(kb.trees, tree_id)
    tree = kb.trees[tree_id]
    session_id = new_session_id()
    record = SessionRecord.create(sessions_folder(kb.root, kb.config), session_id, {
        "at": walk.clock(),
        "tree": tree_id, "tree_title": tree.title, "tree_hash": tree.content_hash,
        "ticket": ticket or "", "agent": agent_name(), "kb_root": str(kb.root),
        "kb_title": kb.config.title, "state": walk.snapshot()})
    walk.listener = record.append
    return RecordedWalk(kb, walk, record, session_id)


def resume_walk(kb: KnowledgeBase, session_id: str, ticket: str | None = None) -> RecordedWalk:
    """Replay a recorded walk through the engine and continue appending to its record."""
    session = load_session(sessions_folder(kb.root, kb.config), session_id)
    if session.outcome in ("solved", "escalated"):
        raise SessionError(f"session {session.id} has already ended ({session.outcome}); "
                           f"start a new walk, or see it with: kb sessions show {session.id}")
    tree = kb.trees.get(session.tree)
    if tree is None:
        raise SessionError(f"session {session.id} walked tree '{session.tree}', "
                           "which is no longer in this KB")
    walk, problems = replay(kb.trees, session.tree, session.events)
    warnings = []
    hashes = [e["tree_hash"] for e in session.events if e.get("tree_hash")]
    if hashes and hashes[-1] != tree.content_hash:
        warnings.append(f"tree '{tree.id}' has changed since this session was recorded; "
                        "the recorded answers were applied as far as they still fit")
    warnings += problems
    record = SessionRecord.reopen(session.path)
    walk.listener = record.append
    walk.reopen(tree_hash=tree.content_hash, ticket=ticket or session.ticket)
    return RecordedWalk(kb, walk, record, session.id, warnings)


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
    from kbengine.search.index import plain_text

    walk = recorded.walk
    node = walk.node
    state: dict[str, Any] = {"session": recorded.session_id, **walk.snapshot(),
                             "record": str(recorded.record.path)}
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


def _article(kb: KnowledgeBase, article_id: str) -> dict[str, Any]:
    article = kb.articles.get(article_id)
    if article is None:
        return {"id": article_id, "title": "", "summary": ""}
    return {"id": article.id, "title": article.title, "summary": article.summary}


def collect_walks(folder: Path, since: datetime | None, until: datetime | None, trees: tuple[str, ...] = (),
                  agent: str | None = None, ticket_prefix: str | None = None,
                  damaged: Callable[[str], None] | None = None) -> tuple[list[WalkFigures], int]:
    """The figures of every session in the period that passes the filters, and how many damaged
    records were skipped (each passed to `damaged` as a sentence)."""
    problems: list[str] = []
    walks = []
    for session in list_sessions(folder, damaged=lambda error: problems.append(str(error))):
        if not _wanted(session, trees, agent, ticket_prefix):
            continue
        try:
            walk = walk_figures(session)
        except DamagedRecord as error:
            problems.append(f"{session.path}: {error}")
            continue
        if in_period(walk, since, until):
            walks.append(walk)
    for message in problems:
        if damaged is not None:
            damaged(message)
    return walks, len(problems)


def _wanted(session: Session, trees: tuple[str, ...], agent: str | None, ticket_prefix: str | None) -> bool:
    if trees and session.tree not in trees:
        return False
    if agent and str(session.start.get("agent", "")) != agent:
        return False
    return not ticket_prefix or session.ticket.casefold().startswith(ticket_prefix.casefold())
