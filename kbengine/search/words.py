"""Words that are really several: error codes and ids (0x80070005, AADSTS50076, 5.1.10) and
compound words of languages that write them as one ("schijfruimte" is schijf + ruimte)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from whoosh.analysis import Filter

# Languages that glue nouns together; their compounds are split against the KB's own words.
COMPOUNDING = frozenset({"nl", "de", "sv", "da", "no", "nb", "nn", "fi", "is", "af"})
_MIN_PART = 3
_MIN_COMPOUND = 2 * _MIN_PART + 1
_LINKS = ("s", "e", "en")  # Dutch/German linking sounds: "werkgever" + s + "verklaring"
_CODE = re.compile(r"(?=.*\d)[a-z0-9]+(?:\.[a-z0-9]+)*", re.IGNORECASE)
_CODE_PART = re.compile(r"[a-z]+|\d+", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+")


def code_parts(text: str) -> list[str]:
    """The pieces of an error code or id that a caller may type apart: KB5034441 -> kb, 5034441;
    5.1.10 -> 5, 1, 10; nothing for a plain word or number."""
    if not _CODE.fullmatch(text) or text.isdigit():
        return []
    pieces = [piece for chunk in text.split(".") for piece in _CODE_PART.findall(chunk)]
    return pieces if len(pieces) > 1 else []


class CodePartsFilter(Filter):
    """Indexes an error code or id whole and also in its pieces (queries keep the code whole)."""

    def __call__(self, tokens: Iterable[Any]) -> Iterator[Any]:
        for token in tokens:
            yield token
            if token.mode == "index":
                whole = token.text
                for piece in code_parts(whole):
                    token.text = piece
                    yield token
                token.text = whole


def compound_parts(word: str, known: Callable[[str], bool]) -> tuple[str, str] | None:
    """The two known words `word` is glued from, longest first part first, or None."""
    if len(word) < _MIN_COMPOUND:
        return None
    for cut in range(len(word) - _MIN_PART, _MIN_PART - 1, -1):
        head, tail = word[:cut], word[cut:]
        if not known(tail):
            continue
        if known(head):
            return head, tail
        for link in _LINKS:
            if head.endswith(link) and len(head) - len(link) >= _MIN_PART and known(head[: -len(link)]):
                return head[: -len(link)], tail
    return None


def compound_words(text: str, known: Callable[[str], bool], *, unknown_only: bool = False) -> list[str]:
    """The parts of every compound word in `text` (of those `known` does not know, with
    `unknown_only`): for indexing beside the text, or for finding what a query means."""
    parts: list[str] = []
    seen: set[str] = set()
    for match in _WORD.finditer(text):
        word = match.group().lower()
        if word in seen:
            continue
        seen.add(word)
        if unknown_only and known(word):
            continue
        found = compound_parts(word, known)
        if found:
            parts.extend(found)
    return parts


def vocabulary(texts: Iterable[str]) -> set[str]:
    """Every word of `texts`, lower case: what compound parts are checked against."""
    words: set[str] = set()
    for text in texts:
        words.update(word.lower() for word in _WORD.findall(text))
    return words


_SMALL = frozenset({"of", "the", "and", "for", "on", "a", "an", "in", "to", "van", "de", "het", "en", "voor"})
_DEFINED = re.compile(r"((?:[\w'’-]+\s+){1,7}?[\w'’-]+)\s+\((\.?[A-Za-z][A-Za-z0-9]{1,7})\)")
# Where a definition can end, and (read backwards from its bracket) how far back it can start:
# _DEFINED tried from every character of a long text is slow, so it is tried near its brackets.
_BRACKET = re.compile(r"\s\(\.?[A-Za-z][A-Za-z0-9]{1,7}\)")
_WORDS_BACK = re.compile(r"\s+(?:[\w'’-]+(?:\s+[\w'’-]+){0,7})?\s*")
_LOOK_BACK = 800  # characters read backwards at first


def _definitions(text: str) -> Iterator[re.Match[str]]:
    """What `_DEFINED.finditer(text)` finds, reading only the words before each bracket."""
    done = 0
    for bracket in _BRACKET.finditer(text):
        opening = bracket.start() + 1
        if opening <= done:
            continue
        start = max(done, opening - _LOOK_BACK)
        back = _WORDS_BACK.match(text[start:opening][::-1])
        if back is not None and back.end() == opening - start and start > done:
            back = _WORDS_BACK.match(text[done:opening][::-1])  # longer words than read at first
        if back is None:
            continue
        found = _DEFINED.search(text, opening - back.end(), bracket.end())
        if found is not None:
            done = found.end()
            yield found


def abbreviations(text: str) -> set[tuple[str, str]]:
    """(abbreviation, what it stands for) as a text defines them: "Outlook Web App (OWA)",
    "non-delivery report (NDR)", "Personal Folders file (.pst)"."""
    found: set[tuple[str, str]] = set()
    for match in _definitions(text):
        words, short = re.split(r"[\s-]+", match.group(1).strip()), match.group(2)
        if short.startswith("."):  # a file type: "Personal Folders file (.pst)"
            named: list[str] = []
            if words[-1].lower() in ("file", "files", "bestand", "bestanden"):
                for word in reversed(words[:-1][-2:]):
                    if not word[:1].isupper():
                        break
                    named.insert(0, word)
            if named:
                found.add((short[1:].lower(), " ".join([*named, words[-1]]).lower()))
            continue
        letters = [letter.lower() for letter in short if letter.isupper()]
        if len(letters) < 2 or len(letters) != sum(letter.isalpha() for letter in short):
            continue  # only all-capital abbreviations: "OWA", not "Teams"
        taken: list[str] = []
        wanted = list(reversed(letters))
        for word in reversed(words):
            if not wanted:
                break
            if word.lower() in _SMALL and taken:
                taken.append(word)
                continue
            if word[:1].lower() != wanted[0]:
                break
            taken.append(word)
            wanted.pop(0)
        if not wanted and taken:
            found.add((short.lower(), " ".join(reversed(taken)).lower()))
    return found
