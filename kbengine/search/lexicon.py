"""The synonym groups kbengine brings for a language (synonyms/<lang>.txt): words callers and
help texts use for the same thing in office and IT work ("grafiek" and "diagram", "sign in" and
"log on"). They are used beside the writers' own groups in kb.yaml, unless turned off there."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

_LANGUAGE = re.compile(r"[a-z]{2,3}")
# Next to this module (package data); read as a plain file: importlib.resources costs a search 18 ms.
_LISTS = Path(__file__).resolve().parent / "synonyms"


@cache
def builtin_synonyms(lang: str) -> tuple[tuple[str, ...], ...]:
    """The built-in groups of `lang` (nl_BE reads nl's), each of at least two phrases; none for
    a language without a list."""
    base = lang.split("_")[0].lower()
    if not _LANGUAGE.fullmatch(base):
        return ()
    try:
        text = (_LISTS / f"{base}.txt").read_text(encoding="utf-8")
    except OSError:
        return ()
    groups = []
    for line in text.splitlines():
        if line.strip().startswith("#"):
            continue
        phrases = tuple(phrase.strip() for phrase in line.split(",") if phrase.strip())
        if len(phrases) > 1:
            groups.append(phrases)
    return tuple(groups)


def uses_builtin_synonyms(settings: object) -> bool:
    """kb.yaml's `search:` settings leave the built-in groups on unless `builtin_synonyms: false`."""
    return not (isinstance(settings, dict) and settings.get("builtin_synonyms") is False)


def settings_synonyms(settings: object) -> list[list[str]]:
    """The writers' groups of kb.yaml's `search:` settings (`synonyms: [[pst, outlook data file]]`);
    groups that are not lists of at least two words are left out."""
    groups = settings.get("synonyms") if isinstance(settings, dict) else None
    if not isinstance(groups, list):
        return []
    return [[phrase for phrase in group if isinstance(phrase, str) and phrase.strip()]
            for group in groups if isinstance(group, list) and len(group) > 1]


def builtin_groups(languages: list[str], used: bool = True) -> list[list[str]]:
    """The built-in groups of `languages`, as lists; none when kb.yaml turned them off."""
    return [list(group) for lang in languages for group in builtin_synonyms(lang)] if used else []


def synonyms_for(settings: object, lang: str) -> list[list[str]]:
    """The groups a search in `lang` uses besides the mined abbreviations: the writers' first,
    then the built-in ones unless kb.yaml turns them off."""
    return [*settings_synonyms(settings), *builtin_groups([lang], uses_builtin_synonyms(settings))]
