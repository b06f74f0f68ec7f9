"""POST /api/v1/feedback: "Was this helpful?" and searches without results from the help site.

The site posts a plain HTML form (it works without JavaScript); scripts may post JSON. Nobody signs
in, so each client address may post a few times a minute: the address is held in memory for that
minute and never stored. What is stored is in kbengine/report/feedback.py: nothing personal."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from html import escape
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from kbengine.report.feedback import FeedbackError, append_feedback, feedback_from
from kbengine.server import content
from kbengine.server.errors import ApiError, Unprocessable
from kbengine.server.library import Library

router = APIRouter(prefix=content.API)
PER_MINUTE = 10  # posts a client address may make in a minute (per server worker)


class TooMany(ApiError):
    status, code = 429, "too_many_requests"


class RateLimit:
    """At most `limit` posts per address in a sliding minute."""

    def __init__(self, limit: int = PER_MINUTE, window: float = 60.0) -> None:
        self.limit, self.window = limit, window
        self._recent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, address: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            for known in [a for a, times in self._recent.items() if times[-1] <= now - self.window]:
                del self._recent[known]  # forget addresses as soon as their minute is over
            times = self._recent.setdefault(address, deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            return True


async def _form(request: Request) -> dict[str, Any]:
    body = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            raise ApiError("the request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise ApiError("the request body must be a JSON object")
        return data
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


@router.post("/feedback", tags=["feedback"], status_code=201)
async def feedback(request: Request) -> Response:
    """Feedback from a reader of the help site: `kind` article (with `article`), tree (with `tree`
    and `node`) or search (with `query`); `helpful` yes or no; an optional `comment`."""
    limit: RateLimit = request.app.state.feedback_limit
    if not limit.allow(request.client.host if request.client else "unknown"):
        raise TooMany("too much feedback from here in a minute; try again later")
    form = await _form(request)
    try:
        entry = feedback_from(form)
    except FeedbackError as error:
        raise Unprocessable(str(error)) from None
    append_feedback(request.app.state.walks.store, entry)
    if request.headers.get("content-type", "").startswith("application/json"):
        return JSONResponse({"stored": entry.as_dict()}, status_code=201)
    library: Library = request.app.state.library
    back = _return_to(str(form.get("return", "")), library.kb.config.base_url)
    link = f'<p><a href="{escape(back)}">Back to the page</a></p>' if back else ""
    return HTMLResponse(f'<!doctype html><html lang="en"><meta charset="utf-8"><title>Thank you</title>'
                        f'<main><h1>Thank you</h1><p>Your feedback helps us improve this help.</p>{link}'
                        f'</main></html>', status_code=201)


def _return_to(url: str, base_url: str) -> str:
    """The page to link back to, only when it lies on the help site itself (no open redirect)."""
    site = urlsplit(base_url)
    target = urlsplit(url)
    if site.scheme in ("http", "https") and (target.scheme, target.netloc) == (site.scheme, site.netloc) \
            and target.path.startswith(site.path or "/"):
        return url
    return ""
