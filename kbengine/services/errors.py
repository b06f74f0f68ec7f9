"""Typed errors the services raise; front ends turn them into messages and exit codes."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ServiceError(Exception):
    """A request the KB cannot answer; the message is for people."""


class UnknownItem(ServiceError):
    """No article or tree has this id."""

    def __init__(self, item_id: str, known: Iterable[str]) -> None:
        self.item_id = item_id
        self.suggestions = similar_ids(item_id, known)
        super().__init__(f"no article or tree has the id '{item_id}'")


def similar_ids(item_id: str, known: Iterable[str], limit: int = 5) -> list[str]:
    """Known ids that contain or resemble the one typed, best first."""
    names = sorted(known)
    close = [k for k in names if item_id.lower() in k.lower()]
    return list(dict.fromkeys(close + difflib.get_close_matches(item_id, names, n=limit)))[:limit]
