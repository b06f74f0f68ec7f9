"""Who is calling and what they may see: anonymous callers get the public site's content only;
tokens sign in agents, leads and admins (docs/server.md#sign-in)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

ROLES = ("agent", "lead", "admin")
# what each role may do, on top of reading public content (which needs no sign-in)
GRANTS = {
    "agent": frozenset({"internal", "walks", "sessions"}),
    "lead": frozenset({"internal", "walks", "sessions", "report", "all_sessions"}),
    "admin": frozenset({"internal", "walks", "sessions", "report", "all_sessions", "users"}),
}
TOKEN_PREFIX = "kb_"


def new_token() -> str:
    """32 random bytes, URL-safe, with a prefix that says what it is (and lets scanners spot leaks)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the users table stores: the token itself is shown once and never kept."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Caller:
    """The signed-in user behind a request, or anonymous (name and role empty)."""

    name: str = ""
    role: str = ""

    @property
    def anonymous(self) -> bool:
        return not self.role

    def may(self, grant: str) -> bool:
        return grant in GRANTS.get(self.role, frozenset())

    @property
    def audience(self) -> str | None:
        """The search audience: public content only for anonymous callers, all published for the rest."""
        return None if self.may("internal") else "public"


ANONYMOUS = Caller()
