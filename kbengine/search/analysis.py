"""Index-time analysis at speed: the postings a field's whoosh analyzer gives a text (the same
terms, frequencies, weights and positions), from one tokenization of each line and one run of
the analyzer's filters per distinct word.

Whoosh runs a chain of generators per token and analyses a text once per field it fills; a KB's
texts fill two to three fields each and hold few distinct words, so remembering what each word
becomes is most of the work saved. Only chains whose filters look at one word at a time are
taken this way (lower case, accents, code parts, stop words, stemming); any other chain is left
to whoosh.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from itertools import chain, count
from operator import sub
from pickle import dumps
from typing import Any

from whoosh.analysis import (
    CharsetFilter,
    CompositeAnalyzer,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.formats import Frequency, Positions
from whoosh.system import pack_uint

from kbengine.search.words import CodePartsFilter, code_parts

Posting = tuple[bytes, int, float, bytes]  # (term, frequency, weight, encoded value), as FieldType.index

# whoosh's RegexTokenizer default, without its capturing group (so findall gives whole words).
# A word never spans a line break, so lines are tokenized apart and shared between fields.
_WHOOSH_WORDS = r"\w+(\.?\w+)*"
_WORDS = re.compile(r"\w+(?:\.?\w+)*")
_ONE_WORD_FILTERS = (LowercaseFilter, CharsetFilter, StopFilter, StemFilter, CodePartsFilter)


class WordTerms(dict[str, tuple[bytes, ...]]):
    """What one analyzer makes of each word: the terms it indexes (UTF-8, as the index holds
    them, in order), worked out on first sight and remembered: `terms[word]`."""

    def __init__(self, filters: list[Any]) -> None:
        super().__init__()
        self._filters = filters
        # a chain that lower-cases first makes the same of "Outlook" as of "outlook": worked out once
        self._lowers_first = bool(filters) and type(filters[0]) is LowercaseFilter
        self._lowers_only = self._lowers_first and len(filters) == 1
        stops = [item for item in filters if isinstance(item, StopFilter)]
        # a stop filter that renumbers gives the kept terms consecutive positions
        self.renumbers = bool(stops) and stops[0].renumber

    def __missing__(self, word: str) -> tuple[bytes, ...]:
        if self._lowers_first:
            lower = word.lower()
            if lower != word:
                terms = self[word] = self[lower]
                return terms
            if self._lowers_only:  # ("did you mean"'s words: the chain would only lower-case it again)
                terms = self[word] = (word.encode("utf-8"),)
                return terms
        terms = self[word] = tuple(text.encode("utf-8") for text in _through(self._filters, 0, word)[0])
        return terms


def _through(filters: list[Any], start: int, text: str) -> tuple[list[str], str]:
    """What the filters from `start` on keep of a word at index time, in order, and the word as
    they leave it: each filter's __call__ without its generator (whoosh's filters change one
    token in place, so the code-parts filter splits the word as the filters after it left it)."""
    for index in range(start, len(filters)):
        item = filters[index]
        kind = type(item)
        if kind is LowercaseFilter:
            text = text.lower()
        elif kind is CharsetFilter:
            text = text.translate(item.charmap)
        elif kind is StopFilter:  # (a stop word is removed)
            if len(text) < item.min or (item.max is not None and len(text) > item.max) or text in item.stops:
                return [], text
        elif kind is StemFilter:
            if text not in item.ignore:
                text = item._stem(text)
        else:  # CodePartsFilter: the word, then its parts
            kept, text = _through(filters, index + 1, text)
            for part in code_parts(text):
                kept += _through(filters, index + 1, part)[0]
            return kept, text
    return [text], text


def word_terms(analyzer: Any) -> WordTerms | None:
    """The per-word form of `analyzer`, or None when it is not a chain this module knows."""
    items = analyzer.items if isinstance(analyzer, CompositeAnalyzer) else [analyzer]
    tokenizer, filters = items[0], items[1:]
    if type(tokenizer) is not RegexTokenizer or tokenizer.gaps \
            or tokenizer.expression.pattern != _WHOOSH_WORDS or tokenizer.expression.flags != re.UNICODE:
        return None
    if not all(type(item) in _ONE_WORD_FILTERS for item in filters) \
            or sum(isinstance(item, StopFilter) for item in filters) > 1:
        return None
    return WordTerms(filters)


class FieldAnalysis:
    """Postings of a schema's text fields, for one build: words remembered across documents,
    lines and analysed texts across the fields of one document (call `next_document` between)."""

    def __init__(self, schema: Any) -> None:
        self._fields: dict[str, tuple[WordTerms, bool, float]] = {}
        shared: dict[int, WordTerms | None] = {}  # one memory per analyzer, whatever fields use it
        for name, field in schema.items():
            kind = type(field.format)
            if not field.indexed or kind not in (Frequency, Positions):
                continue
            key = id(field.analyzer)
            if key not in shared:
                shared[key] = word_terms(field.analyzer)
            found = shared[key]
            if found is not None:
                self._fields[name] = (found, kind is Positions, field.format.field_boost)
        self._lines: dict[str, list[str]] = {}
        # (analyzer, text) -> term -> positions: a text in a field with positions and in one
        # without (a body in `body_en` and `content_en`) is analysed once
        self._analysed: dict[tuple[int, str], defaultdict[bytes, list[int]]] = {}
        self._one_position: dict[int, bytes] = {}  # most terms are once in a text
        self._counted: dict[tuple[int, float], tuple[float, bytes]] = {}

    def next_document(self) -> None:
        self._lines.clear()
        self._analysed.clear()

    def _words(self, text: str) -> list[str]:
        words: list[str] = []
        lines = self._lines
        for line in text.split("\n"):
            found = lines.get(line)
            if found is None:
                found = lines[line] = _WORDS.findall(line)
            words.extend(found)
        return words

    def postings(self, name: str, field: Any, value: Any) -> list[Posting] | Any:
        """What `field.index(value)` gives, in some order."""
        fast = self._fields.get(name)
        if fast is None or not isinstance(value, str):
            return field.index(value)
        terms, positioned, boost = fast
        if positioned:
            return self._with_positions(terms, value, boost, field.format)
        analysed = self._analysed.get((id(terms), value))
        counts: dict[bytes, int]
        if analysed is not None:
            counts = {term: len(kept) for term, kept in analysed.items()}
        else:
            counts = {}
            for word, times in Counter(self._words(value)).items():  # each distinct word once
                for term in terms[word]:
                    counts[term] = counts.get(term, 0) + times
        known = self._counted
        postings = []
        for term, times in counts.items():
            values = known.get((times, boost))
            if values is None:
                values = known[(times, boost)] = (float(times) * boost, pack_uint(times))
            postings.append((term, times, *values))
        return postings

    def _with_positions(self, terms: WordTerms, text: str, boost: float, format_: Any) -> list[Posting]:
        words = self._words(text)
        found: defaultdict[bytes, list[int]] = defaultdict(list)
        if terms.renumbers:  # whoosh's stop filter numbers the kept terms on from the first one's place
            first = 0
            for index, word in enumerate(words):
                if terms[word]:
                    first = index
                    break
            for term, position in zip(chain.from_iterable(map(terms.__getitem__, words)), count(first)):
                found[term].append(position)
        else:
            for index, word in enumerate(words):
                for term in terms[word]:
                    found[term].append(index)
        self._analysed[(id(terms), text)] = found
        one = self._one_position
        postings = []
        for term, kept in found.items():
            if len(kept) == 1:
                encoded = one.get(kept[0])
                if encoded is None:
                    encoded = one[kept[0]] = format_.encode(kept)
            else:  # Positions.encode: the count, then the gaps pickled (its loop, in C)
                encoded = pack_uint(len(kept)) + dumps(list(map(sub, kept, [0, *kept])), 2)
            postings.append((term, len(kept), float(len(kept)) * boost, encoded))
        return postings
