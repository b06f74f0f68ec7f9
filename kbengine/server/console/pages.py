"""Rendering the console's pages: Jinja2 templates beside this module, interface text from the gettext
catalogues the help site uses, one environment per language."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from kbengine.compiler import KnowledgeBase
from kbengine.server.console.signin import LANG_COOKIE, PATH, Agent
from kbengine.site.i18n import language_name, translations

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
# the pages are the agent's own: never cached by a shared proxy, never framed by another site
HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
           "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                                      "form-action 'self'; base-uri 'none'"}


def interface_language(request: Request, kb: KnowledgeBase) -> str:
    """The console's language: the agent's choice, else their browser's, else the KB's default."""
    languages = kb.config.languages or [kb.config.default_language]
    chosen = request.cookies.get(LANG_COOKIE, "")
    if chosen in languages:
        return chosen
    for part in request.headers.get("accept-language", "").split(","):
        wanted = part.split(";")[0].strip().lower().split("-")[0]
        if wanted in languages:
            return wanted
    return kb.config.default_language


@cache
def _environment(lang: str) -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    return env


class Pages:
    """Renders a template for one request, with what every page shows (the KB, the agent, languages)."""

    def render(self, request: Request, template: str, lang: str, agent: Agent | None, *, status: int = 200,
               **context: Any) -> HTMLResponse:
        kb: KnowledgeBase = request.app.state.library.kb
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        page = _environment(lang).get_template(template).render(
            lang=lang, agent=agent, base=PATH, static=f"{PATH}/static", here=here,
            kb_title=kb.config.title_in(lang),
            languages=[{"lang": other, "name": language_name(other)}
                       for other in kb.config.languages if other != lang],
            **context)
        return HTMLResponse(page, status_code=status, headers=HEADERS)
