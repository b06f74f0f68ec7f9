"""Feedback from the help site: "Was this helpful?" on articles and troubleshooter ends, and
searches that found nothing. Validated here and kept with the session records: a JSON Lines file
in a records folder, the `kb_feedback` table in a database (docs/report.md#feedback).

Nothing personal is stored: no address, browser, cookie or name; the time to the minute; a
comment cut to 500 characters and a search to 200.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from kbengine.walk.database import METADATA
from kbengine.walk.jsonl import JsonlStore
from kbengine.walk.sqlstore import SqlStore
from kbengine.walk.store import SessionStore

FOLDER = "feedback"  # inside the sessions folder: kept, purged and backed up with the records
FILE = "feedback.jsonl"
KINDS = ("article", "tree", "search")
COMMENT_LIMIT, QUERY_LIMIT, ID_LIMIT = 500, 200, 200


class FeedbackError(ValueError):
    """Feedback that cannot be taken; the message says which field and why."""


@dataclass(frozen=True, slots=True)
class Feedback:
    """One answer to "Was this helpful?" (article, or tree and node), or one search without results."""

    at: str
    kind: str
    article: str = ""
    tree: str = ""
    node: str = ""
    helpful: bool | None = None
    comment: str = ""
    query: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value not in ("", None)}


def feedback_from(form: Mapping[str, Any], now: datetime | None = None) -> Feedback:
    """Feedback from a form post or JSON body; FeedbackError when a field is missing or out of shape."""
    kind = _field(form, "kind", ID_LIMIT)
    if kind not in KINDS:
        raise FeedbackError(f"kind must be one of {', '.join(KINDS)}, not '{kind}'")
    at = (now or datetime.now().astimezone()).isoformat(timespec="minutes")
    if kind == "search":
        query = " ".join(_field(form, "query", QUERY_LIMIT, cut=True).split())
        if not query:
            raise FeedbackError("a search without results needs its query")
        return Feedback(at, kind, query=query)
    answer = _field(form, "helpful", ID_LIMIT).casefold()
    if answer not in ("yes", "no", "true", "false"):
        raise FeedbackError("helpful must be yes or no")
    comment = _field(form, "comment", COMMENT_LIMIT, cut=True).strip()
    helpful = answer in ("yes", "true")
    if kind == "article":
        article = _field(form, "article", ID_LIMIT)
        if not article:
            raise FeedbackError("feedback on an article needs the article's id")
        return Feedback(at, kind, article=article, helpful=helpful, comment=comment)
    tree, node = _field(form, "tree", ID_LIMIT), _field(form, "node", ID_LIMIT)
    if not tree or not node:
        raise FeedbackError("feedback at a troubleshooter's end needs its tree and node")
    return Feedback(at, kind, tree=tree, node=node, helpful=helpful, comment=comment)


def _field(form: Mapping[str, Any], name: str, limit: int, *, cut: bool = False) -> str:
    value = form.get(name, "")
    if isinstance(value, bool):
        value = "yes" if value else "no"
    if not isinstance(value, str | int):
        raise FeedbackError(f"{name} must be text")
    text = str(value)
    if len(text) > limit and not cut:
        raise FeedbackError(f"{name} is longer than {limit} characters")
    return text[:limit]


FEEDBACK = sa.Table(
    "kb_feedback", METADATA,  # created by walk/migrations/versions/0003_feedback.py
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.String(40), nullable=False, index=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("article", sa.String(200), nullable=False, server_default=""),
    sa.Column("tree", sa.String(200), nullable=False, server_default=""),
    sa.Column("node", sa.String(200), nullable=False, server_default=""),
    sa.Column("helpful", sa.Boolean, nullable=True),
    sa.Column("comment", sa.Text, nullable=False, server_default=""),
    sa.Column("query", sa.String(200), nullable=False, server_default=""),
)


def _row(feedback: Feedback) -> dict[str, Any]:
    return {key: getattr(feedback, key) for key in Feedback.__slots__}


def feedback_file(sessions: Path) -> Path:
    return sessions / FOLDER / FILE


def append_feedback(store: SessionStore, feedback: Feedback) -> None:
    """Keep one piece of feedback with the session records; OSError when it cannot be written."""
    if isinstance(store, SqlStore):
        with store.engine.begin() as connection:
            connection.execute(FEEDBACK.insert().values(**_row(feedback)))
        return
    if not isinstance(store, JsonlStore):
        raise OSError(f"feedback cannot be kept in {store.url}")
    folder = store.folder / FOLDER
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    line = json.dumps(feedback.as_dict(), ensure_ascii=False) + "\n"
    descriptor = os.open(folder / FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
        handle.write(line)  # one write of one line: appends from several workers do not interleave


def read_feedback(store: SessionStore, damaged: Callable[[str], None] | None = None) -> Iterator[Feedback]:
    """Every readable piece of feedback kept with the records; a line out of shape goes to `damaged`."""
    if isinstance(store, SqlStore):
        with store.engine.connect() as connection:
            for row in connection.execute(FEEDBACK.select().order_by(FEEDBACK.c.id)):
                yield Feedback(**{key: getattr(row, key) for key in Feedback.__slots__})
        return
    if not isinstance(store, JsonlStore):
        return
    path = feedback_file(store.folder)
    try:
        handle = path.open(encoding="utf-8", errors="replace")
    except OSError:
        return
    with handle:
        for number, line in enumerate(handle, start=1):
            try:
                data = json.loads(line)
                entry = Feedback(**{key: data[key] for key in Feedback.__slots__ if key in data})
                if entry.kind not in KINDS or not all(isinstance(getattr(entry, key), str) for key in (
                        "at", "article", "tree", "node", "comment", "query")):
                    raise ValueError(entry)
                yield entry
            except (ValueError, TypeError, KeyError):
                if damaged is not None:
                    damaged(f"{path}: line {number} is not a feedback entry")


@dataclass
class Votes:
    """Answers to "Was this helpful?" about one article or troubleshooter end."""

    helpful: int = 0
    not_helpful: int = 0
    comments: list[str] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"helpful": self.helpful, "not_helpful": self.not_helpful, "comments": self.comments or []}


def tally(entries: Iterable[Feedback], since: datetime | None = None,
          until: datetime | None = None) -> dict[str, Any]:
    """Votes per article and per tree end, and searches without results by query, in the period."""
    articles: dict[str, Votes] = defaultdict(Votes)
    ends: dict[str, Votes] = defaultdict(Votes)
    searches: dict[str, dict[str, Any]] = {}
    for entry in entries:
        try:
            moment = datetime.fromisoformat(entry.at)
        except (TypeError, ValueError):
            continue
        moment = moment if moment.tzinfo else moment.astimezone()
        if (since and moment < since) or (until and moment >= until):
            continue
        if entry.kind == "search":
            found = searches.setdefault(entry.query.casefold(),
                                        {"query": entry.query, "count": 0, "last": ""})
            found["count"] += 1
            found["last"] = max(found["last"], entry.at)
            continue
        votes = articles[entry.article] if entry.kind == "article" else ends[f"{entry.tree}#{entry.node}"]
        if entry.helpful:
            votes.helpful += 1
        else:
            votes.not_helpful += 1
        if entry.comment:
            votes.comments = [*(votes.comments or []), entry.comment]
    return {"articles": dict(articles), "ends": dict(ends),
            "searches": sorted(searches.values(), key=lambda row: (-row["count"], row["query"]))}
