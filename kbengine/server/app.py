"""The ASGI app of `kb server`: the JSON API under /api/v1 (with OpenAPI), MCP at /mcp, /health.

    from kbengine.server.app import create_app
    app = create_app(Path("my-kb"), "sqlite:///desk.db")

FastAPI gives the OpenAPI description, the docs page and request validation from the same type hints
the handlers are written with; every error leaves as JSON {"error": {...}} (errors.py).
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from mcp.server.transport_security import TransportSecuritySettings
from starlette.exceptions import HTTPException

from kbengine import __version__
from kbengine.server import api, content, dashboard, feedback
from kbengine.server.errors import ApiError
from kbengine.server.library import Library
from kbengine.server.mcp import build_mcp
from kbengine.server.middleware import AccessLog, BodyLimit
from kbengine.server.users import Users
from kbengine.server.walks import Walks
from kbengine.walk.sqlstore import SqlStore
from kbengine.walk.store import SessionError, folder_of, is_folder, open_store, redact, store_url

API = content.API
MAX_BODY = 256 * 1024
log = logging.getLogger("kbengine.server")


def error_response(error: ApiError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    return JSONResponse(error.body(), status_code=error.status, headers=headers)


def _status_error(status: int, message: str) -> ApiError:
    error = ApiError(message)
    error.status, error.code = status, {404: "not_found", 405: "method_not_allowed"}.get(status, "http_error")
    return error


def install_error_handlers(app: FastAPI) -> None:
    """Every error as JSON with the right status; a bug in the server is a JSON 500 and a log line."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> JSONResponse:
        return error_response(error)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [{"where": ".".join(str(part) for part in item.get("loc", ())),
                     "problem": item.get("msg", "")} for item in error.errors()]
        if any(item.get("type") == "json_invalid" for item in error.errors()):
            failure = ApiError("the request body is not valid JSON", problems=problems)
        else:
            failure = ApiError("the request does not have the expected fields", problems=problems)
            failure.status, failure.code = 422, "invalid_request"
        return error_response(failure)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        message = {404: f"there is nothing at {request.url.path}",
                   405: f"{request.method} is not allowed on {request.url.path}"}.get(
            error.status_code, str(error.detail))
        return error_response(_status_error(error.status_code, message))

    @app.exception_handler(Exception)
    async def server_bug(request: Request, error: Exception) -> JSONResponse:
        log.exception("error while serving %s %s", request.method, request.url.path)
        failure = ApiError("the server failed on this request; the error is in its log")
        failure.status, failure.code = 500, "internal"
        return error_response(failure)


def create_app(root: Path, database_url: str | None = None, *, max_body: int = MAX_BODY,
               cors_origins: Sequence[str] = (), mcp_hosts: Sequence[str] = (),
               reload_interval: float = 2.0) -> FastAPI:
    """The server for the KB at `root`, with users and session records in the database at
    `database_url` (default: as `kb walk` chooses, else SQLite in the KB's data folder).

    mcp_hosts: Host headers /mcp accepts (DNS-rebinding protection), e.g. "127.0.0.1:*"; none = any."""
    library = Library(root, interval=reload_interval)
    store = server_store(library.root, database_url)
    users = Users(store.engine)
    walks = Walks(library, store)
    mcp = build_mcp(library, walks, users=users)
    security = TransportSecuritySettings(enable_dns_rebinding_protection=bool(mcp_hosts),
                                         allowed_hosts=list(mcp_hosts))
    mcp_app = mcp.streamable_http_app(streamable_http_path="/mcp", stateless_http=True, json_response=True,
                                      transport_security=security, max_request_body_size=max_body)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with mcp.session_manager.run():
            yield
        store.close()

    app = FastAPI(title="kbengine", version=__version__, lifespan=lifespan,
                  description="The knowledge base, its troubleshooting trees, walks and records of a service "
                              "desk. Without a token only public content is served; send "
                              "`Authorization: Bearer TOKEN` (from `kb users add`) for the rest.",
                  openapi_url=f"{API}/openapi.json", docs_url=f"{API}/docs", redoc_url=None)
    app.state.library = library
    app.state.users = users
    app.state.walks = walks
    app.state.store = store
    app.state.feedback_limit = feedback.RateLimit()
    install_error_handlers(app)

    @app.get("/health", tags=["operations"])
    def health() -> dict[str, Any]:
        """Up, with the KB's size and how often it was compiled again since the start."""
        kb = library.kb
        users.list()  # the database answers
        return {"status": "ok", "version": __version__, "articles": len(kb.articles), "trees": len(kb.trees),
                "reloads": library.reloads}

    app.include_router(api.router)
    app.include_router(feedback.router)
    app.include_router(dashboard.router)
    app.router.routes.extend(mcp_app.routes)  # /mcp, served by the MCP SDK
    app.add_middleware(BodyLimit, limit=max_body)
    if cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(AccessLog)
    return app


def server_store(root: Path, database_url: str | None = None) -> SqlStore:
    """The database the server keeps users and session records in; SessionError when the URL names
    no database kb can use (a folder, an unknown scheme, a driver that is not installed)."""
    url = server_database_url(root, database_url)
    try:
        store = open_store(url)
    except ImportError as error:
        raise SessionError(f"cannot open {redact(url)}: {error}") from None
    if not isinstance(store, SqlStore):
        store.close()
        raise SessionError("kb server keeps users and records in a database: give --database "
                           "sqlite:///PATH or postgresql://USER@HOST/DB")
    return store


def server_database_url(root: Path, database_url: str | None = None) -> str:
    """--database, KB_DATABASE_URL or kb.yaml's `sessions:` when it names a database; else SQLite
    beside the terminal's sessions folder (the server's embedded default)."""
    url = store_url(root, None, database_url)
    if not is_folder(url):
        return url
    if database_url or os.environ.get("KB_DATABASE_URL"):
        raise SessionError(f"'{url}' is a folder; kb server needs a database: sqlite:///PATH or "
                           "postgresql://USER@HOST/DB")
    folder = folder_of(url)
    folder.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return f"sqlite:///{folder.parent / (folder.name + '.db')}"


def app_from_environment() -> FastAPI:
    """The app `kb server --workers N` starts in each worker, configured through KB_SERVER_* variables."""
    origins = [o for o in os.environ.get("KB_SERVER_CORS", "").split(",") if o]
    hosts = [h for h in os.environ.get("KB_SERVER_MCP_HOSTS", "").split(",") if h]
    return create_app(Path(os.environ["KB_SERVER_ROOT"]), os.environ.get("KB_DATABASE_URL") or None,
                      max_body=int(os.environ.get("KB_SERVER_MAX_BODY", MAX_BODY)), cors_origins=origins,
                      mcp_hosts=hosts)
