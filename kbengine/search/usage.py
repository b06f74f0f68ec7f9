"""Learning from use: articles and trees that answered similar queries before rank a little higher.

What the session store says is read through one function, `answered_queries`: a walk whose
start event has the `query` the agent searched with and that ended `solved` answered that query
with its tree. The lift is bounded: at most LIFT_MAX (x1.5) for a document that
answered the very same words several times, so new content with a better match is never buried,
and only documents the query already finds are lifted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kbengine.walk.store import SessionStore

LIFT_MAX = 0.5  # a score is multiplied by at most 1 + LIFT_MAX
_ENOUGH = 3  # this many similar answered queries give the whole lift
_SIMILAR = 0.5  # queries sharing less than this share of their words are not similar
_WORD = re.compile(r"[^\W_]+")


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
    """(query, `tree:id`) for every walk in `store` that started from a search and ended solved."""
    pairs: list[tuple[str, str]] = []
    for session in store.sessions():
        query = session.start.query
        if query.strip() and session.outcome == "solved" and session.tree:
            pairs.append((query, f"tree:{session.tree}"))
    return pairs


def load_usage(store: SessionStore, cache: Path) -> Usage:
    """The Usage of the sessions in `store`, kept in the file `cache` while the sessions are the
    same (reading every record for each search would cost more than the search)."""
    import hashlib
    import json
    import os

    from kbengine.walk.store import folder_of, is_folder

    digest = hashlib.blake2b(store.url.encode(), digest_size=16)
    if is_folder(store.url):  # a record grows as a walk goes on: its size and time tell
        folder = folder_of(store.url)
        for entry in sorted(os.scandir(folder) if folder.is_dir() else (), key=lambda entry: entry.name):
            status = entry.stat()
            digest.update(f"{entry.name}\0{status.st_size}\0{status.st_mtime_ns}\n".encode())
    else:  # a database: its sessions and their events, counted
        digest.update(repr(store.ids()).encode())
    stamp = digest.hexdigest()
    try:
        kept = json.loads(cache.read_text("utf-8"))
        if kept.get("stamp") == stamp:
            return Usage.of((query, key) for query, key in kept["pairs"])
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
    return Usage.of(pairs)
