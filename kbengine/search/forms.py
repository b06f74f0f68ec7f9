"""Other forms of a query word that the language's stemmer does not bring together.

Dutch Snowball stems "cel" to cel but "cellen" to cell, "formule" to formul but "formules" to
formules, and leaves diminutives ("pijltjes") and verb persons ("plakt", "geplakte") alone. The
forms here are guesses by regular spelling rules; the search keeps only those the KB itself uses.
"""

from __future__ import annotations

from collections.abc import Callable

_VOWELS = frozenset("aeiouy")
_MIN_STEM = 3  # a form shorter than this says too little to be looked for


def _doubled(word: str) -> bool:
    return len(word) > 2 and word[-1] == word[-2] and word[-1] not in _VOWELS


def _short_vowel_before(word: str) -> bool:
    """cel, kolom, plak: one vowel then one consonant at the end (the consonant doubles before -en)."""
    return (len(word) > 2 and word[-1] not in _VOWELS and word[-2] in _VOWELS
            and word[-3] not in _VOWELS)


def _long_vowel_before(word: str) -> bool:
    """selecteer, maak: a doubled vowel then one consonant (the vowel goes single before -en)."""
    return len(word) > 3 and word[-1] not in _VOWELS and word[-2] == word[-3] and word[-2] in _VOWELS


def _with_en(core: str) -> str:
    """The form with -en: plak -> plakken, selecteer -> selecteren, map -> mappen."""
    if _long_vowel_before(core):
        return core[:-2] + core[-1] + "en"
    if _short_vowel_before(core) and core[-1] not in "wxj":
        return core + core[-1] + "en"
    return core + "en"


def _without_en(word: str) -> set[str]:
    """cellen -> cel, plakken -> plak, selecteren -> selecteer, bladen -> blad (or blaad)."""
    if not word.endswith("en") or len(word) - 2 < _MIN_STEM:
        return set()
    core = word[:-2]
    if _doubled(core):
        return {core[:-1]}
    if _short_vowel_before(core):  # an open syllable: selecter-en -> selecteer, or blad-en -> blad
        return {core, core[:-2] + core[-2] * 2 + core[-1]}
    return {core}


def _without_diminutive(word: str) -> str | None:
    """pijltjes -> pijl, stapje -> stap, driehoekje -> driehoek, balletje -> bal."""
    stem = word[:-1] if word.endswith("s") else word
    if not stem.endswith("je") or len(stem) - 2 < _MIN_STEM:
        return None
    core = stem[:-2]
    if core.endswith("et") and _doubled(core[:-2]):  # balletje -> bal
        return core[:-3]
    if core.endswith("p") and core[-2:-1] == "m":  # boompje -> boom
        return core[:-1]
    if core.endswith("t") and core[-2:-1] in ("l", "n", "r", "w", *_VOWELS):  # pijltje -> pijl
        return core[:-1]
    return core  # stapje -> stap, driehoekje -> driehoek


def dutch_forms(word: str) -> set[str]:
    """Forms of a Dutch word a caller or a writer may use instead (number, diminutive, verb person),
    lower case; some are not words at all, which the KB's vocabulary filters out."""
    forms: set[str] = set()
    if len(word) < _MIN_STEM:
        return forms
    cores = {word}
    small = _without_diminutive(word)
    if small:
        cores.add(small)
    if word.endswith("s") and len(word) > _MIN_STEM + 1:
        cores.add(word[:-1])  # formules -> formule, dias -> dia
    if word.endswith("t") and len(word) > _MIN_STEM + 1:
        cores.add(word[:-1])  # selecteert -> selecteer, plakt -> plak
    if word.startswith("ge") and len(word) > _MIN_STEM + 3:  # geplakte -> plak, geselecteerd -> selecteer
        for ending in ("de", "te", "d", "t"):
            if word.endswith(ending):
                cores.add(word[2: -len(ending)])
                break
    cores.update(_without_en(word))
    for core in cores:
        forms.update((core, core + "s", _with_en(core)))
        if core.endswith("e"):
            forms.add(core + "n")
    forms.discard(word)
    return {form for form in forms if len(form) >= _MIN_STEM}


# Languages whose query words are looked for in other forms too (English stemmers need no help).
FORMS: dict[str, Callable[[str], set[str]]] = {"nl": dutch_forms}
