"""Did-you-mean: the known name closest to a misspelt one, for hints."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(wanted: str, known: Iterable[str], cutoff: float = 0.75) -> str | None:
    """The known name most like `wanted` (a typo, a swapped or missing letter), if any is close."""
    found = difflib.get_close_matches(wanted, list(known), n=1, cutoff=cutoff)
    return found[0] if found else None


def did_you_mean(wanted: str, known: Iterable[str]) -> str:
    """"did you mean 'x'?" for the closest known name, else ""."""
    match = closest(wanted, known)
    return f"did you mean '{match}'?" if match else ""
