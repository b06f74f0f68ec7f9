"""Learning from use: articles and trees that answered similar queries before rank a little higher.

What the session store says is read through one function, `session_answers`: a walk whose
start event has the `query` the agent searched with and that ended `solved` answered that query
with its tree, and with the article the agent read last before it was solved (`solving_article`).
The lift is bounded: at most LIFT_MAX (x1.5) for a document that answered the very same words
several times, so new content with a better match is never buried, and only documents the query
already finds are lifted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kbengine.walk.events import Event
    from kbengine.walk.store import Session, SessionStore

LIFT_MAX = 0.5  # a score is multiplied by at most 1 + LIFT_MAX
_ENOUGH = 3  # this many similar answered queries give the whole lift
_SIMILAR = 0.5  # queries sharing less than this share of their words are not similar
_WORD = re.compile(r"[^\W_]+")
_HELD: dict[Path, tuple[str, Usage]] = {}  # per cache file, its stamp and Usage: a server searches often


def query_words(query: str) -> frozenset[str]:
    """The words of a query as compared here: lower case, three letters or more."""
    return frozenset(word for word in _WORD.findall(query.lower()) if len(word) >= 3)


@dataclass
class Usage:
    """Past queries and what answered them (`kind:id` keys)."""

    answered: dict[str, list[frozenset[str]]] = field(default_factory=dict)

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]]) -> Usage:
        usage = cls()
        for query, key in pairs:
            words = query_words(query)
            if words:
                usage.answered.setdefault(key, []).append(words)
        return usage

    def lift(self, words: frozenset[str], key: str) -> float:
        """The factor (1 to 1 + LIFT_MAX) for a document that answered queries like `words`."""
        past = self.answered.get(key)
        if not past or not words:
            return 1.0
        similar = sum(similarity for similarity in (len(words & before) / len(words | before)
                                                    for before in past) if similarity >= _SIMILAR)
        return 1.0 + LIFT_MAX * min(1.0, similar / _ENOUGH)


def answered_queries(store: SessionStore) -> list[tuple[str, str]]:
    """(query, `tree:id`) and (query, `article:id`) for every walk in `store` that started from a
    search and ended solved: its tree, and the article that solved it when one did."""
    return [pair for session in store.list_sessions(outcome="solved") for pair in session_answers(session)]


def session_answers(session: Session) -> list[tuple[str, str]]:
    """What one session says answered its query (see answered_queries); none unless it was solved."""
    query = session.start.query
    if session.outcome != "solved" or not query.strip() or not session.tree:
        return []
    article = solving_article(session.events)
    return [(query, f"tree:{session.tree}"), *([(query, f"article:{article}")] if article else [])]


def solving_article(events: Sequence[Event]) -> str:
    """The article the agent read last before the walk reached `solved` (the last click: what was
    read just before the fix); none when they went back or started again after reading it, since
    the answer then came from elsewhere, and none for what was read only after the fix."""
    from kbengine.walk.events import ArticleOpened, Back, Restart  # only when learning: imports cost

    read = ""
    for event in events:
        if isinstance(event, ArticleOpened):
            read = event.article
        elif isinstance(event, Back | Restart):
            read = ""
        elif _solves(event):
            return read
    return ""


def _solves(event: Event) -> bool:
    arrival = getattr(event, "arrival", None)
    if arrival is not None:
        return bool(arrival.outcome == "solved")
    return event.state is not None and event.state.get("outcome") == "solved"  # format 1


def load_usage(store: SessionStore, cache: Path) -> Usage:
    """The Usage of the sessions in `store`, kept in the file `cache` per session: reading every
    record for each search would cost more than the search, so only the sessions added or changed
    since are read (a solved walk is learned at the next search)."""
    import hashlib
    import json
    import os

    # only solved walks teach: a step of a walk in progress leaves a database's stamp as it was
    stamp = hashlib.blake2b(f"{store.url}\0{store.version('solved')}".encode(), digest_size=16).hexdigest()
    held = _HELD.get(cache)
    if held is not None and held[0] == stamp:
        return held[1]
    known: dict[str, Any] = {}
    try:
        kept = json.loads(cache.read_text("utf-8"))
        if kept["url"] == store.url:
            known = {session_id: entry for session_id, entry in kept["sessions"].items() if _whole(entry)}
            if kept["stamp"] == stamp and len(known) == len(kept["sessions"]):
                return _hold(cache, stamp, known)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    versions = store.versions("solved")
    changed = [session_id for session_id, version in versions.items()
               if session_id not in known or known[session_id][0] != version]
    sessions = {session_id: known[session_id] for session_id in versions if session_id not in changed}
    for session_id in changed:
        sessions[session_id] = [versions[session_id], []]  # an unreadable record answers nothing
    for session in store.sessions(changed):
        sessions[session.id][1] = session_answers(session)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        aside = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        aside.write_text(json.dumps({"stamp": stamp, "url": store.url, "sessions": sessions}), "utf-8")
        os.replace(aside, cache)
    except OSError:
        pass  # a read-only KB still learns, only more slowly
    return _hold(cache, stamp, sessions)


def _whole(entry: Any) -> bool:
    """A kept session in the shape written: [version, [[query, key], ...]]."""
    return (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], list)
            and all(isinstance(pair, list) and len(pair) == 2 and all(isinstance(text, str) for text in pair)
                    for pair in entry[1]))


def _hold(cache: Path, stamp: str, sessions: dict[str, Any]) -> Usage:
    """The Usage of the kept sessions ({id: [version, pairs]}), held for the next search in this process."""
    usage = Usage.of((query, key) for _, pairs in sessions.values() for query, key in pairs)
    _HELD[cache] = (stamp, usage)
    return usage
