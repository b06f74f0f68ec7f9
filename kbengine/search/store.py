"""The index in .kb/index: building it, keeping it in step with the KB, swapping it in whole,
keeping it open for the next search, and running a query on it.

Each document (an article or a tree) fills the analysed fields of its own language
(`lead_en`, `body_nl`, ...); a query is parsed over the fields of the KB's languages.
The index follows the KB incrementally by a content hash stored with every document; a
full rebuild is written aside and swapped in, so a killed run never leaves half an index.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whoosh.filedb.filestore import FileStorage, RamStorage
from whoosh.index import FileIndex, LockError, open_dir

from kbengine.layout import CACHE_DIR, CONFIG_FILE, cache_key
from kbengine.search import ranking
from kbengine.search.documents import (
    SCHEMA_VERSION,
    as_document,
    build_schema,
    doc_hash,
    document_texts,
    indexed_items,
    kb_languages,
    schema_id,
)
from kbengine.search.lexicon import builtin_groups, settings_synonyms, uses_builtin_synonyms
from kbengine.search.query import QueryReader, suggest
from kbengine.search.results import QueryError
from kbengine.search.snippets import query_words, snippet
from kbengine.search.usage import Usage
from kbengine.search.usage import query_words as usage_words
from kbengine.search.words import COMPOUNDING, vocabulary

if TYPE_CHECKING:  # a search of an unchanged KB loads neither the compiler nor the model
    from kbengine.kb import KnowledgeBase
    from kbengine.model import Article, Tree

log = logging.getLogger("kbengine")

INDEX_DIR = "index"
_META = "kbengine-index.json"
_LOCK_WAIT = 5.0  # seconds to wait for another kb that is updating the same index
RERANKED = 30  # the best documents of a word query that titles and exact words may re-order
TITLE_COVER, TITLE_PHRASE = 1.0, 1.0  # see ranking.boost_titles; tuned like COORDINATION
COORDINATION = 1.5  # see ranking.rank_words; tuned on the tune half of benchmarks/relevance
# The weight of the exact-word score (ranking.exact_scores) beside the ranking's own, in re-ordering
# the same best documents; chosen on the tune half of benchmarks/relevance (0.15-0.5 all gain).
EXACT_WEIGHT = 0.25
_EXACT_FIELDS = ("words_public", "words_other")  # each document's whole text, words as typed
# A full build shares the documents between this many processes, each writing its own segment.
BUILD_PROCESSES = max(1, min(4, os.cpu_count() or 1))
# Segments are written as separate files, not one compound file: whoosh copies each part of a
# compound file into memory when a search opens it (tens of milliseconds on the corpus).
_LEFTOVER_AGE = 600  # seconds after which an aside folder is a killed run's leftover


@dataclass(frozen=True, slots=True)
class Match:
    """One ranked document: `kind:id` key, score, a snippet with [[marked]] words and what it shows."""

    key: str
    score: float
    snippet: str
    shown: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Found:
    matches: list[Match]
    total: int
    suggestion: str | None


# --- keeping .kb/index in step with the KB ------------------------------------------------

def index_folder(root: Path) -> Path:
    return root / CACHE_DIR / INDEX_DIR


def _read_meta(folder: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads((folder / _META).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def _write_meta(folder: Path, schema: str, fingerprint: str, mined: list[list[Any]],
                sources: str | None = None, synonyms: list[list[str]] | None = None,
                builtin: bool = True) -> None:
    aside = folder / f"{_META}.{os.getpid()}.tmp"
    record: dict[str, Any] = {"schema": schema, "fingerprint": fingerprint, "mined": mined}
    if sources is not None:  # with the synonyms, what a search without a compile needs of the KB
        record["sources"], record["synonyms"] = sources, synonyms or []
        record["builtin_synonyms"] = builtin
    aside.write_text(json.dumps(record), "utf-8")
    os.replace(aside, folder / _META)


@dataclass(frozen=True, slots=True)
class IndexUpdate:
    """What opening the index had to do to catch up with the KB."""

    rebuilt: bool = False
    added: int = 0
    changed: int = 0
    removed: int = 0


def _fill(writer: Any, documents: Iterable[dict[str, Any]], mined: dict[tuple[str, str], int]) -> int:
    """Add the documents; the abbreviations their texts define are counted into `mined`."""
    from kbengine.search.building import count_abbreviations  # only when writing: a search never does

    count = 0
    for document in documents:
        count_abbreviations(document, mined)
        writer.update_document(**document)
        count += 1
    return count


def _mined(meta: dict[str, Any] | None) -> dict[tuple[str, str], int]:
    """The abbreviations the index's record says its documents define, with how often."""
    kept = meta.get("mined") if meta else None
    return {(str(entry[0]), str(entry[1])): int(entry[2]) for entry in kept or []
            if isinstance(entry, list) and len(entry) == 3}


def _mined_list(mined: dict[tuple[str, str], int]) -> list[list[Any]]:
    return [[short, long, count] for (short, long), count in sorted(mined.items())]


def mined_synonyms(meta: dict[str, Any] | None) -> list[list[str]]:
    """[abbreviation, what it stands for] groups: each abbreviation's most frequent meaning."""
    best: dict[str, tuple[int, str]] = {}
    for (short, long), count in _mined(meta).items():
        if short not in best or (count, long) > best[short]:
            best[short] = (count, long)
    return [[short, long] for short, (_, long) in sorted(best.items())]


def _sweep_leftovers(base: Path) -> None:
    """Remove aside folders that a killed rebuild or swap left behind."""
    now = time.time()
    for leftover in base.glob("index-*"):
        try:
            if leftover.is_dir() and now - leftover.stat().st_mtime > _LEFTOVER_AGE:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            continue


def _rebuild(kb: KnowledgeBase, languages: list[str]) -> FileIndex:
    """Write a whole new index aside, then swap it in; in memory when .kb/ cannot be written."""
    from kbengine.search.building import build_index  # ~25 ms of imports a search does not need

    schema = build_schema(languages)
    items = list(indexed_items(kb))
    known = _kb_words(items, languages)

    def document_of(pair: tuple[str, Article | Tree]) -> dict[str, Any]:
        return as_document(*pair, languages, known)

    folder = index_folder(kb.root)
    try:
        folder.parent.mkdir(exist_ok=True)
        _sweep_leftovers(folder.parent)
        aside = Path(tempfile.mkdtemp(prefix="index-new-", dir=folder.parent))
    except OSError as error:
        log.warning("kb: cannot write the search index in %s (%s); searching from memory",
                    folder, error.strerror or error)
        ix, _ = build_index(RamStorage(), schema, items, document_of)
        return ix
    try:
        _, mined = build_index(FileStorage(str(aside)), schema, items, document_of,
                               processes=BUILD_PROCESSES, size=_text_size)
        _write_meta(aside, schema_id(languages), kb.fingerprint, _mined_list(mined))
        _swap_in(aside, folder)
    finally:
        if aside.exists():
            shutil.rmtree(aside, ignore_errors=True)
    return open_dir(str(folder))


def _text_size(pair: tuple[str, Article | Tree]) -> int:
    """About how much work a document is to index (for sharing a build between processes)."""
    return 500 + len(getattr(pair[1], "body", "") or "")


def _kb_words(items: list[tuple[str, Article | Tree]], languages: list[str]) -> Callable[[str], bool] | None:
    """Whether a word occurs in the KB, for splitting compounds; None when no language compounds."""
    if not any(lang in COMPOUNDING for lang in languages):
        return None
    words = vocabulary(text for _, item in items for text in document_texts(item).values())
    return words.__contains__


def _swap_in(aside: Path, folder: Path) -> None:
    """Rename the new index into place; the old one is moved away first, then deleted."""
    old = folder.parent / f"index-old-{uuid.uuid4().hex[:8]}"
    with contextlib.suppress(FileNotFoundError):
        os.rename(folder, old)
    try:
        os.rename(aside, folder)
    except OSError:
        if not folder.is_dir():  # nobody else swapped one in: put the old one back
            os.rename(old, folder)
            raise
    shutil.rmtree(old, ignore_errors=True)


def _catch_up(ix: FileIndex, kb: KnowledgeBase, languages: list[str],
              mined: dict[tuple[str, str], int]) -> IndexUpdate:
    """Re-index the documents whose hash changed, add new ones and delete removed ones; the
    abbreviations they define are added to `mined` (a full rebuild forgets removed ones)."""
    wanted = {f"{kind}:{item.id}": (kind, item) for kind, item in indexed_items(kb)}
    writer = ix.writer(timeout=_LOCK_WAIT, compound=False)
    try:
        stored = {fields_["key"]: fields_.get("hash") for _, fields_ in writer.reader().iter_docs()}
        removed = [key for key in stored if key not in wanted]
        changed = [key for key, (kind, item) in wanted.items()
                   if key in stored and stored[key] != doc_hash(kind, item)]
        added = [key for key in wanted if key not in stored]
        for key in removed:
            writer.delete_by_term("key", key)
        reader = writer.reader()  # the words the KB had: what compounds are split against

        def known(word: str) -> bool:
            return ("words_public", word) in reader or ("words_other", word) in reader

        _fill(writer, (as_document(*wanted[key], languages, known) for key in (*changed, *added)), mined)
    except BaseException:
        writer.cancel()
        raise
    if removed or changed or added:
        writer.commit()
    else:
        writer.cancel()
    return IndexUpdate(False, len(added), len(changed), len(removed))


def open_index(kb: KnowledgeBase) -> tuple[SearchIndex, IndexUpdate]:
    """The KB's index, brought up to date first (rebuilt with a warning when it is damaged)."""
    folder = index_folder(kb.root)
    meta = _read_meta(folder)
    languages = _languages(kb, meta)
    wanted_schema = schema_id(languages)
    if meta is None or meta.get("schema") != wanted_schema:
        if meta is None and folder.exists():
            log.warning("kb: the search index in %s is incomplete; rebuilding it", folder)
        return _rebuilt(kb, languages), IndexUpdate(rebuilt=True)
    try:
        ix = open_dir(str(folder))
        update = IndexUpdate()
        if meta.get("fingerprint") != kb.fingerprint:
            mined = _mined(meta)
            update = _catch_up(ix, kb, languages, mined)
            _write_meta(folder, wanted_schema, kb.fingerprint, _mined_list(mined))
            meta = _read_meta(folder)
        return SearchIndex(ix, kb, languages, _synonyms(kb, meta), _builtin(kb)), update
    except LockError:
        log.warning("kb: another kb is updating the search index; results may be a little out of date")
        index = SearchIndex(open_dir(str(folder)), kb, languages, _synonyms(kb, meta), _builtin(kb))
        return index, IndexUpdate()
    except Exception as error:  # whoosh raises many kinds on damaged files
        log.warning("kb: the search index in %s is damaged (%s); rebuilding it",
                    folder, type(error).__name__)
        return _rebuilt(kb, languages), IndexUpdate(rebuilt=True)


def _rebuilt(kb: KnowledgeBase, languages: list[str]) -> SearchIndex:
    ix = _rebuild(kb, languages)
    return SearchIndex(ix, kb, languages, _synonyms(kb, _read_meta(index_folder(kb.root))), _builtin(kb))


def _synonyms(kb: KnowledgeBase, meta: dict[str, Any] | None) -> list[list[str]]:
    """The writers' synonym groups, then the abbreviations the content defines (the built-in
    groups of the KB's languages are added when the index is opened, see lexicon.py)."""
    return [*settings_synonyms(kb.config.search), *mined_synonyms(meta)]


def _builtin(kb: KnowledgeBase) -> bool:
    return uses_builtin_synonyms(kb.config.search)


def _languages(kb: KnowledgeBase, meta: dict[str, Any] | None) -> list[str]:
    """The KB's languages: from the index's record when it was made from this very KB, as
    learning them from the KB means loading every article."""
    if meta is not None and meta.get("fingerprint") == kb.fingerprint:
        _, _, recorded = str(meta.get("schema", "")).partition(":")
        if str(meta.get("schema", "")).startswith(f"{SCHEMA_VERSION}:") and recorded:
            return recorded.split(",")
    return kb_languages(kb) or [kb.config.default_language]


def source_stamp(root: Path) -> str:
    """A digest of the name, size and time of every file the KB at `root` is read from, and of
    kbengine's own version: equal stamps mean an equal KB, found without reading a file."""
    digest = hashlib.blake2b(cache_key().encode(), digest_size=16)
    for top in (CONFIG_FILE, "articles", "trees"):
        for path, status in _walk(root / top):
            digest.update(f"{path}\0{status.st_size}\0{status.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _walk(path: Path) -> Iterator[tuple[str, os.stat_result]]:
    try:
        entries = sorted(os.scandir(path), key=lambda entry: entry.name)
    except NotADirectoryError:
        with contextlib.suppress(OSError):
            yield str(path), path.stat()
        return
    except OSError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(Path(entry.path))
        else:
            with contextlib.suppress(OSError):
                yield entry.path, entry.stat()


def record_sources(kb: KnowledgeBase, stamp: str) -> None:
    """Note in the index's record that it was made from the files of `stamp` (taken before `kb`
    was compiled), so the next search with the same files needs no compile."""
    folder = index_folder(kb.root)
    meta = _read_meta(folder)
    if meta is not None and meta.get("fingerprint") == kb.fingerprint:
        _write_meta(folder, str(meta.get("schema", "")), kb.fingerprint, _mined_list(_mined(meta)),
                    sources=stamp, synonyms=_synonyms(kb, meta), builtin=_builtin(kb))


def open_unchanged(root: Path, stamp: str) -> SearchIndex | None:
    """The index at `root` when it was made from exactly the files of `stamp`, else None."""
    folder = index_folder(root)
    meta = _read_meta(folder)
    if meta is None or meta.get("sources") != stamp \
            or not str(meta.get("schema", "")).startswith(f"{SCHEMA_VERSION}:"):
        return None
    languages = str(meta["schema"]).partition(":")[2].split(",")
    try:
        synonyms = meta.get("synonyms")
        return SearchIndex(open_dir(str(folder)), None, languages,
                           synonyms if isinstance(synonyms, list) else [],
                           meta.get("builtin_synonyms", True) is not False)
    except Exception:  # damaged or being replaced: the slow path repairs it
        return None


def index_is_current(kb: KnowledgeBase) -> bool:
    """True when .kb/index was last brought up to date with exactly this KB (a cheap check)."""
    meta = _read_meta(index_folder(kb.root))
    return (meta is not None and meta.get("fingerprint") == kb.fingerprint
            and str(meta.get("schema", "")).startswith(f"{SCHEMA_VERSION}:"))


def update_index(kb: KnowledgeBase) -> IndexUpdate:
    """Bring .kb/index up to date with the KB (for `kb build` and other writers)."""
    index, update = open_index(kb)
    index.close()
    return update


_KEPT_OPEN = 4  # open indexes a process keeps (one per KB folder)
_kept: dict[Path, tuple[tuple[str, tuple[int, int, int]], SearchIndex]] = {}
_kept_lock = threading.Lock()


def _stamp(folder: Path) -> tuple[int, int, int] | None:
    """Changes whenever the index in `folder` is updated or replaced (its record is rewritten)."""
    try:
        status = (folder / _META).stat()
    except OSError:
        return None
    return status.st_ino, status.st_mtime_ns, status.st_size


def repaired_index(kb: KnowledgeBase) -> SearchIndex:
    """A whole new index for `kb`, after a search found the one on disk damaged (its record and
    table of contents can be whole while a segment is not)."""
    folder = index_folder(kb.root)
    with _kept_lock:
        kept = _kept.pop(folder, None)
        if kept is not None:
            kept[1].close()
    log.warning("kb: the search index in %s is damaged; rebuilding it", folder)
    return _rebuilt(kb, kb_languages(kb) or [kb.config.default_language])


def shared_index(kb: KnowledgeBase) -> SearchIndex:
    """The KB's index, up to date and kept open for the next search while neither KB nor index change."""
    folder = index_folder(kb.root)
    with _kept_lock:
        kept = _kept.pop(folder, None)
        stamp = _stamp(folder)
        if kept is not None and stamp is not None and kept[0] == (kb.fingerprint, stamp):
            index = kept[1]
            index.kb = kb  # the same content (same fingerprint); the caller's objects
        else:
            if kept is not None:
                kept[1].close()
            index, _ = open_index(kb)
            stamp = _stamp(folder)
            if stamp is None:  # searching from memory: nothing on disk tells when it is stale
                return index
        _kept[folder] = ((kb.fingerprint, stamp), index)  # newest last
        while len(_kept) > _KEPT_OPEN:
            _kept.pop(next(iter(_kept)))[1].close()
        return index


class SearchIndex:
    """An open index of one compiled KB; `search` runs one query with filters."""

    def __init__(self, ix: Any, kb: KnowledgeBase | None, languages: list[str],
                 synonyms: Iterable[Iterable[str]] = (), builtin: bool = True) -> None:
        self.ix = ix
        self.kb = kb
        self.languages = languages
        # the KB's own groups first, then what kbengine knows of its languages
        self.queries = QueryReader(ix.schema, languages, [*synonyms, *builtin_groups(languages, builtin)])
        self._searcher: Any = None  # opened on the first search, kept for the next ones
        self._allowed: dict[tuple[Any, ...], set[int]] = {}  # never changed once made
        self._field_norms: dict[tuple[int, str], list[float]] = {}
        self._lock = threading.Lock()  # one whoosh searcher reads files: one query at a time

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None
            self.ix.close()

    def parse(self, query: str, languages: list[str], internal: bool) -> Any:
        return self.queries.parse(query, languages, internal)

    def search(self, query: str, *, kind: str | None = None, lang: str | None = None,
               tags: Iterable[str] = (), audience: str | None = None, drafts: bool = False,
               limit: int = 10, usage: Usage | None = None) -> Found:
        """Rank the documents that match `query` and pass the filters (see kbengine.search);
        with `usage`, what answered similar queries before is lifted a little."""
        if lang is not None and lang not in self.languages:
            raise QueryError(f"there is no content in '{lang}': this KB's languages are "
                             f"{', '.join(self.languages)}")
        with self._lock:
            if self._searcher is None:
                self._searcher = self.ix.searcher()
            searcher = self._searcher
            reader = searcher.reader()

            def known(word: str) -> bool:
                return ("words_public", word) in reader or ("words_other", word) in reader

            forms = self.queries.word_forms(query, known)  # each counts as the typed word (forms.py)
            parsed = self.queries.parse(query, [lang] if lang else self.languages,
                                        internal=audience != "public", known=known, forms=forms)
            try:
                allowed = self._allowed_documents(searcher, (kind, lang, tuple(tags), audience, drafts))
                if not allowed:  # (whoosh reads an empty filter as no filter at all)
                    return Found([], 0, suggest(searcher, query, public_only=audience == "public"))
                words = ranking.word_terms(parsed, searcher.schema)
                if words is not None:  # plain words, by far the most common query
                    concepts = self.queries.concepts(query, forms)
                    ranked, total = ranking.rank_words(searcher, words, allowed, max(limit, RERANKED),
                                                       self.norms, COORDINATION, concepts)
                    typed = [term for term in words if term[1] not in forms]
                    ranked = ranking.boost_titles(ranked, _ordered_words(typed),
                                                  lambda number: self._title_words(searcher, number, forms),
                                                  TITLE_COVER, TITLE_PHRASE)
                    exact = ranking.exact_scores(
                        searcher, self.queries.exact_words(query),
                        _EXACT_FIELDS if audience != "public" else _EXACT_FIELDS[:1],
                        {number for number, _ in ranked}, self.norms)
                    ranked = ranking.fuse(ranked, exact, EXACT_WEIGHT)
                else:
                    ranked, total = ranking.rank_query(searcher, parsed, allowed, max(1, limit))
                if usage is not None:
                    ranked = self._lifted(searcher, ranked, usage, usage_words(query))
                matches = self._matches(searcher, parsed, ranked[:max(1, limit)], audience)
            except Exception as error:  # whoosh fails on a few odd query shapes: say which
                if ranking.healthy(searcher):
                    raise QueryError(f"this query cannot be run ({type(error).__name__}); "
                                     "try simpler words") from None
                raise
            suggestion = suggest(searcher, query, public_only=audience == "public")
        return Found(matches, total, suggestion)

    @staticmethod
    def _lifted(searcher: Any, ranked: ranking.Ranked, usage: Usage, words: frozenset[str]) -> ranking.Ranked:
        lifted = [(number, score * usage.lift(words, searcher.stored_fields(number)["key"]))
                  for number, score in ranked]
        lifted.sort(key=lambda item: (-item[1], item[0]))
        return lifted

    def _title_words(self, searcher: Any, number: int, forms: dict[str, str]) -> list[str]:
        """The analysed words of a document's title (and a tree's symptoms), in order; a form of
        a typed word (`forms`) as that word."""
        shown = searcher.stored_fields(number).get("shown") or {}
        lang = shown.get("lang") if shown.get("lang") in self.languages else self.languages[0]
        text = " ; ".join([shown.get("title", ""), shown.get("symptoms", "")])
        analyzer = searcher.schema[f"title_{lang}"].analyzer
        return [forms.get(token.text, token.text) for token in analyzer(text)]

    def norms(self, searcher: Any, reader: Any, offset: int, field: str) -> list[float]:
        """BM25's length part of `field` for each document of a segment; made once per searcher."""
        norms = self._field_norms.get((offset, field)) if searcher is self._searcher else None
        if norms is None:
            norms = ranking.field_norms(searcher, reader, field)
            if searcher is self._searcher:
                self._field_norms[(offset, field)] = norms
        return norms

    def _allowed_documents(self, searcher: Any, filters: tuple[Any, ...]) -> set[int]:
        """The document numbers that pass the filters; kept, as every query of a filter needs them."""
        allowed = self._allowed.get(filters)
        if allowed is None:
            if len(self._allowed) >= 64:
                self._allowed.clear()
            allowed = self._allowed[filters] = ranking.matching_documents(
                searcher, ranking.filter_query(*filters))
        return allowed

    def _matches(self, searcher: Any, parsed: Any, ranked: ranking.Ranked,
                 audience: str | None) -> list[Match]:
        if not ranked:
            return []
        words = query_words(searcher, parsed, self.languages)
        matches = []
        for number, score in ranked:
            stored = searcher.stored_fields(number)
            shown = stored.get("shown") or {}
            lang = str(shown.get("lang")) if shown.get("lang") in self.languages else self.languages[0]
            analyzer = searcher.schema[f"body_{lang}"].analyzer  # the searcher's: ix.schema is a new copy
            matches.append(Match(stored["key"], float(score), snippet(shown, words[lang], analyzer, audience),
                                 shown))
        return matches

def _ordered_words(terms: list[tuple[str, str, float]]) -> list[tuple[str, float]]:
    """The distinct words of a word query in the order typed, each with its highest boost."""
    weights: dict[str, float] = {}
    for _, text, boost in terms:
        weights[text] = max(weights.get(text, 0.0), boost)
    return list(weights.items())
