"""The session store: one interface over where records live, chosen by a URL (docs/walk.md, "The store").

    jsonl:///path/to/folder  or a plain path   one JSON Lines file per session (the terminal's default)
    sqlite:///path/to/sessions.db              one SQLite file (the server's embedded default)
    postgresql://user@host/db                  a team's shared PostgreSQL (driver: psycopg 3)

The URL comes from `--database`, else $KB_DATABASE_URL, else $KB_SESSIONS (a folder), else
`sessions:` in kb.yaml, else a folder in the user's data folder.
"""

from __future__ import annotations

import getpass
import os
import re
import secrets
import socket
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from kbengine.kb import CACHE_DIR, CONFIG_FILE
from kbengine.model import Config
from kbengine.read.slugs import slugify
from kbengine.read.sources import load_config
from kbengine.walk.events import ENDED, DamagedEvent, Event, Replayed, Start, event_data, replay

_AGE = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_AGE_UNITS = {"h": "hours", "d": "days", "w": "weeks"}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
Damaged = Callable[[str], None]


class SessionError(Exception):
    """A session that cannot be found, read or written; the message says why in plain words."""


class SessionLocked(SessionError):
    """The session is held by another walk; it can still be read."""


class SessionMissing(SessionError):
    """There is no session with this id."""


class SessionMoved(SessionError):
    """The session has events its writer had not read: another request wrote first; read it again."""


@dataclass
class Session:
    """A record read back: its events, the state they lead to, and where it is kept."""

    id: str
    events: list[Event]
    location: str  # the file, or the database and id, for messages
    damaged: int = 0  # lines left out because they were not whole events (a crash cut one short)
    replayed: Replayed = field(init=False)

    def __post_init__(self) -> None:
        if not self.events or not isinstance(self.events[0], Start):
            raise SessionError(f"{self.location} is not a session record "
                               "(it does not begin with a start event)")
        try:
            self.replayed = replay(self.events)
        except DamagedEvent as error:
            raise SessionError(f"{self.location}: {error}") from None

    @property
    def start(self) -> Start:
        start = self.events[0]
        assert isinstance(start, Start)
        return start

    @property
    def state(self) -> dict[str, Any]:
        return self.replayed.state

    @property
    def tree(self) -> str:
        return self.start.tree

    @property
    def outcome(self) -> str:
        return str(self.state.get("outcome", "in_progress"))

    @property
    def started(self) -> str:
        return self.start.at

    @property
    def last(self) -> str:
        return self.events[-1].at

    @property
    def ticket(self) -> str:
        """The ticket given at the start, or the one given when the walk was last resumed."""
        given = [str(getattr(e, "ticket", "")) for e in self.events if getattr(e, "ticket", "")]
        return given[-1] if given else ""

    def summary(self) -> dict[str, Any]:
        return {"session": self.id, "tree": self.tree, "title": self.start.tree_title,
                "outcome": self.outcome, "node": self.state.get("node", ""), "ticket": self.ticket,
                "agent": self.start.agent, "started": self.started, "last": self.last,
                "steps": len(self.state.get("path", [])), "record": self.location,
                "damaged_lines": self.damaged}

    def event_data(self) -> list[dict[str, Any]]:
        return [event_data(event) for event in self.events]

    def extended(self, events: Iterable[Event]) -> Session:
        """This session with more events after its own (as written by `SessionStore.record`)."""
        return Session(self.id, [*self.events, *events], self.location, self.damaged)


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a session for writing: shown to a second agent who tries to open it."""

    agent: str
    host: str
    pid: int
    since: str = ""
    token: str = ""  # tells two walks of one process apart

    @classmethod
    def here(cls, agent: str | None = None) -> Holder:
        return cls(agent_name() if agent is None else agent, socket.gethostname(), os.getpid(),
                   _now().isoformat(timespec="seconds"), secrets.token_hex(8))

    def describe(self) -> str:
        return f"{self.agent or 'someone'} on {self.host} (process {self.pid})"

    def is_gone(self) -> bool:
        """A holder on this machine whose process has ended (killed, crashed) holds nothing."""
        if self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False
        return False


def locked_message(session_id: str, holder: Holder) -> str:
    since = holder.since[:16].replace("T", " ")
    return (f"session {session_id} is open by {holder.describe()} since {since}; "
            f"see it read-only with: kb sessions show {session_id}")


class SessionStore(ABC):
    """Where session records live. Every front end reads and writes sessions through this."""

    url: str

    # writing

    @abstractmethod
    def create(self, start: Start) -> str:
        """Write a new session's start event under `start.session`, or a fresh id when that one is
        taken (two walks started in the same second); returns the id used."""

    @abstractmethod
    def append(self, session_id: str, event: Event) -> None:
        """Add one event, durable when this returns."""

    def record(self, session: Session, events: Sequence[Event], holder: Holder | None = None) -> Session:
        """Add `events` after those of `session` as it was read, all or none, and return the session
        with them: how a server writes a step in one go. SessionMoved when the session has events
        since (another request wrote first), SessionLocked when another walk than `holder` holds it.

        This version holds the session while it checks and appends; a database does it in one
        transaction (sqlstore.py)."""
        own = holder or Holder.here()
        if holder is None:
            self.lock(session.id, own)
        try:
            if holder is None and len(self.read(session.id).events) != len(session.events):
                raise SessionMoved(f"session {session.id} was written by another request; read it again")
            for event in events:
                self.append(session.id, event)
        finally:
            if holder is None:
                self.unlock(session.id, own)
        return session.extended(events)

    @abstractmethod
    def lock(self, session_id: str, holder: Holder) -> None:
        """Hold the session for writing; SessionLocked naming the holder when another walk has it."""

    @abstractmethod
    def unlock(self, session_id: str, holder: Holder) -> None:
        """Let go of a session this holder holds (nothing happens otherwise)."""

    @abstractmethod
    def delete(self, session_id: str) -> None:
        """Remove a session and its events."""

    # reading

    @abstractmethod
    def ids(self) -> list[str]:
        """Every session id, in order (ids sort by their start time)."""

    @abstractmethod
    def read(self, session_id: str) -> Session:
        """The session with exactly this id; SessionMissing when there is none, SessionError when it
        is unreadable."""

    def matching(self, prefix: str) -> list[str]:
        """The ids that start with `prefix`, in order."""
        return [i for i in self.ids() if i.startswith(prefix)]

    def sessions(self, ids: Iterable[str] | None = None, damaged: Damaged | None = None) -> Iterator[Session]:
        """Every readable session (or those of `ids`), oldest first; an unreadable one is skipped and
        passed to `damaged` as a sentence."""
        for session_id in self.ids() if ids is None else ids:
            try:
                yield self.read(session_id)
            except SessionError as error:
                if damaged is not None:
                    damaged(str(error))

    def location(self, session_id: str) -> str:
        return f"{self.url}#{session_id}"

    def versions(self, outcome: str | None = None) -> dict[str, str]:
        """Per session (ending with `outcome`, when given; a store that cannot tell without reading
        lists them all): a text that changes whenever it gets an event. This version reads them all."""
        return {session.id: str(len(session.events)) for session in self.list_sessions(outcome=outcome)}

    def version(self, outcome: str | None = None) -> str:
        """A text that changes whenever a session of `versions` is added, removed or gets an event:
        what a cache of what the sessions say is kept under."""
        return repr(sorted(self.versions(outcome).items()))

    @abstractmethod
    def close(self) -> None:
        """Let go of connections and locks held by this store."""

    # shared behaviour

    def load(self, session_id: str) -> Session:
        """The session with this id, or the only one whose id starts with it."""
        if not _ID.match(session_id):
            raise SessionError(f"'{session_id}' is not a session id")
        try:
            return self.read(session_id)  # the whole id, as a server or a script gives it
        except SessionMissing:
            pass
        found = self.matching(session_id)
        if len(found) == 1:
            return self.read(found[0])
        if found:
            raise SessionError(f"'{session_id}' matches {len(found)} sessions: "
                               f"{', '.join(found[:5])}; give more of the id")
        raise SessionMissing(f"there is no session '{session_id}' in {self.url} (see kb sessions list)")

    def list_sessions(self, *, tree: str | None = None, outcome: str | None = None,
                      since: datetime | None = None, ticket: str | None = None,
                      damaged: Damaged | None = None) -> list[Session]:
        """Readable sessions, oldest first, that pass every filter given."""
        return [session for session in self.sessions(damaged=damaged)
                if (not tree or session.tree == tree)
                and (not outcome or session.outcome == outcome)
                and (not ticket or session.ticket.casefold() == ticket.casefold())
                and (not since or moment_of(session.last) >= since)]

    def purge(self, older_than: timedelta, now: datetime | None = None, dry_run: bool = False) -> list[str]:
        """Delete sessions whose last event is older than `older_than`; the ids deleted (or that would be)."""
        now = now or _now()
        old = [s.id for s in self.sessions() if now - moment_of(s.last) > older_than]
        if not dry_run:
            for session_id in old:
                self.delete(session_id)
        return old

    def add(self, session: Session) -> int:
        """Copy a session from another store; events it already has are not added again.
        Returns how many events were added (0 when it was there in full)."""
        try:
            here = self.read(session.id)
        except SessionMissing:
            if self.create(replace(session.start, session=session.id)) != session.id:
                raise SessionError(f"session {session.id} could not be copied under its own id") from None
            here = self.read(session.id)
        have = len(here.events)
        if have < len(session.events):
            self.record(here, session.events[have:])
        return max(len(session.events) - have, 0)


def moment_of(stamp: str) -> datetime:
    """An event's ISO time as an aware datetime (a naive one is taken as local time)."""
    moment = datetime.fromisoformat(stamp)
    return moment if moment.tzinfo else moment.astimezone()


def _now() -> datetime:
    return datetime.now().astimezone()


def ended(outcome: str) -> bool:
    return outcome in ENDED


def new_session_id(now: datetime | None = None) -> str:
    """A readable, sortable id: date, time and a random part, e.g. 20240501-143012-3fa9."""
    now = now or datetime.now()
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def candidate_ids(start: Start, attempts: int = 20) -> Iterator[str]:
    """The id the start event names, then fresh ones: an id already taken is drawn again."""
    if start.session:
        yield start.session
    for _ in range(attempts):
        yield new_session_id()


def agent_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return os.environ.get("USER", "")


# --- choosing the store -------------------------------------------------------------------

def read_config(root: Path) -> Config:
    """kb.yaml alone, without compiling the KB (sessions commands need nothing else)."""
    try:
        return load_config(CONFIG_FILE, (root / CONFIG_FILE).read_bytes())[0]
    except OSError:
        return Config()


def store_url(root: Path, config: Config | None = None, database: str | None = None,
              environ: Mapping[str, str] | None = None) -> str:
    """The store of this KB: --database, $KB_DATABASE_URL, $KB_SESSIONS, kb.yaml `sessions:`, else
    the data folder. A relative path or sqlite file in kb.yaml is relative to the KB."""
    environ = os.environ if environ is None else environ
    if database:
        return database
    if environ.get("KB_DATABASE_URL"):
        return environ["KB_DATABASE_URL"]
    if environ.get("KB_SESSIONS"):
        return str(Path(environ["KB_SESSIONS"]).expanduser().resolve())
    if config is None:
        config = read_config(root)
    if config.sessions:
        return _configured(root, config.sessions)
    data = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(data).expanduser() / "kbengine" / "sessions" / (slugify(root.name) or "kb"))


def _configured(root: Path, sessions: str) -> str:
    scheme, sep, rest = sessions.partition(":")
    if sep and scheme.lower().startswith("sqlite") and rest.startswith("///") and not rest.startswith("////"):
        return f"{scheme}:///{_outside_cache(root, rest[3:], sessions)}"
    if sep and "://" in sessions and not scheme.lower().startswith("jsonl"):
        return sessions
    folder = sessions[len("jsonl://"):] if scheme.lower() == "jsonl" else sessions
    return str(_outside_cache(root, folder, sessions))


def _outside_cache(root: Path, relative: str, written: str) -> Path:
    path = (root / Path(relative).expanduser()).resolve()
    cache = (root / CACHE_DIR).resolve()
    if path == cache or cache in path.parents:
        raise SessionError(f"sessions: {written} in kb.yaml points inside {CACHE_DIR}/, the build "
                           "cache, which may be deleted at any time; choose another place")
    return path


def sessions_folder(root: Path, config: Config | None = None,
                    environ: Mapping[str, str] | None = None) -> Path:
    """The JSON Lines folder this KB uses (SessionError when a database is configured instead)."""
    url = store_url(root, config, None, environ)
    if not is_folder(url):
        raise SessionError(f"this KB keeps its sessions in a database ({redact(url)}), not a folder")
    return folder_of(url)


def is_folder(url: str) -> bool:
    scheme = url.partition(":")[0].lower()
    return "://" not in url or scheme == "jsonl" or len(scheme) == 1  # C:\ on Windows


def folder_of(url: str) -> Path:
    return Path(url[len("jsonl://"):] if url.lower().startswith("jsonl://") else url)


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


def open_store(url: str) -> SessionStore:
    """The store at this URL; SessionError when it is not one kb knows or cannot be opened."""
    if is_folder(url):
        from kbengine.walk.jsonl import JsonlStore

        return JsonlStore(folder_of(url))
    scheme = url.partition(":")[0].lower().split("+")[0]
    if scheme in ("sqlite", "postgresql", "postgres"):
        from kbengine.walk.sqlstore import SqlStore

        return SqlStore(url)
    raise SessionError(f"'{redact(url)}' is not a session store kb knows; use a folder, "
                       "jsonl:///folder, sqlite:///file.db or postgresql://user@host/database")


# --- ages and moments (retention, filters) ------------------------------------------------

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
        return _now() - parse_age(text)
    if end_of_day and len(text.strip()) == 10:
        moment += timedelta(days=1)
    return moment if moment.tzinfo else moment.astimezone()
