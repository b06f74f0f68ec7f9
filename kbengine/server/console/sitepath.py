"""From self-service to the desk: the path a reader took through a troubleshooter on the help site,
as the site's contact links carry it (`kb-path=TREE:2.1.1`: the tree, then the number of each answer
the reader chose, 1 for "done" at an action), continued as a walk in the console."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from kbengine.server.auth import Caller
from kbengine.server.errors import ApiError
from kbengine.server.walks import Walks

PARAMETER = "kb-path"
_REFERENCE = re.compile(r"(?P<tree>[^\s:/?#&=]+):(?P<steps>\d{1,2}(?:\.\d{1,2}){0,199})?")


class SitePathError(ValueError):
    """Text that holds no help-site path; the message says what to paste instead."""


@dataclass(frozen=True, slots=True)
class SitePath:
    tree: str
    answers: tuple[int, ...]  # 1-based, as the site and `kb walk --answer N` number them

    @property
    def reference(self) -> str:
        return f"{self.tree}:{'.'.join(map(str, self.answers))}"


def parse_site_path(text: str) -> SitePath:
    """The path in a pasted contact link (…?kb-path=TREE:2.1) or in a bare reference (TREE:2.1)."""
    text = text.strip()
    if not text:
        raise SitePathError("paste the link from the caller's message, or its reference such as "
                            "printer-not-printing:2.1")
    parts = urlsplit(text)
    found = parse_qs(parts.query).get(PARAMETER) or parse_qs(parts.fragment).get(PARAMETER)
    candidate = found[0] if found else text
    matched = _REFERENCE.fullmatch(candidate.strip())
    if matched is None:
        raise SitePathError(f"'{text[:200]}' holds no help-site path: the link in the caller's message "
                            f"ends in ?{PARAMETER}=TREE:2.1, a reference reads like printer-not-printing:2.1")
    steps = matched.group("steps")
    return SitePath(matched.group("tree"), tuple(int(n) for n in steps.split(".")) if steps else ())


def continue_site_path(walks: Walks, caller: Caller, path: SitePath,
                       ticket: str | None = None) -> tuple[str, str]:
    """Start the tree and give the reader's answers again, so the agent carries on where the reader
    stopped with their answers in the breadcrumb. Returns (the walk's id, a problem or "") — when the
    tree changed since, the answers are given as far as they still fit."""
    state = walks.start(caller, path.tree, ticket)
    walk_id = str(state["id"])
    problem = ""
    for number, answer in enumerate(path.answers, start=1):
        try:
            walks.answer(caller, walk_id, answer)
        except ApiError as error:
            problem = f"step {number} of the reader's path no longer fits: {error.message}"
            break
    walks.note(caller, walk_id, f"Continued from the help site ({PARAMETER}={path.reference})"
               + (f"; {problem}" if problem else ""))
    return walk_id, problem
