"""The people and integrations that may sign in: one row per token, in the same database as the
session records. Only a token's sha256 is stored; the token is shown once, when it is made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from kbengine.server.auth import ROLES, Caller, new_token, token_hash
from kbengine.walk.database import METADATA

# in the session database's schema; created by the migration 0002_users
users = sa.Table(
    "kb_users", METADATA,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("created", sa.String(40), nullable=False),
    sa.Column("revoked", sa.String(40), nullable=True),
)


# built once: every request signs in, and building the statement cost more CPU than running it
_SIGN_IN = sa.select(users.c.name, users.c.role).where(users.c.token_sha256 == sa.bindparam("token"),
                                                       users.c.revoked.is_(None))


class UserError(Exception):
    """A user that cannot be added, found or revoked; the message says why."""


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str
    created: str
    revoked: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "created": self.created, "revoked": self.revoked}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Users:
    """Adding, listing, revoking and signing in users over one SQLAlchemy engine."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine  # opened by walk.database.open_engine, which brings the schema up to date

    def add(self, name: str, role: str = "agent") -> str:
        """Add a user (or give a revoked one a new token); returns the token, which is not kept."""
        name = name.strip()
        if not name or len(name) > 100:
            raise UserError("a user needs a name of 1 to 100 characters")
        if role not in ROLES:
            raise UserError(f"'{role}' is not a role; the roles are: {', '.join(ROLES)}")
        token = new_token()
        row = {"name": name, "role": role, "token_sha256": token_hash(token), "created": _now(),
               "revoked": None}
        with self.engine.begin() as connection:
            existing = connection.execute(sa.select(users.c.revoked).where(users.c.name == name)).first()
            if existing is not None and existing.revoked is None:
                raise UserError(f"there is already a user '{name}'; revoke it first to give a new token")
            if existing is not None:
                connection.execute(users.update().where(users.c.name == name).values(**row))
            else:
                connection.execute(users.insert().values(**row))
        return token

    def list(self) -> list[User]:
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(users).order_by(users.c.name)).all()
        return [User(row.name, row.role, row.created, row.revoked) for row in rows]

    def revoke(self, name: str) -> User:
        with self.engine.begin() as connection:
            done = connection.execute(users.update().where(users.c.name == name, users.c.revoked.is_(None))
                                      .values(revoked=_now()))
        if done.rowcount == 0:
            raise UserError(f"there is no signed-in user '{name}' (see kb users list)")
        return next(user for user in self.list() if user.name == name)

    def sign_in(self, token: str) -> Caller | None:
        """The caller this token belongs to, or None for an unknown or revoked token."""
        with self.engine.connect() as connection:
            row = connection.execute(_SIGN_IN, {"token": token_hash(token)}).first()
        return Caller(row.name, row.role) if row is not None else None
