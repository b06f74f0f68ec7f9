"""Slugs for ids, file names and heading anchors: one rule everywhere; and which values may be
part of a web address at all."""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[^a-z0-9]+")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def _fold(char: str) -> str:
    """A character as it goes into a slug: Latin letters lose their accents, letters and digits
    of other scripts stay as they are (so `Пароль.md` and `文档.md` keep readable, distinct ids)."""
    ascii_part = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode("ascii")
    if ascii_part.isalnum():
        return ascii_part.lower()
    if char.isalnum() or unicodedata.category(char)[0] == "M":  # marks: vowel signs of Indic scripts
        return char.lower()
    return " "


def slugify(text: str, separator: str = "-") -> str:
    """`Wi-Fi: Can't connect!` -> `wi-fi-can-t-connect`; `Пароль` -> `пароль`; accents are dropped,
    not the letters."""
    if text.isascii():  # the common case, kept fast for long hostile headings
        return _NOT_WORD.sub(separator, text.lower()).strip(separator)
    folded = "".join(map(_fold, unicodedata.normalize("NFC", text)))
    return separator.join(folded.split())


def address_problem(value: str, *, nested: bool = False) -> str | None:
    """Why `value` cannot be one folder of a site address, or None when it can. With `nested`, a
    value may hold several folders separated by `/` (article ids)."""
    if not value.strip():
        return "it is empty"
    if any(unicodedata.category(char)[0] == "C" for char in value):
        return "it holds a control character"
    if "\\" in value:
        return "it holds a backslash"
    parts = value.split("/") if nested else [value]
    if not nested and "/" in value:
        return "it holds a '/'"
    for part in parts:
        if part in ("", ".", ".."):
            return f"'{part or '//'}' would leave or blur its folder"
    return None


def language_problem(value: str) -> str | None:
    """Why `value` is not a language code like `en`, `nl` or `pt-BR`, or None."""
    return None if _LANGUAGE.match(value) else "a language is a code like en, nl or pt-BR"


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
SAFE_SCHEMES = ("http", "https", "mailto")


def url_problem(value: str) -> str | None:
    """Why `value` may not be a link on the site (a `javascript:` or `data:` URL), or None. Browsers
    ignore tabs, newlines and leading spaces in a URL, so they are ignored here too."""
    squeezed = "".join(char for char in value if char > " " and char != "\x7f")
    scheme = _SCHEME.match(squeezed)
    if scheme and scheme.group(1).lower() not in SAFE_SCHEMES:
        return f"'{scheme.group(1)}:' links are not allowed; use http(s) or mailto"
    return None
