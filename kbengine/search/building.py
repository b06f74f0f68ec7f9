"""A full index build on every core: each process turns its share of the KB's documents into
one whoosh segment, analysing each text once (kbengine.search.analysis) and writing the
postings straight to the segment's files, without whoosh's posting pool and its sort.

The index is whoosh's own format, the same terms, weights and positions as whoosh's writer
gives; the incremental path (a few changed documents) still uses whoosh's writer.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import pickle
import struct
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from hashlib import md5
from operator import sub
from typing import Any, TypeVar

from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec, W3FieldWriter, W3TermInfo
from whoosh.filedb.filetables import OrderedHashWriter
from whoosh.index import TOC, FileIndex
from whoosh.system import _INT_SIZE, pack_int, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte

from kbengine.search.analysis import FieldAnalysis
from kbengine.search.words import abbreviations

log = logging.getLogger("kbengine")

INDEX_NAME = "MAIN"  # whoosh's default index name, what open_dir looks for
MIN_PER_PROCESS = 250  # fewer documents than this are not worth starting a process for

Item = TypeVar("Item")
Posting = tuple[int, float, bytes, int | None]  # document number, weight, encoded value, field length

_BLOCK = 128  # postings per block, as W3Codec writes them
# Blocks are not compressed (whoosh compresses each with zlib; its readers take either): zlib was
# 7% of a build's CPU, and searches read uncompressed blocks no slower (50 queries on the corpus,
# 31 rounds: -1% CPU a query, within noise), for an index half as large again (47 MB, not 32 MB)
_UNCOMPRESSED = 0
_RECORD = struct.Struct("!ii")  # a term record's key and value lengths, as whoosh's hash files have them
# W3TermInfo's bytes for postings kept apart (not inlined): its statistics, then their extent
_TERM_INFO = struct.Struct(W3TermInfo._struct.format + "qi")


class _TermTable(OrderedHashWriter):
    """whoosh's ordered hash file of terms, its records gathered and written in one go."""

    def __init__(self, dbfile: Any) -> None:
        super().__init__(dbfile)
        self.lastkey: bytes = self.lastkey
        self._records: list[bytes] = []
        self._position = dbfile.tell()

    def add(self, key: bytes, value: bytes) -> None:
        if key <= self.lastkey:
            raise ValueError(f"Keys must increase: {self.lastkey!r}..{key!r}")
        position = self._position
        self.index.append(position)
        self._records += (_RECORD.pack(len(key), len(value)), key, value)
        self._position += _RECORD.size + len(key) + len(value)
        hashed = int.from_bytes(md5(key).digest()[-4:], "big")  # md5_hash(key), without hex
        self.buckets[hashed & 255].append((hashed, position))
        self.lastkey = key

    def close(self) -> int:
        self.dbfile.write(b"".join(self._records))
        self._records = []
        return int(super().close())


class _FieldWriter(W3FieldWriter):
    """whoosh 3's terms and postings files, written a whole posting list at a time (whoosh's own
    writer takes one posting per call); the bytes a W3 reader expects, block by block."""

    def __init__(self, codec: Any, storage: Any, segment: Any) -> None:
        """W3FieldWriter's, with a _TermTable."""
        self._codec, self._storage, self._segment = codec, storage, segment
        self._fieldname = self._fieldid = self._btext = self._fieldobj = self._format = None
        self._tindex = _TermTable(self._create_file(W3Codec.TERMS_EXT))
        self._fieldmap: dict[str, int] = {}
        self._tindex.extras["fieldmap"] = self._fieldmap
        self._postfile = self._create_file(W3Codec.POSTS_EXT)
        self._postwriter = None
        self._infield = False
        self.is_closed = False

    def start_field(self, fieldname: str, fieldobj: Any) -> None:
        super().start_field(fieldname, fieldobj)
        self._fixed = fieldobj.format.fixed_value_size()
        self._pending: list[bytes] = []  # the field's postings, written at its end
        self._singles: dict[tuple[int, float, bytes, int | None], tuple[bytes, float, float]] = {}
        self._offset = self._postfile.tell()

    def finish_field(self) -> None:
        self._postfile.write(b"".join(self._pending))
        self._pending = []
        self._singles.clear()
        super().finish_field()

    def write_term(self, term: bytes, postings: list[Posting]) -> None:
        if len(postings) == 1:  # two terms in three
            self._write_single(term, *postings[0])
            return
        pending, fixed = self._pending, self._fixed
        pending.append(WHOOSH3_HEADER_MAGIC)
        written = len(WHOOSH3_HEADER_MAGIC)
        total_weight: float = 0
        term_shortest: int | None = None
        term_longest: int = 0
        term_heaviest: float = 0
        for first in range(0, len(postings), _BLOCK):
            numbers, weights, values, lengths = zip(*postings[first:first + _BLOCK], strict=True)
            count = len(numbers)
            stored = array("f", weights)  # (the block keeps single-precision weights)
            if stored.count(1.0) == count:
                mini_weights: Any = None
            elif stored.count(stored[0]) == count:
                mini_weights = stored[0]
            else:
                mini_weights = tuple(stored)
            if fixed == 0:
                mini_values: Any = None
            elif fixed is None or fixed < 0:
                mini_values = values if all(values) else tuple(filter(None, values))
            else:
                mini_values = b"".join(values)
            deltas = tuple(map(sub, numbers, (0, *numbers[:-1])))  # (map stops at the shorter)
            data = pickle.dumps((deltas, mini_weights, mini_values), 2)
            known = [length for length in lengths if length] if None in lengths else lengths
            shortest, longest = (min(known), max(known)) if known else (None, 0)
            heaviest = max(weights)
            heaviest = heaviest if heaviest > 0 else 0
            head = pickle.dumps((count, numbers[-1], heaviest, _UNCOMPRESSED,
                                 length_to_byte(shortest), length_to_byte(longest)), 2)
            size = len(head) + len(data)
            pending += (pack_int(-size if first + _BLOCK >= len(postings) else size), head, data)
            written += _INT_SIZE + size
            # the term's statistics, as W3TermInfo.add_block keeps them
            total_weight += sum(stored)
            if term_shortest is None:
                term_shortest = shortest
            elif shortest is not None:
                term_shortest = min(term_shortest, shortest)
            term_longest = max(term_longest, longest)
            term_heaviest = max(term_heaviest, heaviest)
        self._add_term(term, total_weight, len(postings), term_shortest, term_longest, term_heaviest,
                       postings[0][0], postings[-1][0], written)

    def _write_single(self, term: bytes, number: int, weight: float, value: bytes,
                      length: int | None) -> None:
        """write_term for a term in one document: the same bytes, with less work (a document's
        words that occur once in it and nowhere else all have the same block in a field without
        positions: it is made once)."""
        key = (number, weight, value, length)
        made = self._singles.get(key)
        if made is None:
            fixed = self._fixed
            stored = array("f", (weight,))[0]
            if fixed == 0:
                mini_values: Any = None
            elif fixed is None or fixed < 0:
                mini_values = (value,) if value else ()
            else:
                mini_values = value
            data = pickle.dumps(((number,), None if stored == 1.0 else stored, mini_values), 2)
            heaviest = weight if weight > 0 else 0
            length_byte = length_to_byte(length or None)
            head = pickle.dumps((1, number, heaviest, _UNCOMPRESSED, length_byte, length_byte), 2)
            block = WHOOSH3_HEADER_MAGIC + pack_int(-len(head) - len(data)) + head + data
            made = self._singles[key] = (block, stored, heaviest)
        block, stored, heaviest = made
        self._pending.append(block)
        self._add_term(term, stored, 1, length or None, length or 0, heaviest, number, number, len(block))

    def _add_term(self, term: bytes, weight: float, documents: int, shortest: int | None, longest: int,
                  heaviest: float, first: int, last: int, written: int) -> None:
        """The term's row in the terms table: W3TermInfo.to_bytes of its statistics and extent."""
        info = _TERM_INFO.pack(0, weight, documents, 0 if shortest is None else length_to_byte(shortest),
                               length_to_byte(longest), heaviest, first, last, self._offset, written)
        self._offset += written
        self._tindex.add(pack_ushort(self._fieldid) + term, info)


class SegmentBuilder:
    """Writes documents (field name -> value, as whoosh's `add_document` takes them) as one segment."""

    def __init__(self, storage: Any, schema: Any) -> None:
        self._storage, self._schema = storage, schema
        self._codec = W3Codec()
        self._segment = self._codec.new_segment(storage, INDEX_NAME)
        self._per_document = self._codec.per_document_writer(storage, self._segment)
        self._analysis = FieldAnalysis(schema)
        self._postings: dict[str, defaultdict[bytes, list[Posting]]] = {}  # field -> term -> postings
        self.count = 0

    def add(self, document: dict[str, Any]) -> None:
        number = self.count
        schema, per_document = self._schema, self._per_document
        self._analysis.next_document()
        per_document.start_doc(number)
        for name in sorted(document):
            value = document[name]
            if value is None:
                continue
            field_type = schema[name]  # KeyError for a field the schema lacks, as whoosh
            length = 0
            if field_type.indexed:
                found = self._analysis.postings(name, field_type, value)
                length = sum([posting[1] for posting in found]) if field_type.scorable else 0
                # the block statistics use the length as the index stores it (in one byte)
                stored = length_to_byte(length) if length else 0
                read = byte_to_length(stored) if stored else None
                if found:
                    terms = self._postings.get(name)
                    if terms is None:
                        terms = self._postings[name] = defaultdict(list)
                    for term, _, weight, encoded in found:
                        terms[term].append((number, weight, encoded, read))
            per_document.add_field(name, field_type, value if field_type.stored else None, length)
        per_document.finish_doc()
        self.count += 1

    def finish(self) -> Any:
        """Write the postings and close the segment's files; the segment, for the index's table."""
        self._per_document.close()
        writer = _FieldWriter(self._codec, self._storage, self._segment)
        for name in sorted(self._postings):
            writer.start_field(name, self._schema[name])
            terms = self._postings[name]
            for term in sorted(terms):
                writer.write_term(term, terms[term])
            writer.finish_field()
        writer.close()
        self._segment.set_doc_count(self.count)
        return self._segment


@dataclass
class Share:
    """What one process built: its segment and the abbreviations its documents define."""

    segment: Any = None
    mined: dict[tuple[str, str], int] = field(default_factory=dict)


def count_abbreviations(document: dict[str, Any], mined: dict[tuple[str, str], int]) -> None:
    """Count into `mined` the abbreviations a document's title, summary and body define."""
    shown = document.get("shown") or {}
    for text in (shown.get("title", ""), shown.get("summary", ""), shown.get("body", "")):
        for pair in abbreviations(text):
            mined[pair] = mined.get(pair, 0) + 1


def _build_share(storage: Any, schema: Any, items: Sequence[Item],
                 document_of: Callable[[Item], dict[str, Any]], kept: list[Any] | None = None) -> Share:
    """The share's segment and abbreviations; its postings are put in `kept`, when given, to be
    freed later than the return (freeing them one by one is a fiftieth of the build)."""
    share = Share()
    if not items:
        return share
    builder = SegmentBuilder(storage, schema)
    for item in items:
        document = document_of(item)
        count_abbreviations(document, share.mined)
        builder.add(document)
    share.segment = builder.finish()
    if kept is not None:
        kept.append(builder)
    return share


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """A build makes millions of small objects and no garbage cycles; Python's cycle collector,
    run again and again over them, cost a tenth of the build."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _child(connection: Any, storage: Any, schema: Any, items: Sequence[Item],
           document_of: Callable[[Item], dict[str, Any]]) -> None:
    kept: list[Any] = []
    try:
        connection.send(_build_share(storage, schema, items, document_of, kept))
    except BaseException as error:  # the parent builds this share itself
        connection.send(f"{type(error).__name__}: {error}")
    finally:
        connection.close()
    # the share is sent: end here, without freeing the build's millions of objects one by one
    # while the parent waits to join this process (multiprocessing ends a forked child this way too)
    os._exit(0)


def _shares(items: Sequence[Item], processes: int, size: Callable[[Item], int]) -> list[Sequence[Item]]:
    """Consecutive runs of `items` of about equal size (so documents keep the KB's order)."""
    count = max(1, min(processes, len(items) // MIN_PER_PROCESS))
    total = sum(size(item) for item in items) or 1
    shares: list[Sequence[Item]] = []
    start, done = 0, 0
    for index, item in enumerate(items):
        done += size(item)
        if done * count >= total * (len(shares) + 1) and len(shares) < count - 1:
            shares.append(items[start:index + 1])
            start = index + 1
    shares.append(items[start:])
    return shares


def _fork() -> Any:
    """The fork start method, where there is one: children share the compiled KB without pickling it."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    return multiprocessing.get_context("fork")


def build_index(storage: Any, schema: Any, items: Sequence[Item],
                document_of: Callable[[Item], dict[str, Any]],
                *, processes: int = 1, size: Callable[[Item], int] = lambda item: 1,
                ) -> tuple[FileIndex, dict[tuple[str, str], int]]:
    """A new index in `storage` of the documents of `items`, built by up to `processes` processes
    (this one included); with the abbreviations the documents define, counted."""
    context = _fork()
    shares = _shares(items, processes if context is not None else 1, size)
    with _collector_paused():
        children = []
        for share in shares[1:]:
            receiving, sending = context.Pipe(duplex=False)
            child = context.Process(target=_child, args=(sending, storage, schema, share, document_of),
                                    daemon=True)
            child.start()
            sending.close()
            children.append((share, receiving, child))
        built = [_build_share(storage, schema, shares[0], document_of)]
        for share, receiving, child in children:
            try:
                result = receiving.recv()
            except (EOFError, OSError) as error:
                result = f"{type(error).__name__}: the process ended without an answer"
            receiving.close()
            child.join()
            if not isinstance(result, Share):
                log.info("kb: an index build process failed (%s); building its documents here", result)
                result = _build_share(storage, schema, share, document_of)
            built.append(result)
    with contextlib.suppress(OSError):  # the per-document writers' scratch folder
        storage.temp_storage(f"{INDEX_NAME}.tmp").destroy()
    mined: dict[tuple[str, str], int] = {}
    for result in built:
        for pair, count in result.mined.items():
            mined[pair] = mined.get(pair, 0) + count
    segments = [result.segment for result in built if result.segment is not None]
    TOC(schema, segments, 0).write(storage, INDEX_NAME)
    return FileIndex(storage, schema, INDEX_NAME), mined
