"""The JSON Lines store: one file per session in a folder, one event per line (the terminal's default).

Each line is written, flushed and fsync'd on its own, so a walk killed at any moment loses at most
the step in progress. A session is held for writing with an flock on `<id>.lock`, which the
system lets go of when the holding process ends, however it ends.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import replace
from pathlib import Path

from kbengine.walk.events import DamagedEvent, Event, Start, event_data, parse_event
from kbengine.walk.store import (
    Holder,
    Session,
    SessionError,
    SessionLocked,
    SessionMissing,
    SessionStore,
    candidate_ids,
    locked_message,
)

SUFFIX = ".jsonl"


class JsonlStore(SessionStore):
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.url = str(folder)
        self._locks: dict[str, tuple[int, Holder]] = {}  # session id -> its lock file, held, and by whom

    def path(self, session_id: str) -> Path:
        return self.folder / f"{session_id}{SUFFIX}"

    def location(self, session_id: str) -> str:
        return str(self.path(session_id))

    def create(self, start: Start) -> str:
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as error:
            raise SessionError(f"cannot write session records in {self.folder}: {error.strerror}") from None
        for session_id in candidate_ids(start):
            try:
                # records may hold personal data: readable by their owner only
                descriptor = os.open(self.path(session_id), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            except OSError as error:
                raise SessionError(f"cannot write session records in {self.folder}: "
                                   f"{error.strerror}") from None
            first = replace(start, session=session_id)
            try:
                _write(descriptor, event_data(first), self.path(session_id))
            finally:
                os.close(descriptor)
            return session_id
        raise SessionError(f"no free session id in {self.folder} after many tries")

    def append(self, session_id: str, event: Event) -> None:
        path = self.path(session_id)
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_APPEND)
        except OSError as error:
            raise SessionError(f"cannot append to {path}: {error.strerror}") from None
        try:
            size = os.fstat(descriptor).st_size
            # a line cut short by a crash stays a damaged line of its own, not the start of this one
            fresh = size > 0 and os.pread(descriptor, 1, size - 1) != b"\n"
            _write(descriptor, event_data(event), path, fresh_line=fresh)
        except OSError as error:
            raise SessionError(f"cannot write to {path}: {error.strerror}") from None
        finally:
            os.close(descriptor)

    def lock(self, session_id: str, holder: Holder) -> None:
        if session_id in self._locks:
            other = self._locks[session_id][1]
            if other.token != holder.token:
                raise SessionLocked(locked_message(session_id, other))
            return
        path = self.folder / f"{session_id}.lock"
        while True:
            try:
                descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as error:
                raise SessionError(f"cannot lock {path}: {error.strerror}") from None
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                other = _holder(descriptor)
                os.close(descriptor)
                raise SessionLocked(locked_message(session_id, other)) from None
            # the holder before us may have removed the file between our open and our lock
            if path.exists() and os.stat(path).st_ino == os.fstat(descriptor).st_ino:
                break
            os.close(descriptor)
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, json.dumps({"agent": holder.agent, "host": holder.host, "pid": holder.pid,
                                          "since": holder.since}).encode(), 0)
        self._locks[session_id] = (descriptor, holder)

    def unlock(self, session_id: str, holder: Holder) -> None:
        held = self._locks.get(session_id)
        if held is None or held[1].token != holder.token:
            return
        descriptor = self._locks.pop(session_id)[0]
        (self.folder / f"{session_id}.lock").unlink(missing_ok=True)
        os.close(descriptor)  # closing lets go of the flock

    def delete(self, session_id: str) -> None:
        try:
            self.path(session_id).unlink()
            (self.folder / f"{session_id}.lock").unlink(missing_ok=True)
        except OSError as error:
            raise SessionError(f"cannot delete {self.path(session_id)}: {error.strerror}") from None

    def ids(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(path.stem for path in self.folder.glob(f"*{SUFFIX}"))

    def versions(self, outcome: str | None = None) -> dict[str, str]:
        # a record grows with each event: its file's size and time tell, unread (whatever its
        # outcome: finding that out would mean reading it)
        if not self.folder.is_dir():
            return {}
        return {entry.name[:-len(SUFFIX)]: f"{status.st_size}:{status.st_mtime_ns}"
                for entry in os.scandir(self.folder) if entry.name.endswith(SUFFIX)
                for status in (entry.stat(),)}

    def read(self, session_id: str) -> Session:
        path = self.path(session_id)
        try:
            text = path.read_text("utf-8", errors="replace")
        except FileNotFoundError:
            raise SessionMissing(f"there is no session '{session_id}' in {self.folder}") from None
        except OSError as error:
            raise SessionError(f"cannot read {path}: {error.strerror}") from None
        return read_lines(session_id, text, str(path))

    def close(self) -> None:
        for session_id, (_, holder) in list(self._locks.items()):
            self.unlock(session_id, holder)


def read_lines(session_id: str, text: str, location: str) -> Session:
    """A session from the lines of its file. A line that is not JSON (cut short by a crash) is left
    out and counted; a JSON line that is not an event in the documented shape makes it unreadable."""
    events: list[Event] = []
    damaged = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            damaged += 1
            continue
        try:
            events.append(parse_event(data))
        except DamagedEvent as error:
            if number == 1:
                raise SessionError(f"{location} is not a session record: {error}") from None
            raise SessionError(f"{location}: line {number}: {error}") from None
    return Session(session_id, events, location, damaged)


def _write(descriptor: int, data: dict[str, object], path: Path, *, fresh_line: bool = False) -> None:
    line = ("\n" if fresh_line else "") + json.dumps(data, ensure_ascii=False, default=str) + "\n"
    try:
        os.write(descriptor, line.encode("utf-8"))
        os.fsync(descriptor)
    except OSError as error:
        raise SessionError(f"cannot write to {path}: {error.strerror}") from None


def _holder(descriptor: int) -> Holder:
    try:
        data = json.loads(os.pread(descriptor, 4096, 0) or b"{}")
        return Holder(str(data.get("agent", "")), str(data.get("host", "")), int(data.get("pid", 0)),
                      str(data.get("since", "")))
    except (ValueError, TypeError, AttributeError, OSError):
        return Holder("", "another process", 0)
