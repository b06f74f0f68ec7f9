"""The agent console at /agent/: server-rendered pages over the same walk and content services as the
JSON API, signed in with the agent's token (docs/console.md).

    app.mount("/agent", console_app(library, walks, users))
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from kbengine.server.console.pages import STATIC, Pages, interface_language
from kbengine.server.console.signin import PATH, ForeignForm, SignInNeeded
from kbengine.server.console.views import router
from kbengine.server.errors import ApiError
from kbengine.server.library import Library
from kbengine.server.users import Users
from kbengine.server.walks import Walks
from kbengine.site.i18n import translations

log = logging.getLogger("kbengine.server.console")


def console_app(library: Library, walks: Walks, users: Users) -> FastAPI:
    """The console as an app of its own, to mount at /agent: its errors are pages, not JSON."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.library, app.state.walks, app.state.users = library, walks, users
    app.state.pages = Pages()
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    def error_page(request: Request, status: int, message: str) -> HTMLResponse:
        lang = interface_language(request, library.kb)
        return app.state.pages.render(request, "error.html", lang, None, status=status, status_code=status,
                                      message=message)  # type: ignore[no-any-return]

    @app.exception_handler(SignInNeeded)
    async def sign_in_first(request: Request, error: SignInNeeded) -> Response:
        if request.method == "GET":
            return RedirectResponse(f"{PATH}/sign-in?next={request.url.path}", status_code=303)
        return RedirectResponse(f"{PATH}/sign-in", status_code=303)

    @app.exception_handler(ForeignForm)
    async def foreign_form(request: Request, error: ForeignForm) -> Response:
        gettext = translations(interface_language(request, library.kb)).gettext
        return error_page(request, 403, gettext("This form did not come from this console page. Reload the "
                                                "page and try again."))

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> Response:
        return error_page(request, error.status, error.message)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        gettext = translations(interface_language(request, library.kb)).gettext
        messages = {404: gettext("There is no page here."),
                    405: gettext("This page cannot be used that way.")}
        message = messages.get(error.status_code, str(error.detail))
        return error_page(request, error.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        gettext = translations(interface_language(request, library.kb)).gettext
        return error_page(request, 422, gettext("This address is not one the console knows."))

    @app.exception_handler(Exception)
    async def server_bug(request: Request, error: Exception) -> Response:
        log.exception("error while serving %s %s", request.method, request.url.path)
        gettext = translations(interface_language(request, library.kb)).gettext
        return error_page(request, 500, gettext("The console failed on this request; the error is in the "
                                                "server's log."))

    return app
