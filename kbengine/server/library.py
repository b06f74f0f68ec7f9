"""The KB as a long-running server holds it: compiled once, compiled again when its files change
on disk (a `git pull`), with every tree version seen kept so a walk finishes on the version it began."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace
from pathlib import Path

from kbengine.compiler import compile_kb, discover
from kbengine.kb import CONFIG_FILE, KnowledgeBase
from kbengine.model import Tree


def files_stamp(root: Path) -> tuple[tuple[str, int, int], ...]:
    """(path, mtime, size) of kb.yaml and every file under articles/ and trees/: cheap to take, and
    different after any edit, addition, removal or checkout."""
    articles, trees, others, _outside = discover(root)  # links out of the KB are never read
    stamp = []
    for rel in (CONFIG_FILE, *articles, *trees, *others):
        try:
            info = os.stat(root / rel)
        except OSError:
            continue
        stamp.append((rel, info.st_mtime_ns, info.st_size))
    return tuple(stamp)


class Library:
    """The current KnowledgeBase, refreshed at most every `interval` seconds when asked for."""

    def __init__(self, root: Path, *, interval: float = 2.0) -> None:
        self.root = root.resolve()
        self.interval = interval
        self._lock = threading.Lock()
        self._versions: dict[str, Tree] = {}  # content hash -> tree, every version compiled
        self._stamp = files_stamp(self.root)
        self._kb = self._compile()
        self._checked = time.monotonic()
        self.reloads = 0

    def _compile(self) -> KnowledgeBase:
        kb = compile_kb(self.root)
        kb.articles, kb.graph  # noqa: B018 - load now, not lazily from a cache a later compile replaces
        for tree in kb.trees.values():
            self._versions.setdefault(tree.content_hash, tree)
        return kb

    @property
    def kb(self) -> KnowledgeBase:
        """The KB, compiled again first when a file changed since the last look."""
        if self.interval >= 0 and time.monotonic() - self._checked >= self.interval:
            self.refresh()
        return self._kb

    def refresh(self) -> bool:
        """Compile again when the files changed; True when they had. While one request compiles,
        the others go on with the KB they have rather than wait."""
        if not self._lock.acquire(blocking=False):
            return False
        try:
            self._checked = time.monotonic()
            stamp = files_stamp(self.root)
            if stamp == self._stamp:
                return False
            self._kb = self._compile()
            self._stamp = stamp
            self.reloads += 1
            return True
        finally:
            self._lock.release()

    def kb_for_walk(self, tree_id: str, tree_hash: str) -> KnowledgeBase:
        """The KB with the tree of a walk as it was when the walk began, when this server still knows
        that version (a restarted server knows only the current one)."""
        kb = self.kb
        version = self._versions.get(tree_hash) if tree_hash else None
        current = kb.trees.get(tree_id)
        if version is None or (current is not None and current.content_hash == tree_hash):
            return kb
        return replace(kb, trees={**kb.trees, tree_id: version})
