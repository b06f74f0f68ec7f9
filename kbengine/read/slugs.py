"""Slugs for ids, file names and heading anchors: one rule everywhere."""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[^a-z0-9]+")


def slugify(text: str, separator: str = "-") -> str:
    """`Wi-Fi: Can't connect!` -> `wi-fi-can-t-connect`; accents are dropped, not the letters."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NOT_WORD.sub(separator, ascii_text.lower()).strip(separator)
