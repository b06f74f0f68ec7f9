"""The compile cache in .kb/: pickles keyed by content hashes and by the code that wrote them.

Three files: `compiled.pickle` (file stats, the fingerprint, the KB's outline), one
`content-<fingerprint>.pickle` (articles and graph of that compile) and `parsed.pickle` (parse
results by content hash, read only when something changed). Missing or damaged files are
rebuilt, never fatal; a read-only KB compiles without a cache.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kbengine.kb import CACHE_DIR, KBOutline, KnowledgeBase
from kbengine.layout import cache_key as cache_key  # re-exported: the compiler imports it from here
from kbengine.model import Article

if TYPE_CHECKING:  # unpickling the graph imports networkx; a warm outline does not need it
    from kbengine.graph import KBGraph

_OUTLINE_FILE = "compiled.pickle"
_CONTENT_FILE = "content-{fingerprint}.pickle"
_PARSED_FILE = "parsed.pickle"


def _read(path: Path) -> Any:
    try:
        with path.open("rb") as handle:
            return pickle.load(handle)
    except Exception:  # a missing or damaged cache file is rebuilt, never fatal
        return None


def _write(path: Path, value: Any) -> None:
    """Write aside and swap in, so a reader never sees half a file."""
    aside = path.with_suffix(f".{os.getpid()}.tmp")
    with aside.open("wb") as handle:
        pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(aside, path)


class CompileCache:
    """The pickles of one KB's .kb/ folder."""

    def __init__(self, root: Path) -> None:
        self.folder = root / CACHE_DIR
        self.state: dict[str, Any] = {"key": cache_key(), "stats": {}}
        state = _read(self.folder / _OUTLINE_FILE)
        if isinstance(state, dict) and state.get("key") == cache_key():
            self.state = state

    @property
    def stats(self) -> dict[str, tuple[int, int, str]]:
        """{file: (mtime, size, content hash)} as of the last compile."""
        return self.state["stats"]

    def outline(self, fingerprint: str) -> KBOutline | None:
        """The last compile's outline, if it compiled exactly these files."""
        return self.state.get("outline") if self.state.get("fingerprint") == fingerprint else None

    def content(self, fingerprint: str) -> tuple[dict[str, Article], KBGraph] | None:
        """Articles and graph of the compile with this fingerprint, if still kept."""
        content = _read(self.folder / _CONTENT_FILE.format(fingerprint=fingerprint))
        if not isinstance(content, dict) or content.get("fingerprint") != fingerprint:
            return None
        return content["articles"], content["graph"]

    def parsed(self) -> dict[str, Any]:
        parsed = _read(self.folder / _PARSED_FILE)
        ok = isinstance(parsed, dict) and parsed.get("key") == cache_key()
        return parsed["parsed"] if ok else {}

    def save(self, stats: dict[str, Any], parsed: dict[str, Any], kb: KnowledgeBase) -> None:
        try:
            self.folder.mkdir(exist_ok=True)
            _write(self.folder / _PARSED_FILE, {"key": cache_key(), "parsed": parsed})
            content = self.folder / _CONTENT_FILE.format(fingerprint=kb.fingerprint)
            _write(content, {"fingerprint": kb.fingerprint, "articles": kb.articles, "graph": kb.graph})
            # keep the previous compile's content too, for a process still holding that outline
            older = sorted(self.folder.glob(_CONTENT_FILE.format(fingerprint="*")),
                           key=lambda p: p.stat().st_mtime_ns, reverse=True)
            for stale in older[2:]:
                stale.unlink(missing_ok=True)
            # written last: it names the fingerprint that the content file must carry
            _write(self.folder / _OUTLINE_FILE, {"key": cache_key(), "stats": stats,
                                                 "fingerprint": kb.fingerprint, "outline": kb.outline()})
        except OSError:
            pass  # a read-only KB still compiles; it is just not cached
