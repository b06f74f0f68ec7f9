"""BM25F ranking: the one module that reads Whoosh's internals (posting blocks, length columns).

Queries of plain words (nearly all of them) are ranked here from whoosh's posting blocks,
with whoosh's own BM25F formula; other queries are ranked by whoosh's matchers.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.util.numeric import byte_to_length

Ranked = list[tuple[int, float]]  # (document number, score), best first
Norms = Callable[[Any, Any, int, str], Sequence[float]]  # (searcher, reader, offset, field) -> norms


def rank_query(searcher: Any, parsed: wq.Query, allowed: set[int], limit: int) -> tuple[Ranked, int]:
    """Whoosh's own ranking, for phrases, AND, NOT, prefixes and fields that narrow."""
    # Block-quality skipping ranks without scoring every match; whoosh 2.7 loses matches of
    # NOT queries with it, so those are scored (and counted) in full.
    skipping = not _has_not(parsed)
    collector = searcher.collector(limit=limit, filter=allowed, optimize=skipping)
    searcher.search_with_collector(parsed, collector)
    results = collector.results()
    ranked = [(hit.docnum, hit.score) for hit in results]
    if not skipping or len(ranked) < limit:
        return ranked, collector.count()  # nothing was skipped: the count is exact
    return ranked, len(matching_documents(searcher, parsed) & allowed)


def _has_not(parsed: wq.Query) -> bool:
    return isinstance(parsed, wq.Not | wq.AndNot) or any(_has_not(child) for child in parsed.children())


def matching_documents(searcher: Any, parsed: wq.Query) -> set[int]:
    """The numbers of the documents that match `parsed`, found without scoring them."""
    if type(parsed) is wq.Term:
        return _term_documents(searcher, parsed.fieldname, parsed.text)
    if type(parsed) is wq.Or and not parsed.minmatch:
        return set().union(*(matching_documents(searcher, child) for child in parsed.subqueries))
    if type(parsed) is wq.And:
        found: set[int] | None = None
        for child in parsed.subqueries:
            matched = matching_documents(searcher, child)
            found = matched if found is None else found & matched
            if not found:
                return set()
        return found or set()
    if type(parsed) is wq.AndMaybe:
        return matching_documents(searcher, parsed.a)
    if type(parsed) is wq.AndNot:
        return matching_documents(searcher, parsed.a) - matching_documents(searcher, parsed.b)
    return set(searcher.docs_for_query(parsed))  # phrases, prefixes, ...: whoosh's own way


def _term_documents(searcher: Any, field: str, text: str) -> set[int]:
    """The documents with a term, read a posting block at a time."""
    found: set[int] = set()
    if field in searcher.schema:
        for leaf, offset in searcher.leaf_searchers():
            for ids, _, deleted in _posting_blocks(leaf.reader(), field, text, weights=False):
                found.update(number + offset for number in ids if number not in deleted)
    return found


def _posting_blocks(reader: Any, field: str, text: str, *,
                    weights: bool) -> Iterator[tuple[Sequence[int], Sequence[float], frozenset[int]]]:
    """(document numbers, term frequencies, deleted numbers) of a term in one segment, by block.

    Whoosh's matchers step posting by posting through several Python calls each; reading
    whoosh 2.7's blocks whole is many times faster for long posting lists.
    """
    if (field, text) not in reader:
        return
    postings = reader.postings(field, text)
    deleted: frozenset[int] = frozenset()
    if isinstance(postings, FilterMatcher):  # the segment has deleted documents
        deleted, postings = postings._ids, postings.child
    if not isinstance(postings, W3LeafMatcher):  # another codec: the slow, public way
        ids, frequencies = [], []
        while postings.is_active():
            ids.append(postings.id())
            frequencies.append(postings.weight())
            postings.next()
        yield ids, frequencies, deleted
        return
    while postings.is_active():
        if postings._ids is None:
            postings._read_ids()
        if weights and postings._weights is None:
            postings._read_weights()
        yield postings._ids, postings._weights if weights else (), deleted
        postings._next_block()


def word_terms(parsed: wq.Query, schema: Any, boost: float = 1.0) -> list[tuple[str, str, float]] | None:
    """(field, word, boost) of a query made of words only (terms joined by OR), else None."""
    if type(parsed) is wq.Term:
        if parsed.fieldname not in schema or not schema[parsed.fieldname].scorable \
                or not isinstance(parsed.text, str):
            return None
        return [(parsed.fieldname, parsed.text, boost * parsed.boost)]
    if type(parsed) is wq.Or and not parsed.minmatch and not parsed.scale:
        terms: list[tuple[str, str, float]] = []
        for child in parsed.subqueries:
            found = word_terms(child, schema, boost * parsed.boost)
            if found is None:
                return None
            terms.extend(found)
        return terms
    return None


def rank_words(searcher: Any, terms: list[tuple[str, str, float]], allowed: set[int], limit: int,
               norms: Norms,
               coordination: float = 0.0, concepts: dict[str, str] | None = None) -> tuple[Ranked, int]:
    """Whoosh's BM25F ranking of a words-only query, summed term by term over whole posting blocks.

    The same scores as whoosh's own matchers (and so the same order), several times faster
    because no per-document matcher tree is walked; the total comes exact, for free. With
    `coordination`, a score is multiplied by (words matched / words the KB has) ** coordination,
    so a document with more of the distinct query words ranks higher than one that repeats one.
    `concepts` maps words that mean the same (synonyms) to one name: any of them counts as one.
    """
    k1 = searcher.weighting.K1
    everything = len(allowed) == searcher.doc_count_all()  # then no need to look each one up
    scores: dict[int, float] = {}
    matched: dict[int, int] = {}  # document -> bit set of the distinct words it matched
    bits: dict[str, int] = {}
    rarity: dict[int, float] = {}  # bit -> the word's idf where it is most common: rare words count more
    weight: dict[int, float] = {}  # bit -> the word's highest boost: weighed-down words count less
    for field, text, boost in terms:
        concept = concepts.get(text, text) if concepts else text
        bit = bits.setdefault(concept, 1 << len(bits))
        idf = searcher.idf(field, text)
        if coordination and searcher.doc_frequency(field, text):
            rarity[bit] = min(rarity.get(bit, idf), idf)
            weight[bit] = max(weight.get(bit, 0.0), boost)
        for documents, found in _bm25_blocks(searcher, field, text, idf * (k1 + 1) * boost, norms):
            for document, score in zip(documents, found, strict=True):
                if everything or document in allowed:
                    scores[document] = scores.get(document, 0.0) + score
                    if coordination:
                        matched[document] = matched.get(document, 0) | bit
    if coordination and scores:
        known = _union(matched.values())  # words no allowed document has do not count against any
        weights = {bit: idf * weight[bit] for bit, idf in rarity.items() if bit & known}
        everything_matched = sum(weights.values()) or 1.0
        shares: dict[int, float] = {}
        for document, mask in matched.items():
            share = shares.get(mask)
            if share is None:
                share = sum(idf for bit, idf in weights.items() if bit & mask) / everything_matched
                shares[mask] = share
            scores[document] *= share ** coordination
    if len(scores) <= limit:
        best = list(scores.items())
    else:  # the limit-th best score, then every document that reaches it (ties: as whoosh orders them)
        lowest = heapq.nlargest(limit, scores.values())[-1]
        best = [(document, score) for document, score in scores.items() if score >= lowest]
    best.sort(key=lambda item: (-item[1], item[0]))
    return best[:limit], len(scores)


def exact_scores(searcher: Any, words: Iterable[str], fields: Sequence[str], candidates: set[int],
                 norms: Norms) -> dict[int, float]:
    """A second opinion on `candidates`: BM25 of the words as typed (unstemmed, lower case) over
    each document's whole text (`fields`: the vocabulary fields), with Robertson's idf, as SQLite
    FTS5 ranks. Exact words and whole-document length are evidence the fielded, stemmed ranking
    lacks; a word in half the documents or more tells nothing here and is not read."""
    k1 = searcher.weighting.K1
    total = searcher.doc_count_all()
    scores: dict[int, float] = {}
    for word in set(words):
        for field in fields:
            frequency = searcher.doc_frequency(field, word)
            idf = math.log((total - frequency + 0.5) / (frequency + 0.5)) if frequency else 0.0
            if idf <= 0:
                continue
            for documents, found in _bm25_blocks(searcher, field, word, idf * (k1 + 1), norms):
                for document, score in zip(documents, found, strict=True):
                    if document in candidates:
                        scores[document] = scores.get(document, 0.0) + score
    return scores


def _bm25_blocks(searcher: Any, field: str, text: str, top: float,
                 norms: Norms) -> Iterator[tuple[Sequence[int], list[float]]]:
    """(document numbers, BM25 scores) of a term, a posting block at a time, over every segment:
    top * tf / (tf + norm), with top = idf * (k1 + 1) * boost and
    norm = k1 * (1 - b + b * length / average)."""
    for leaf, offset in searcher.leaf_searchers():
        reader = leaf.reader()
        norm = norms(searcher, reader, offset, field)
        for ids, frequencies, _ in _posting_blocks(reader, field, text, weights=True):
            documents = [number + offset for number in ids] if offset else ids
            yield documents, [top * frequency / (frequency + norm[number])
                              for number, frequency in zip(ids, frequencies, strict=True)]


def fuse(ranked: Ranked, exact: dict[int, float], weight: float) -> Ranked:
    """`ranked` re-ordered by its score plus `weight` times the exact-word score, the latter scaled
    so that the best exact-word score is worth `weight` times the best ranked score (so neither
    scale matters, and scores stay on the ranking's scale)."""
    if not ranked or not exact:
        return ranked
    scale = weight * max(score for _, score in ranked) / (max(exact.values()) or 1.0)
    fused = [(document, score + scale * exact.get(document, 0.0)) for document, score in ranked]
    fused.sort(key=lambda item: (-item[1], item[0]))
    return fused


def _union(masks: Iterable[int]) -> int:
    union = 0
    for mask in masks:
        union |= mask
    return union


def field_lengths(reader: Any, field: str) -> list[int]:
    """The length of `field` in every document of a segment, as whoosh rounds it for scoring."""
    count = reader.doc_count_all()
    try:  # whoosh 2.7 keeps one length byte per document in a column: read it whole
        column = reader._perdoc._cached_reader(f"_{field}_len", LENGTHS_COLUMN)
        raw = column._dbfile.get(column._basepos, column._count) if column is not None else b""
    except AttributeError:
        return [reader.doc_field_length(number, field, 0) or 0 for number in range(count)]
    return [byte_to_length(byte) for byte in raw[:count]] + [0] * (count - len(raw))


def healthy(searcher: Any) -> bool:
    try:
        searcher.search(wq.Every(), limit=1)
        return True
    except Exception:
        return False


def filter_query(kind: str | None, lang: str | None, tags: Iterable[str], audience: str | None,
            drafts: bool) -> wq.Query:
    statuses = ["published", "draft"] if drafts else ["published"]
    parts: list[wq.Query] = [wq.Or([wq.Term("status", status) for status in statuses])]
    if kind:
        parts.append(wq.Term("kind", kind))
    if lang:
        parts.append(wq.Term("lang", lang))
    if audience:
        parts.append(wq.Term("audience", audience))
    parts.extend(wq.Term("tag", tag.strip().lower()) for tag in tags if tag.strip())
    return wq.And(parts)



def field_norms(searcher: Any, reader: Any, field: str) -> list[float]:
    """BM25's length part of `field` for each document of a segment: k1 * (1 - b + b * length / average)."""
    weighting = searcher.weighting
    k1, b = weighting.K1, weighting._field_B.get(field, weighting.B)
    average = searcher.avg_field_length(field) or 1
    return [k1 * ((1 - b) + b * length / average) for length in field_lengths(reader, field)]


def boost_titles(ranked: Ranked, words: list[tuple[str, float]], title_words: Callable[[int], list[str]],
                 cover: float, phrase: float) -> Ranked:
    """Re-rank by how much of the query a title holds: `cover` for the (weighted) share of the
    query's words it has, `phrase` for the share of neighbouring query words it has side by side."""
    total = sum(weight for _, weight in words) or 1.0
    pairs = list(itertools.pairwise(words))
    rescored = []
    for document, score in ranked:
        title = title_words(document)
        present = set(title)
        share = sum(weight for word, weight in words if word in present) / total
        neighbours = set(itertools.pairwise(title))
        together = (sum(1 for (a, _), (b, _) in pairs if (a, b) in neighbours) / len(pairs)) if pairs else 0.0
        rescored.append((document, score * (1 + cover * share + phrase * together)))
    rescored.sort(key=lambda item: (-item[1], item[0]))
    return rescored
