"""The expected form of an input in words ("two letters and five digits, like AB12345"): the tree
author's `hint:`, else derived from a simple pattern. Patterns beyond the simple ones get no words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from gettext import NullTranslations

from kbengine.model import CollectField

# one piece of a simple pattern: a character class or literal text, with its repeat count
_PIECE = re.compile(r"""
    (?: (?P<cls>\[[^\]\\]*\] | \\d)            # [A-Z], [0-9A-Z], \d
      | (?P<lit>\\[^\w\s] | [A-Za-z0-9 _:/#-])  # a literal character (escaped punctuation too)
    )
    (?P<count>\{\d+(?:,\d*)?\} | [+?])?
""", re.VERBOSE)
_DIGITS, _UPPER, _LOWER = "0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"
_CLASSES = {  # the characters a class allows -> (kind, characters for the example)
    frozenset(_DIGITS): ("digit", "1234567890"),
    frozenset(_UPPER): ("letter", _UPPER),
    frozenset(_LOWER): ("lowercase", _LOWER),
    frozenset(_UPPER + _LOWER): ("letter", _UPPER),
    frozenset(_UPPER + _DIGITS): ("alnum", "A1B2C3D4E5F6G7H8J9K0"),
    frozenset(_UPPER + _LOWER + _DIGITS): ("alnum", "A1B2C3D4E5F6G7H8J9K0"),
}


@dataclass(frozen=True, slots=True)
class _Piece:
    kind: str  # digit | letter | lowercase | alnum | text
    low: int
    high: int | None  # None: no upper bound
    sample: str  # characters for the example (the literal text itself for kind "text")


def expected_form(item: CollectField, translations: NullTranslations | None = None) -> str | None:
    """The form an input must have, in words: the author's hint, else words for a simple pattern,
    else None (the raw pattern is for --verbose and for writers, not for callers)."""
    if item.hint:
        return item.hint
    if not item.pattern:
        return None
    return describe_pattern(item.pattern, translations or NullTranslations())


def describe_pattern(pattern: str, translations: NullTranslations) -> str | None:
    """`^[A-Z]{2}\\d{5}$` -> "two letters and five digits, like AB12345"; None unless the pattern is
    a plain sequence of letters, digits and literal text, and the example really matches it."""
    pieces = _pieces(pattern)
    if not pieces:
        return None
    _ = translations.gettext
    example = "".join(_example(piece) for piece in pieces)
    if re.fullmatch(pattern, example) is None:
        return None
    words = [_words(piece, translations) for piece in pieces]
    listed = words[0] if len(words) == 1 else _(", ").join(words[:-1]) + _(" and ") + words[-1]
    return _("{form}, like {example}").format(form=listed, example=example)


def _pieces(pattern: str) -> list[_Piece]:
    body = pattern.removeprefix("^").removesuffix("$")
    pieces: list[_Piece] = []
    position = 0
    while position < len(body):
        found = _PIECE.match(body, position)
        if found is None:
            return []
        position = found.end()
        low, high = _repeat(found.group("count"))
        if found.group("cls"):
            allowed = _class_characters(found.group("cls"))
            if allowed not in _CLASSES:
                return []
            kind, sample = _CLASSES[allowed]
            pieces.append(_Piece(kind, low, high, sample))
            continue
        literal = found.group("lit")[-1]
        if (low, high) != (1, 1):
            return []
        if pieces and pieces[-1].kind == "text":  # literal characters in a row read as one word
            pieces[-1] = _Piece("text", 1, 1, pieces[-1].sample + literal)
        else:
            pieces.append(_Piece("text", 1, 1, literal))
    # two counted pieces of the same kind in a row ("\d\d") read as one
    merged: list[_Piece] = []
    for piece in pieces:
        last = merged[-1] if merged else None
        if last and last.kind == piece.kind != "text" and last.high is not None and piece.high is not None:
            merged[-1] = _Piece(last.kind, last.low + piece.low, last.high + piece.high, last.sample)
        else:
            merged.append(piece)
    return merged


def _repeat(count: str | None) -> tuple[int, int | None]:
    if not count:
        return 1, 1
    if count == "+":
        return 1, None
    if count == "?":
        return 0, 1
    low, comma, high = count.strip("{}").partition(",")
    if not comma:
        return int(low), int(low)
    return int(low), int(high) if high else None


def _class_characters(text: str) -> frozenset[str]:
    if text == "\\d":
        return frozenset(_DIGITS)
    inner = text[1:-1]
    if inner.startswith("^"):
        return frozenset()  # a negated class is not a simple form
    allowed: set[str] = set()
    for start, end in re.findall(r"(.)-(.)", inner):
        allowed |= {chr(code) for code in range(ord(start), ord(end) + 1)}
    rest = re.sub(r".-.", "", inner)
    allowed |= set(rest.replace("\\d", _DIGITS))
    return frozenset(allowed)


def _example(piece: _Piece) -> str:
    if piece.kind == "text":
        return piece.sample
    size = max(piece.high if piece.high is not None else max(piece.low, 3), 1)
    return (piece.sample * (size // len(piece.sample) + 1))[:size]


def _words(piece: _Piece, translations: NullTranslations) -> str:
    _ = translations.gettext
    if piece.kind == "text":
        return f"“{piece.sample}”"
    ngettext = translations.ngettext
    count = piece.high if piece.high is not None else piece.low + 2  # "one or more" reads plural
    named = {
        "digit": ngettext("{count} digit", "{count} digits", count),
        "letter": ngettext("{count} letter", "{count} letters", count),
        "lowercase": ngettext("{count} lower-case letter", "{count} lower-case letters", count),
        "alnum": ngettext("{count} letter or digit", "{count} letters or digits", count),
    }[piece.kind]
    if piece.high is None:
        return named.format(count=_("{low} or more").format(low=_number(piece.low, translations)))
    if piece.low == 0 and piece.high == 1:
        return _("optionally {what}").format(what=named.format(count=_number(1, translations)))
    if piece.low != piece.high:
        return named.format(count=_("{low} to {high}").format(low=_number(piece.low, translations),
                                                             high=_number(piece.high, translations)))
    return named.format(count=_number(count, translations))


def _number(value: int, translations: NullTranslations) -> str:
    """Small numbers as words, the way people say a form out loud; larger ones as digits."""
    _ = translations.gettext
    words = [_("zero"), _("one"), _("two"), _("three"), _("four"), _("five"), _("six"), _("seven"),
             _("eight"), _("nine"), _("ten"), _("eleven"), _("twelve")]
    return words[value] if 0 <= value < len(words) else str(value)
