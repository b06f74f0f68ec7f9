"""Atomic output: build the site in a folder next to the target, then swap it in whole.

A failed or killed build leaves the previous site exactly as it was; the leftover
`.site.building-<pid>` folder of a killed build is removed by the next build.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import itertools
import json
import os
import posixpath
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MARKER = ".kb-site"  # written into every site kb builds; a folder without it is never replaced
_RENAME_EXCHANGE = 2  # renameat2 flag: swap two paths in one step (Linux)
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders atomically where the system can; False when it cannot."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError, TypeError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers(out: Path) -> None:
    """Undo what killed in-place builds changed; delete temporary folders of builds whose process
    is gone."""
    for prefix in (f".{out.name}.undo-", f".{out.name}.building-", f".{out.name}.old-",
                   f".{out.name}.pagefind-"):
        for folder in out.parent.glob(prefix + "*"):
            pid = folder.name.rsplit("-", 1)[-1]
            if pid.isdigit() and (int(pid) == os.getpid() or not _pid_alive(int(pid))):
                if prefix.endswith(".undo-") and out.is_dir():
                    undo_changes(out, folder)  # a killed in-place build: its changes go
                shutil.rmtree(folder, ignore_errors=True)


class OutputError(Exception):
    """The output folder cannot be used; the message says why."""


def check_replaceable(out: Path) -> None:
    """Refuse to replace a folder that holds something other than a site kb built."""
    if out.is_file():
        raise OutputError(f"{out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise OutputError(f"{out} holds files that kb did not build; refusing to replace it "
                          "(choose another --out, or empty the folder)")


def output_file(folder: Path, rel: str) -> Path:
    """Where the site file `rel` goes inside `folder`: every write of a build asks here, and a path
    that would land outside the folder (`..`, absolute, NUL) is refused, whatever the content said."""
    normal = posixpath.normpath("/" + rel.replace("\\", "/")).lstrip("/")
    parts = rel.replace("\\", "/").split("/")
    if "\x00" in rel or ".." in parts or rel.startswith("/") or not normal or normal == ".":
        raise OutputError(f"refusing to write {rel!r}: it is not a file inside the site folder")
    return folder / normal


@contextmanager
def atomic_output(out: Path) -> Iterator[Path]:
    """Yield an empty folder to build in; on success it replaces `out`, on failure it is deleted."""
    out = out.absolute()
    check_replaceable(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(out)
    building = out.parent / f".{out.name}.building-{os.getpid()}"
    building.mkdir()
    (building / MARKER).write_text("Built by kb build; replaced whole on every build.\n", "utf-8")
    try:
        yield building
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    if out.is_dir() and not out.is_symlink() and _exchange(building, out):
        shutil.rmtree(building, ignore_errors=True)  # now holds the old site
        return
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        os.replace(out, old)
    os.replace(building, out)
    shutil.rmtree(old, ignore_errors=True)


class Changes:
    """Files put into or removed from a built site in place, each in one step, that can all be
    undone until `keep()`: a build that fails part-way leaves the previous site as it was. The
    undo folder beside the site keeps each file's old version and a journal, so the next build
    (or `kb serve` abandoning a rebuild) puts back what a killed build had changed."""

    def __init__(self, folder: Path, out: Path | None = None, *, undoable: bool = True) -> None:
        """`folder` is where files go: `out` itself, or a fresh folder that will replace `out`
        (then nothing needs undoing: `undoable=False`)."""
        out = out or folder
        self.folder = folder
        self.undoable = undoable
        self.undo_folder = out.parent / f".{out.name}.undo-{os.getpid()}"
        self.aside = self.undo_folder / "new"  # new files are finished here, then renamed in
        self._noted: set[str] = set()

    def aside_file(self) -> Path:
        return aside_file(self.aside)

    def _note(self, target: Path) -> None:
        """Before the first change to `target`: keep its old version (or note it was not there)."""
        rel = target.relative_to(self.folder).as_posix()
        if rel in self._noted or not self.undoable:
            return
        self._noted.add(rel)
        had = target.is_file()
        if had:
            saved = self.undo_folder / "files" / rel
            saved.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(target, saved)  # the old version stays reachable after the rename over it
            except OSError:
                shutil.copy2(target, saved)
        self.undo_folder.mkdir(exist_ok=True)
        with (self.undo_folder / _JOURNAL).open("a", encoding="utf-8") as journal:
            journal.write(json.dumps([had, rel]) + "\n")

    def put(self, source: Path, target: Path) -> None:
        """Move `source` (a finished file) to `target`, replacing what was there."""
        target.parent.mkdir(parents=True, exist_ok=True)
        self._note(target)
        os.replace(source, target)

    def remove(self, target: Path) -> None:
        self._note(target)
        target.unlink(missing_ok=True)

    def undo(self) -> None:
        undo_changes(self.folder, self.undo_folder)
        self._noted.clear()

    def keep(self) -> None:
        self._noted.clear()
        shutil.rmtree(self.undo_folder, ignore_errors=True)


_JOURNAL = "journal.jsonl"
_ASIDE_NUMBERS = itertools.count()


def aside_file(folder: Path) -> Path:
    """A new file name in `folder`, unique across processes (render workers write here too)."""
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{os.getpid()}-{next(_ASIDE_NUMBERS)}"


def undo_changes(folder: Path, undo_folder: Path) -> None:
    """Put back every file an unfinished in-place build changed, newest change first."""
    try:
        lines = (undo_folder / _JOURNAL).read_text("utf-8").splitlines()
    except OSError:
        lines = []
    for line in reversed(lines):
        try:
            had, rel = json.loads(line)
            target = output_file(folder, rel)
        except (ValueError, TypeError, OutputError):
            continue  # a line cut short by a kill: its change was never made
        if had:
            saved = undo_folder / "files" / rel
            if saved.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(saved, target)
        else:
            target.unlink(missing_ok=True)
    shutil.rmtree(undo_folder, ignore_errors=True)
