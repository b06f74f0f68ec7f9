"""A full index build on every core: each process turns its share of the KB's documents into
one whoosh segment, analysing each text once (kbengine.search.analysis) and writing the
postings straight to the segment's files, without whoosh's posting pool and its sort.

The index is whoosh's own format, the same terms, weights and positions as whoosh's writer
gives; the incremental path (a few changed documents) still uses whoosh's writer.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import pickle
import zlib
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec, W3FieldWriter, W3TermInfo
from whoosh.index import TOC, FileIndex
from whoosh.system import pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte

from kbengine.search.analysis import FieldAnalysis
from kbengine.search.words import abbreviations

log = logging.getLogger("kbengine")

INDEX_NAME = "MAIN"  # whoosh's default index name, what open_dir looks for
MIN_PER_PROCESS = 250  # fewer documents than this are not worth starting a process for

Item = TypeVar("Item")
Posting = tuple[int, float, bytes, int | None]  # document number, weight, encoded value, field length

_BLOCK = 128  # postings per block, as W3Codec writes them
# whoosh compresses every block; most hold a posting or two, for which zlib's set-up costs more
# than all the rest of the block and its output is longer than its input
_COMPRESS_FROM = 256  # bytes


class _FieldWriter(W3FieldWriter):
    """whoosh 3's terms and postings files, written a whole posting list at a time (whoosh's own
    writer takes one posting per call); the bytes a W3 reader expects, block by block."""

    def write_term(self, term: bytes, postings: list[Posting]) -> None:
        postfile = self._postfile
        info = W3TermInfo()
        start = postfile.tell()
        postfile.write(WHOOSH3_HEADER_MAGIC)
        fixed = self._format.fixed_value_size()
        for first in range(0, len(postings), _BLOCK):
            block = postings[first:first + _BLOCK]
            numbers, weights, values, lengths = zip(*block)
            stored = array("f", weights)
            if all(weight == 1.0 for weight in stored):
                mini_weights: Any = None
            elif all(weight == stored[0] for weight in stored):
                mini_weights = stored[0]
            else:
                mini_weights = tuple(stored)
            values = tuple(value for value in values if value)
            mini_values = values if fixed is None or fixed < 0 else (None if fixed == 0 else b"".join(values))
            deltas = tuple(number - before for number, before in zip(numbers, (0, *numbers[:-1])))
            data = pickle.dumps((deltas, mini_weights, mini_values), 2)
            level = 3 if len(data) >= _COMPRESS_FROM else 0
            if level:
                data = zlib.compress(data, level)
            known = [length for length in lengths if length]
            shortest, longest = (min(known), max(known)) if known else (None, 0)
            heaviest = max(weights)
            heaviest = heaviest if heaviest > 0 else 0
            head = pickle.dumps((len(numbers), numbers[-1], heaviest, level,
                                 length_to_byte(shortest), length_to_byte(longest)), 2)
            size = len(head) + len(data)
            postfile.write_int(-size if first + _BLOCK >= len(postings) else size)
            postfile.write(head)
            postfile.write(data)
            # the term's statistics, as W3TermInfo.add_block keeps them
            info._weight += sum(stored)
            info._df += len(numbers)
            info._minlength = shortest if info._minlength is None else min(info._minlength, shortest)
            info._maxlength = max(info._maxlength, longest)
            info._maxweight = max(info._maxweight, heaviest)
            if info._minid is None:
                info._minid = numbers[0]
            info._maxid = numbers[-1]
        info.set_extent(start, postfile.tell() - start)
        self._tindex.add(pack_ushort(self._fieldid) + term, info.to_bytes())


class SegmentBuilder:
    """Writes documents (field name -> value, as whoosh's `add_document` takes them) as one segment."""

    def __init__(self, storage: Any, schema: Any) -> None:
        self._storage, self._schema = storage, schema
        self._codec = W3Codec()
        self._segment = self._codec.new_segment(storage, INDEX_NAME)
        self._per_document = self._codec.per_document_writer(storage, self._segment)
        self._analysis = FieldAnalysis(schema)
        self._postings: dict[str, dict[bytes, list[Posting]]] = {}  # field -> term -> postings
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
                length = sum(posting[1] for posting in found) if field_type.scorable else 0
                # the block statistics use the length as the index stores it (in one byte)
                stored = length_to_byte(length) if length else 0
                read = byte_to_length(stored) if stored else None
                terms = self._postings.setdefault(name, {}) if found else {}
                for term, _, weight, encoded in found:
                    kept = terms.get(term)
                    if kept is None:
                        terms[term] = [(number, weight, encoded, read)]
                    else:
                        kept.append((number, weight, encoded, read))
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
        self._postings.clear()
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
                 document_of: Callable[[Item], dict[str, Any]]) -> Share:
    share = Share()
    if not items:
        return share
    builder = SegmentBuilder(storage, schema)
    for item in items:
        document = document_of(item)
        count_abbreviations(document, share.mined)
        builder.add(document)
    share.segment = builder.finish()
    return share


def _child(connection: Any, storage: Any, schema: Any, items: Sequence[Item],
           document_of: Callable[[Item], dict[str, Any]]) -> None:
    try:
        connection.send(_build_share(storage, schema, items, document_of))
    except BaseException as error:  # the parent builds this share itself
        connection.send(f"{type(error).__name__}: {error}")
    finally:
        connection.close()


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


def build_index(storage: Any, schema: Any, items: Sequence[Item], document_of: Callable[[Item], dict[str, Any]],
                *, processes: int = 1, size: Callable[[Item], int] = lambda item: 1,
                ) -> tuple[FileIndex, dict[tuple[str, str], int]]:
    """A new index in `storage` of the documents of `items`, built by up to `processes` processes
    (this one included); with the abbreviations the documents define, counted."""
    context = _fork()
    shares = _shares(items, processes if context is not None else 1, size)
    children = []
    for share in shares[1:]:
        receiving, sending = context.Pipe(duplex=False)
        child = context.Process(target=_child, args=(sending, storage, schema, share, document_of), daemon=True)
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
    TOC(schema, [result.segment for result in built if result.segment is not None], 0).write(storage, INDEX_NAME)
    return FileIndex(storage, schema, INDEX_NAME), mined
