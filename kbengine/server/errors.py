"""The errors the API answers with: each a status and a JSON body {"error": {...}}, never a traceback."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A request the server cannot serve; `status` is the HTTP status, `code` a stable word for scripts."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        return {"error": {"status": self.status, "code": self.code, "message": self.message, **self.details}}


class NotFound(ApiError):
    status, code = 404, "not_found"


class Unprocessable(ApiError):
    """Well-formed JSON that does not fit this step, e.g. an answer the question does not have."""

    status, code = 422, "unprocessable"


class Conflict(ApiError):
    """The walk is open elsewhere or has ended."""

    status, code = 409, "conflict"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class TooLarge(ApiError):
    status, code = 413, "too_large"
