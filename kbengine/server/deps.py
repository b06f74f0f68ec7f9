"""What a request handler needs, as FastAPI dependencies: the caller (signed in by token or
anonymous), a check of their role, and the app's KB and stores."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from kbengine.kb import KnowledgeBase
from kbengine.server.auth import ANONYMOUS, Caller
from kbengine.server.errors import Forbidden, Unauthorized
from kbengine.server.library import Library
from kbengine.server.walks import Walks


def caller(request: Request) -> Caller:
    """Anonymous without an Authorization header; 401 for a malformed, unknown or revoked token."""
    header = request.headers.get("authorization", "")
    if not header:
        return ANONYMOUS
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send the token as: Authorization: Bearer TOKEN")
    found = request.app.state.users.sign_in(token.strip())
    if found is None:
        raise Unauthorized("this token is unknown or revoked")
    request.state.user = found.name  # for the access log
    assert isinstance(found, Caller)
    return found


Who = Annotated[Caller, Depends(caller)]


def needs(grant: str) -> Callable[[Caller], Caller]:
    """A dependency: the caller when signed in with a role that has `grant`, else 401 or 403."""

    def check(who: Who) -> Caller:
        if who.anonymous:
            raise Unauthorized("sign in first: send Authorization: Bearer TOKEN (from kb users add)")
        if not who.may(grant):
            raise Forbidden(f"the role '{who.role}' may not do this")
        return who

    return check


def library(request: Request) -> Library:
    found = request.app.state.library
    assert isinstance(found, Library)
    return found


def current_kb(request: Request) -> KnowledgeBase:
    """The KB, compiled again first when its files changed."""
    return library(request).kb


def walks(request: Request) -> Walks:
    found = request.app.state.walks
    assert isinstance(found, Walks)
    return found


KB = Annotated[KnowledgeBase, Depends(current_kb)]
Agent = Annotated[Caller, Depends(needs("walks"))]
Lead = Annotated[Caller, Depends(needs("report"))]
WalksService = Annotated[Walks, Depends(walks)]
