"""Learning from use: articles and trees that answered similar queries before rank a little higher.

What the session store says is read through one function, `answered_queries`: a walk whose
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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kbengine.walk.events import Event
    from kbengine.walk.store import SessionStore

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
    pairs: list[tuple[str, str]] = []
    for session in store.list_sessions(outcome="solved"):
        query = session.start.query
        if not query.strip() or not session.tree:
            continue
        pairs.append((query, f"tree:{session.tree}"))
        article = solving_article(session.events)
        if article:
            pairs.append((query, f"article:{article}"))
    return pairs


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
    """The Usage of the sessions in `store`, kept in the file `cache` while the sessions are the
    same (reading every record for each search would cost more than the search)."""
    import hashlib
    import json
    import os

    # only solved walks teach: a step of a walk in progress leaves a database's stamp as it was
    digest = hashlib.blake2b(f"{store.url}\0{store.version('solved')}".encode(), digest_size=16)
    stamp = digest.hexdigest()
    held = _HELD.get(cache)
    if held is not None and held[0] == stamp:
        return held[1]
    try:
        kept = json.loads(cache.read_text("utf-8"))
        if kept.get("stamp") == stamp:
            usage = Usage.of((query, key) for query, key in kept["pairs"])
            _HELD[cache] = (stamp, usage)
            return usage
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    pairs = answered_queries(store)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        aside = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        aside.write_text(json.dumps({"stamp": stamp, "pairs": pairs}), "utf-8")
        os.replace(aside, cache)
    except OSError:
        pass  # a read-only KB still learns, only more slowly
    usage = Usage.of(pairs)
    _HELD[cache] = (stamp, usage)
    return usage
