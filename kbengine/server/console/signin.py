"""Signing in to the agent console: the token from `kb users add` kept in an HttpOnly, SameSite=Strict
cookie, and a form key derived from it that every form posts back (so no other site can post for the
agent). Nothing is kept on the server: any worker can check any request."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from kbengine.server.auth import Caller
from kbengine.server.users import Users

COOKIE = "kb_console"
LANG_COOKIE = "kb_console_lang"
PATH = "/agent"


class SignInNeeded(Exception):
    """No agent is signed in (or the token was revoked): the console shows its sign-in page."""


class ForeignForm(Exception):
    """A form that did not come from the console page itself (another site, an old tab)."""


@dataclass(frozen=True, slots=True)
class Agent:
    """The signed-in caller of a console request, with the key their forms carry."""

    caller: Caller
    form_key: str

    @property
    def name(self) -> str:
        return self.caller.name


def form_key(token: str) -> str:
    """The hidden value every console form posts; only a page that could read the cookie knows it."""
    return hmac.new(token.encode("utf-8"), b"kb-console-form", hashlib.sha256).hexdigest()


def signed_in(request: Request, users: Users) -> Agent | None:
    """The agent behind the cookie, when its token is known, not revoked and allowed to walk trees."""
    token = request.cookies.get(COOKIE, "")
    if not token:
        return None
    caller = users.sign_in(token)
    if caller is None or not caller.may("walks"):
        return None
    return Agent(caller, form_key(token))


def check_form(request: Request, agent: Agent | None, posted: dict[str, str]) -> None:
    """A form from this console: not sent from another site (as the browser tells), and carrying the
    agent's form key. The Host header is not compared: a reverse proxy may pass its own."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise ForeignForm("a form from another site")
    if agent is not None and not hmac.compare_digest(posted.get("form_key", ""), agent.form_key):
        raise ForeignForm("a form without this session's key")


def keep_token(response: Response, request: Request, token: str) -> None:
    """The cookie that signs the agent in: never readable by scripts, never sent by other sites."""
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path=PATH,
                        secure=request.url.scheme == "https", max_age=12 * 3600)


def forget_token(response: Response) -> None:
    response.delete_cookie(COOKIE, path=PATH, httponly=True, samesite="strict")
