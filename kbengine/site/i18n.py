"""Interface text in the reader's language: gettext catalogues in kbengine/locales, read with Babel."""

from __future__ import annotations

import gettext
from datetime import date
from functools import cache
from io import BytesIO
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = Path(__file__).resolve().parent.parent / "locales"


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalogue for `lang`, compiled in memory; English text when there is none."""
    po = LOCALES / lang / "LC_MESSAGES" / "messages.po"
    if not po.is_file():
        return gettext.NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def language_name(lang: str) -> str:
    """A language's name in that language ("Nederlands"), for the language switch."""
    try:
        name = Locale.parse(lang).get_display_name(lang) or lang
    except (ValueError, UnknownLocaleError):
        return lang
    return name[:1].upper() + name[1:]


def long_date(value: str, lang: str) -> str:
    """`2026-07-01` as "1 July 2026" / "1 juli 2026"; other text as written."""
    try:
        return format_date(date.fromisoformat(str(value)[:10]), "long", locale=lang)
    except (ValueError, UnknownLocaleError):
        return str(value)
