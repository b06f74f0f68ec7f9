"""Snippets: the passage of a hit that holds the matched words, with each word marked as [[word]]."""

from __future__ import annotations

import functools
import re
from typing import Any

from whoosh import query as wq
from whoosh.analysis import Analyzer
from whoosh.support.charset import accent_map

from kbengine.search.documents import NAMED_FIELDS, RANKED_FIELDS, SHOWN_TEXT_CHARS, SPACE
from kbengine.search.results import MARK_END, MARK_START

# Short fields first: a matched symptom or summary reads best, and long bodies cost the most.
_SNIPPET_FIELDS = ("symptoms", "summary", "body", "headings", "internal", "title")
_SNIPPET_CHARS = 200
_HIGHLIGHT_CHARS = SHOWN_TEXT_CHARS  # highlighting analyses the text again: bound the cost per hit
_SHORT_FIELDS = {"symptoms", "summary", "title"}  # shown whole, not as passages
_PASSAGE_CHARS, _CONTEXT_CHARS = _SNIPPET_CHARS // 2, 40  # a passage of a long text, and its context



@functools.lru_cache(maxsize=256)
def _candidates(beginnings: frozenset[str]) -> re.Pattern[str]:
    """The words (as whoosh's RegexTokenizer finds them) that begin with one of `beginnings`,
    or with a letter that accent folding may turn into one."""
    starts = "|".join(re.escape(beginning) for beginning in sorted(beginnings, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?<!\w\.)(?:{starts}|[^\W\x00-\x7f])\w*(?:\.?\w+)*", re.IGNORECASE)


def _matched_spans(text: str, words: frozenset[str], analyzer: Analyzer) -> list[tuple[int, int]]:
    """Where in `text` the words are whose analysed form is one of `words` (start, end).

    Only words that begin like one of `words` go through the (slow) analyser: stemming
    keeps the beginning of a word, so the others cannot match.
    """
    beginnings = frozenset(word[:2] for word in words)
    seen: dict[str, bool] = {}
    spans = []
    for found in _candidates(beginnings).finditer(text):
        word = found.group().lower().translate(accent_map)
        matched = seen.get(word)
        if matched is None:
            matched = seen[word] = word[:2] in beginnings and any(
                token.text in words for token in analyzer(word))
        if matched:
            spans.append(found.span())
    return spans


def _passages(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The two passages of about _PASSAGE_CHARS with the most matched words, in text order."""
    passages: list[tuple[int, int, int]] = []  # start, end, matched words
    first = 0
    while first < len(spans):
        last = first
        while last + 1 < len(spans) and spans[last + 1][1] - spans[first][0] <= _PASSAGE_CHARS:
            last += 1
        start = max(0, spans[first][0] - _CONTEXT_CHARS)
        end = min(len(text), spans[last][1] + _CONTEXT_CHARS)
        while start < spans[first][0] and text[start - 1:start].isalnum():  # whole words only
            start += 1
        while end > spans[last][1] and text[end:end + 1].isalnum():
            end -= 1
        passages.append((start, end, last - first + 1))
        first = last + 1
    best = sorted(passages, key=lambda passage: -passage[2])[:2]
    return sorted((start, end) for start, end, _ in best)


def _mark(text: str, spans: list[tuple[int, int]], start: int, end: int) -> str:
    """text[start:end] with each matched word between the marks."""
    pieces = []
    for span_start, span_end in spans:
        if start <= span_start and span_end <= end:
            pieces += [text[start:span_start], MARK_START, text[span_start:span_end], MARK_END]
            start = span_end
    pieces.append(text[start:end])
    return "".join(pieces).strip()


def shorten(text: str, limit: int = _SNIPPET_CHARS) -> str:
    """The first words of `text`, at most about `limit` characters, with … when cut; never cuts a mark."""
    text = SPACE.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    if cut.count(MARK_START) > cut.count(MARK_END):
        cut = cut[: cut.rindex(MARK_START)].rstrip()
    return cut + " …"

def query_words(searcher: Any, parsed: wq.Query, languages: list[str]) -> dict[str, frozenset[str]]:
    """The analysed words of the query (prefixes expanded) per language, to mark in snippets."""
    schema = searcher.schema
    field_langs = {f"{name}_{lang}": lang for lang in languages
                   for name in (*RANKED_FIELDS, *NAMED_FIELDS)}
    words: dict[str, set[str]] = {lang: set() for lang in languages}
    reader = searcher.reader()
    for leaf in parsed.leaves():  # (Query.existing_terms stops at the first leaf's field)
        for field, text in leaf.expanded_terms(reader):
            if field in field_langs:
                words[field_langs[field]].add(
                    schema[field].from_bytes(text) if isinstance(text, bytes) else text)
    return {lang: frozenset(found) for lang, found in words.items()}


def snippet(shown: dict[str, Any], words: frozenset[str], analyzer: Analyzer, audience: str | None) -> str:
    """The best short text of a hit with the matched `words` marked, or its summary when none match."""
    for name in _SNIPPET_FIELDS:
        text = str(shown.get(name) or "")[:_HIGHLIGHT_CHARS]
        if not text or not words or (name == "internal" and audience == "public"):
            continue
        spans = _matched_spans(text, words, analyzer)
        if spans:
            passages = [(0, len(text))] if name in _SHORT_FIELDS else _passages(text, spans)
            marked = " … ".join(_mark(text, spans, start, end) for start, end in passages)
            return shorten(marked, _SNIPPET_CHARS + 60)
    return shorten(shown.get("summary") or shown.get("body") or "")
