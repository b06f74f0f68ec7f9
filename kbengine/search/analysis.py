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
from collections import Counter
from typing import Any

from whoosh.analysis import (
    CharsetFilter,
    CompositeAnalyzer,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
    Token,
)
from whoosh.formats import Frequency, Positions
from whoosh.system import pack_uint

from kbengine.search.words import CodePartsFilter

Posting = tuple[bytes, int, float, bytes]  # (term, frequency, weight, encoded value), as FieldType.index

# whoosh's RegexTokenizer default, without its capturing group (so findall gives whole words).
# A word never spans a line break, so lines are tokenized apart and shared between fields.
_WHOOSH_WORDS = r"\w+(\.?\w+)*"
_WORDS = re.compile(r"\w+(?:\.?\w+)*")
_ONE_WORD_FILTERS = (LowercaseFilter, CharsetFilter, StopFilter, StemFilter, CodePartsFilter)


class WordTerms:
    """What one analyzer makes of each distinct word: the terms it indexes, remembered."""

    def __init__(self, filters: list[Any]) -> None:
        self._filters = filters
        stops = [item for item in filters if isinstance(item, StopFilter)]
        # a stop filter that renumbers gives the kept terms consecutive positions
        self.renumbers = bool(stops) and stops[0].renumber
        self.remembered: dict[str, tuple[str, ...]] = {}

    def of(self, word: str) -> tuple[str, ...]:
        terms = self.remembered.get(word)
        if terms is None:
            token = Token(positions=False, chars=False, removestops=True, mode="index")
            token.text, token.boost, token.stopped = word, 1.0, False
            stream: Any = iter((token,))
            for item in self._filters:
                stream = item(stream)
            terms = self.remembered[word] = tuple(kept.text for kept in stream)  # read as yielded
        return terms


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
    lines across the fields of one document (call `next_document` between documents)."""

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

    def next_document(self) -> None:
        self._lines.clear()

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
        words = self._words(value)
        if positioned:
            return _positions(terms, words, boost, field.format)
        counts: dict[str, int] = {}
        for word, times in Counter(words).items():  # each distinct word once
            for term in terms.of(word):
                counts[term] = counts.get(term, 0) + times
        return [(term.encode("utf-8"), count, float(count) * boost, pack_uint(count))
                for term, count in counts.items()]


def _positions(terms: WordTerms, words: list[str], boost: float, format_: Any) -> list[Posting]:
    found: dict[str, list[int]] = {}
    position = -1
    renumbers = terms.renumbers
    remembered, of = terms.remembered, terms.of
    for index, word in enumerate(words):
        kept_terms = remembered.get(word)
        for term in of(word) if kept_terms is None else kept_terms:
            # whoosh's stop filter numbers kept terms on from the first one's word position
            position = (index if position < 0 else position + 1) if renumbers else index
            kept = found.get(term)
            if kept is None:
                found[term] = [position]
            else:
                kept.append(position)
    return [(term.encode("utf-8"), len(kept), float(len(kept)) * boost, format_.encode(kept))
            for term, kept in found.items()]
