"""Session records: one JSON Lines file per walk, where they live, and reading, listing and purging them.

Each line is one event (see docs/walk.md). Lines are written, flushed and fsync'd one at a
time, so a walk killed at any moment loses at most the step in progress.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from kbengine.kb import CACHE_DIR, CONFIG_FILE
from kbengine.model import Config
from kbengine.read.slugs import slugify
from kbengine.read.sources import load_config

SUFFIX = ".jsonl"
FORMAT = 1
_AGE = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_AGE_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


class SessionError(Exception):
    """A session that cannot be found, read or written; the message says why in plain words."""


def sessions_folder(root: Path, config: Config | None = None,
                    environ: Mapping[str, str] | None = None) -> Path:
    """Where this KB's records go: $KB_SESSIONS, else `sessions:` in kb.yaml, else the data folder."""
    environ = os.environ if environ is None else environ
    if environ.get("KB_SESSIONS"):
        return Path(environ["KB_SESSIONS"]).expanduser().resolve()
    if config is None:
        config = read_config(root)
    if config.sessions:
        folder = (root / Path(config.sessions).expanduser()).resolve()
        if folder == (root / CACHE_DIR).resolve() or (root / CACHE_DIR).resolve() in folder.parents:
            raise SessionError(f"sessions: {config.sessions} in kb.yaml points inside {CACHE_DIR}/, "
                               "the build cache, which may be deleted at any time; choose another folder")
        return folder
    data = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data).expanduser() / "kbengine" / "sessions" / (slugify(root.name) or "kb")


def read_config(root: Path) -> Config:
    """kb.yaml alone, without compiling the KB (sessions commands need nothing else)."""
    try:
        return load_config(CONFIG_FILE, (root / CONFIG_FILE).read_bytes())[0]
    except OSError:
        return Config()


def new_session_id(now: datetime | None = None) -> str:
    """A readable, sortable id: date, time and a random part, e.g. 20240501-143012-3fa9."""
    now = now or datetime.now()
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def agent_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return os.environ.get("USER", "")


class SessionRecord:
    """The open record of one walk: appends one event per line and makes it durable at once."""

    def __init__(self, path: Path, handle: IO[str]) -> None:
        self.path = path
        self._handle = handle

    @classmethod
    def create(cls, folder: Path, session_id: str, start: dict[str, Any]) -> SessionRecord:
        """A new record whose first line is the `start` event."""
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = folder / f"{session_id}{SUFFIX}"
            # records may hold personal data: readable by their owner only
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        except OSError as error:
            raise SessionError(f"cannot write session records in {folder}: {error.strerror}") from None
        record = cls(path, os.fdopen(descriptor, "a", encoding="utf-8"))
        record.append({"event": "start", "format": FORMAT, "session": session_id, **start})
        return record

    @classmethod
    def reopen(cls, path: Path) -> SessionRecord:
        try:
            handle = path.open("a", encoding="utf-8")
        except OSError as error:
            raise SessionError(f"cannot append to {path}: {error.strerror}") from None
        return cls(path, handle)

    def append(self, event: Mapping[str, Any]) -> None:
        line = json.dumps(event, ensure_ascii=False, default=str)
        try:
            self._handle.write(line + "\n")
            self._handle.flush()
            os.fsync(self._handle.fileno())
        except OSError as error:
            raise SessionError(f"cannot write to {self.path}: {error.strerror}") from None

    def close(self) -> None:
        self._handle.close()


def read_events(path: Path, *, strict: bool = False) -> list[dict[str, Any]]:
    """Every whole event in a record; a line cut short by a crash is left out, or refused when strict."""
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError as error:
        raise SessionError(f"cannot read {path}: {error.strerror}") from None
    events = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            event = None
        if isinstance(event, dict) and isinstance(event.get("event"), str):
            events.append(event)
        elif strict and line.strip():
            raise SessionError(f"{path}: line {number} is not a whole event (cut short or edited)")
    if not events or events[0]["event"] != "start":
        raise SessionError(f"{path} is not a session record (its first line is not a start event)")
    return events


@dataclass
class Session:
    """A record read back: its start event, every event, and the state after the last one."""

    id: str
    path: Path
    events: list[dict[str, Any]]
    start: dict[str, Any] = field(init=False)
    state: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.start = self.events[0]
        self.state = next((e["state"] for e in reversed(self.events) if isinstance(e.get("state"), dict)),
                          {"tree": self.start.get("tree"), "node": "", "outcome": "in_progress",
                           "path": [], "facts": {}, "inputs": {}, "notes": []})

    @property
    def tree(self) -> str:
        return str(self.start.get("tree", ""))

    @property
    def outcome(self) -> str:
        return str(self.state.get("outcome", "in_progress"))

    @property
    def started(self) -> str:
        return str(self.start.get("at", ""))

    @property
    def last(self) -> str:
        return str(self.events[-1].get("at", ""))

    @property
    def ticket(self) -> str:
        """The ticket given at the start, or the one given when the walk was last resumed."""
        given = [e["ticket"] for e in self.events
                 if e.get("event") in ("start", "resume") and e.get("ticket")]
        return str(given[-1]) if given else ""

    def summary(self) -> dict[str, Any]:
        return {"session": self.id, "tree": self.tree, "title": self.start.get("tree_title", ""),
                "outcome": self.outcome, "node": self.state.get("node", ""), "ticket": self.ticket,
                "agent": self.start.get("agent", ""), "started": self.started, "last": self.last,
                "steps": len(self.state.get("path", [])), "file": str(self.path)}


def record_paths(folder: Path) -> Iterator[Path]:
    if folder.is_dir():
        yield from sorted(folder.glob(f"*{SUFFIX}"))


def load_session(folder: Path, session_id: str) -> Session:
    """The session with this id, or the only one whose id starts with it."""
    exact = folder / f"{session_id}{SUFFIX}"
    if "/" in session_id or session_id.startswith("."):
        raise SessionError(f"'{session_id}' is not a session id")
    if exact.is_file():
        return Session(session_id, exact, read_events(exact))
    found = [p for p in record_paths(folder) if p.stem.startswith(session_id)]
    if len(found) == 1:
        return Session(found[0].stem, found[0], read_events(found[0]))
    if found:
        raise SessionError(f"'{session_id}' matches {len(found)} sessions: "
                           f"{', '.join(p.stem for p in found[:5])}; give more of the id")
    raise SessionError(f"there is no session '{session_id}' in {folder} (see kb sessions list)")


def list_sessions(folder: Path, *, tree: str | None = None, outcome: str | None = None,
                  since: datetime | None = None, ticket: str | None = None,
                  damaged: Callable[[SessionError], None] | None = None) -> list[Session]:
    """Readable sessions, oldest first, that pass every filter given.

    With `damaged`, a file with any line that is not a whole event is skipped and passed to it."""
    result = []
    for path in record_paths(folder):
        try:
            session = Session(path.stem, path, read_events(path, strict=damaged is not None))
        except SessionError as error:
            if damaged is not None:
                damaged(error)
            continue
        if tree and session.tree != tree:
            continue
        if outcome and session.outcome != outcome:
            continue
        if ticket and session.ticket.casefold() != ticket.casefold():
            continue
        if since and _time(session.last, path) < since:
            continue
        result.append(session)
    return result


def parse_age(text: str) -> timedelta:
    """`90d`, `12w` or `36h` as a timedelta; SessionError when it is not one of those."""
    match = _AGE.match(text or "")
    if not match:
        raise SessionError(f"'{text}' is not an age; write a number and a unit: 90d, 12w or 36h")
    return timedelta(**{_AGE_UNITS[match.group(2)]: int(match.group(1))})


def parse_moment(text: str, *, end_of_day: bool = False) -> datetime:
    """A date, a date and time, or an age like 7d (that long ago), as an aware datetime.

    With `end_of_day`, a date alone means the end of that day (for an `--until`)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return datetime.now().astimezone() - parse_age(text)
    if end_of_day and len(text.strip()) == 10:
        moment += timedelta(days=1)
    return moment if moment.tzinfo else moment.astimezone()


def purge(folder: Path, older_than: timedelta, now: datetime | None = None,
          dry_run: bool = False) -> list[Path]:
    """Delete records whose last event is older than `older_than`; returns what was (or would be) deleted."""
    now = now or datetime.now().astimezone()
    removed = []
    for path in record_paths(folder):
        try:
            last = read_events(path)[-1].get("at", "")
        except SessionError:
            last = ""
        if now - _time(str(last), path) > older_than:
            if dry_run:
                removed.append(path)
                continue
            try:
                path.unlink()
            except OSError as error:
                raise SessionError(f"cannot delete {path}: {error.strerror}") from None
            removed.append(path)
    return removed


def _time(stamp: str, path: Path) -> datetime:
    """An event's time (as an aware datetime), else the file's modification time."""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        moment = datetime.fromtimestamp(path.stat().st_mtime)
    return moment if moment.tzinfo else moment.astimezone()
