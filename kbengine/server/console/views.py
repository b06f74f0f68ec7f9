"""The agent console's pages: sign-in, the call screen (search, start, continue, recent calls) and
the walk screen. Every form posts and redirects, so the console works with JavaScript off; the
script only adds search as you type, keys, live checks of inputs and copying."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kbengine.compiler import KnowledgeBase
from kbengine.model import CollectField
from kbengine.search import QueryError, search
from kbengine.server import content
from kbengine.server.console.pages import Pages, interface_language
from kbengine.server.console.signin import (
    LANG_COOKIE,
    PATH,
    Agent,
    SignInNeeded,
    check_form,
    forget_token,
    keep_token,
    signed_in,
)
from kbengine.server.console.sitepath import SitePathError, continue_site_path, parse_site_path
from kbengine.server.errors import ApiError, Conflict, NotFound, Unprocessable
from kbengine.server.library import Library
from kbengine.server.users import Users
from kbengine.server.walks import Walks
from kbengine.site.i18n import translations
from kbengine.walk.engine import match_input
from kbengine.walk.forms import expected_form
from kbengine.walk.handover import handover_markdown, handover_text, outcome_words

router = APIRouter()
RECENT = 12  # calls listed under "my recent calls"
RESULTS = 12


# --- what every view needs ----------------------------------------------------------------

def _library(request: Request) -> Library:
    return request.app.state.library  # type: ignore[no-any-return]


def _walks(request: Request) -> Walks:
    return request.app.state.walks  # type: ignore[no-any-return]


def _users(request: Request) -> Users:
    return request.app.state.users  # type: ignore[no-any-return]


def _pages(request: Request) -> Pages:
    return request.app.state.pages  # type: ignore[no-any-return]


def _agent(request: Request) -> Agent:
    agent = signed_in(request, _users(request))
    if agent is None:
        raise SignInNeeded
    request.state.user = agent.name  # for the access log
    return agent


async def _posted(request: Request) -> dict[str, str]:
    """The fields of a posted form (application/x-www-form-urlencoded; the console posts nothing else)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    try:
        return dict(parse_qsl(body, keep_blank_values=True, max_num_fields=50))
    except ValueError:
        raise Unprocessable("this form has more fields than any console form") from None


Signed = Annotated[Agent, Depends(_agent)]
Posted = Annotated[dict[str, str], Depends(_posted)]


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _local(url: str) -> str:
    """A redirect target inside the console only (never another site)."""
    return url if url.startswith(PATH + "/") and not url.startswith("//") else PATH + "/"


# --- signing in ---------------------------------------------------------------------------

@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, next: str = PATH + "/") -> Response:
    lang = interface_language(request, _library(request).kb)
    return _pages(request).render(request, "sign_in.html", lang, None, next=_local(next))


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in(request: Request, posted: Posted) -> Response:
    check_form(request, None, posted)
    token = posted.get("token", "").strip()
    caller = _users(request).sign_in(token) if token else None
    lang = interface_language(request, _library(request).kb)
    if caller is None or not caller.may("walks"):
        problem = translations(lang).gettext("This token is unknown or revoked. Ask an administrator for "
                                             "a new one (kb users add NAME).")
        return _pages(request).render(request, "sign_in.html", lang, None, status=401, problem=problem,
                                      next=_local(posted.get("next", "")))
    response = _see_other(_local(posted.get("next", "")))
    keep_token(response, request, token)
    return response


@router.post("/sign-out")
def sign_out(request: Request, agent: Signed, posted: Posted) -> Response:
    check_form(request, agent, posted)
    response = _see_other(f"{PATH}/sign-in")
    forget_token(response)
    return response


@router.get("/language/{lang}")
def choose_language(request: Request, lang: str, next: str = PATH + "/") -> Response:
    """The interface language of the console's own pages (a walk speaks its tree's language)."""
    response = _see_other(_local(next))
    if lang in _library(request).kb.config.languages:
        response.set_cookie(LANG_COOKIE, lang, samesite="strict", path=PATH, max_age=365 * 24 * 3600)
    return response


# --- the call screen ----------------------------------------------------------------------

@router.get("/", response_class=HTMLResponse)
def home(request: Request, agent: Signed, q: str = "", partial: str = "") -> Response:
    kb = _library(request).kb
    lang = interface_language(request, kb)
    results = _search(request, agent, q, lang)
    if partial:
        return _pages(request).render(request, "_results.html", lang, agent, results=results, q=q,
                                      walk_id="")
    return _pages(request).render(request, "home.html", lang, agent, q=q, results=results,
                                  recent=_recent(request, agent))


def _search(request: Request, agent: Agent, query: str, lang: str) -> dict[str, Any] | None:
    """Trees and articles for the words typed, public and internal, the screen's language first;
    what solved the server's walks for similar words before a little higher, as in the API."""
    if not query.strip():
        return None
    kb = _library(request).kb
    try:
        hits = list(search(kb, query[:500], audience=agent.caller.audience, limit=RESULTS,
                           usage=_walks(request).usage()).hits)
    except QueryError as error:
        return {"hits": [], "problem": str(error)}
    hits.sort(key=lambda hit: hit.lang != lang)  # stable: the ranking holds within each language
    return {"hits": [{"kind": hit.kind, "id": hit.id, "title": hit.title, "summary": hit.summary,
                      "lang": hit.lang, "internal": _internal(kb, hit.kind, hit.id)} for hit in hits],
            "problem": ""}


def _internal(kb: KnowledgeBase, kind: str, item_id: str) -> bool:
    """For agents only: not a link to send the caller."""
    item = kb.articles.get(item_id) if kind == "article" else kb.trees.get(item_id)
    return item is not None and item.audience == "internal"


def _recent(request: Request, agent: Agent) -> list[dict[str, Any]]:
    """The agent's own calls of the last week, newest first; unfinished ones can be continued."""
    found = _walks(request).sessions(agent.caller, since="7d")
    mine = [summary for summary in found if summary.get("agent") == agent.name]
    return sorted(mine, key=lambda summary: str(summary.get("started", "")), reverse=True)[:RECENT]


@router.post("/walks")
def start(request: Request, agent: Signed, posted: Posted) -> Response:
    """Start a walk of a tree chosen from the results, or of the tree that best fits the caller's words;
    the words searched go with it (search learns from solved walks)."""
    check_form(request, agent, posted)
    kb = _library(request).kb
    lang = interface_language(request, kb)
    ticket = posted.get("ticket", "").strip()[:100] or None
    tree_id = posted.get("tree", "").strip()
    symptom = posted.get("symptom", "").strip()[:500]
    if not tree_id and symptom:
        tree_id = _best_tree(kb, agent, symptom)
        if not tree_id:
            problem = translations(lang).gettext("No troubleshooting tree fits these words. Try other words, "
                                                 "or search and start one from the results.")
            return _pages(request).render(request, "home.html", lang, agent, status=422, q=symptom,
                                          results=_search(request, agent, symptom, lang), problem=problem,
                                          recent=_recent(request, agent))
    query = posted.get("query", "").strip()[:500] or symptom
    state = _walks(request).start(agent.caller, tree_id, ticket, query)
    if symptom:
        _walks(request).note(agent.caller, state["id"], f"Caller: {symptom}")
    return _see_other(f"{PATH}/walks/{quote(state['id'])}")


def _best_tree(kb: KnowledgeBase, agent: Agent, words: str) -> str:
    try:
        hits = search(kb, words, kind="tree", audience=agent.caller.audience, limit=1).hits
    except QueryError:
        return ""
    return hits[0].id if hits else ""


@router.post("/continue")
def continue_from_site(request: Request, agent: Signed, posted: Posted) -> Response:
    """Carry on the walk a reader began on the help site, from the link or reference they sent."""
    check_form(request, agent, posted)
    kb = _library(request).kb
    lang = interface_language(request, kb)
    try:
        path = parse_site_path(posted.get("reference", "")[:2000])
        walk_id, _ = continue_site_path(_walks(request), agent.caller, path,
                                        posted.get("ticket", "").strip()[:100] or None)
    except (SitePathError, NotFound) as error:
        message = error.message if isinstance(error, ApiError) else str(error)
        return _pages(request).render(request, "home.html", lang, agent, status=422, q="", results=None,
                                      continue_problem=message, reference=posted.get("reference", ""),
                                      recent=_recent(request, agent))
    return _see_other(f"{PATH}/walks/{quote(walk_id)}")


# --- content ------------------------------------------------------------------------------

@router.get("/articles/{article_id}", response_class=HTMLResponse)
def article(request: Request, agent: Signed, article_id: str) -> Response:
    kb = _library(request).kb
    found = content.find_article(kb, agent.caller, article_id)
    return _pages(request).render(request, "article.html", found.lang, agent,
                                  article=_article_panel(kb, agent, found.id))


@router.get("/trees/{tree_id}", response_class=HTMLResponse)
def tree(request: Request, agent: Signed, tree_id: str) -> Response:
    kb = _library(request).kb
    found = content.find_tree(kb, agent.caller, tree_id)
    return _pages(request).render(request, "tree.html", found.lang, agent, tree=found)


def _article_panel(kb: KnowledgeBase, agent: Agent, article_id: str | None,
                   walk_id: str = "") -> dict[str, Any] | None:
    """An article for the side panel: title, summary and its body as safe HTML, links kept in the console
    (and in the walk, when it is shown beside one)."""
    found = kb.articles.get(article_id or "")
    if found is None or not content.may_see(agent.caller, found):
        return None
    return {"id": found.id, "title": found.title, "summary": found.summary, "lang": found.lang,
            "html": _html(kb, agent, found.body, found.path, found.lang, walk_id),
            "internal": found.audience == "internal"}


def _html(kb: KnowledgeBase, agent: Agent, markdown: str, source: str, lang: str, walk_id: str = "") -> str:
    """Safe HTML by the site's renderer, as the API gives it, with links kept inside the console; in a
    walk, an article link opens the article beside the walk (and is recorded as read)."""
    html = content.render_html(kb, agent.caller, markdown, source, lang)
    articles = f'href="{PATH}/walks/{quote(walk_id)}?article=' if walk_id else f'href="{PATH}/articles/'
    return html.replace(f'href="{content.API}/articles/', articles).replace(
        f'href="{content.API}/trees/', f'href="{PATH}/trees/')


# --- the walk screen ----------------------------------------------------------------------

@router.get("/walks/{walk_id}", response_class=HTMLResponse)
def walk(request: Request, agent: Signed, walk_id: str, article: str = "", q: str = "") -> Response:
    """The walk; `article`: one the agent opened from the walk (a result, a link), recorded as read."""
    if article:
        # a walk busy in another request still shows the article, only the reading goes unrecorded;
        # an article the agent may not see is neither shown nor recorded
        with suppress(Conflict, NotFound):
            _walks(request).open_article(agent.caller, walk_id, article)
    return _walk_page(request, agent, walk_id, article=article, q=q)


def _walk_page(request: Request, agent: Agent, walk_id: str, *, article: str = "", q: str = "",
               problem: str = "", status: int = 200, values: dict[str, str] | None = None) -> Response:
    walks = _walks(request)
    state = walks.state(agent.caller, walk_id)
    session = walks.session(agent.caller, walk_id)
    kb = _library(request).kb
    lang = _walk_language(request, session["tree"])
    tree = kb.trees.get(state["tree"])  # where the step is written (a goto may have left the first tree)
    shown_article = article or (state["article"] or {}).get("id")
    context: dict[str, Any] = {
        "state": state, "session": session, "walk_id": walk_id, "q": q, "problem": problem,
        "results": _search(request, agent, q, lang),
        "article": _article_panel(kb, agent, shown_article, walk_id),
        "step_article": (state["article"] or {}).get("id"),
        "step_html": _html(kb, agent, state["text"]["markdown"], tree.path, lang, walk_id)
        if tree is not None and state["text"]["markdown"] else "",
        "collect": _collect(state, lang, values or {}),
        "outcome": outcome_words(state["outcome"], translations(lang)),
    }
    if "handover" in state:
        data = {**state["handover"], "ticket": session["ticket"]}
        context["handover_text"] = handover_text(data, translations(lang))
        context["handover_markdown"] = handover_markdown(data, translations(lang))
    return _pages(request).render(request, "walk.html", lang, agent, status=status, **context)


def _collect(state: dict[str, Any], lang: str, values: dict[str, str]) -> list[dict[str, Any]]:
    """The inputs still asked at an escalation, each with the form it takes in words."""
    fields = []
    for item in state.get("collect", []):
        field = CollectField(item["name"], item["prompt"], item.get("pattern"), item.get("hint"))
        fields.append({"name": field.name, "prompt": field.prompt, "pattern": field.pattern or "",
                       "form": expected_form(field, translations(lang)) or "",
                       "value": values.get(field.name, "")})
    return fields


def _act(request: Request, agent: Agent, walk_id: str, posted: dict[str, str],
         action: Callable[[], object]) -> Response:
    """Do one thing to the walk and show it again; a refused action shows the walk with why."""
    check_form(request, agent, posted)
    try:
        action()
    except ApiError as error:
        if isinstance(error, NotFound):
            raise
        return _walk_page(request, agent, walk_id, problem=error.message, status=error.status,
                          values=posted)
    return _see_other(f"{PATH}/walks/{quote(walk_id)}")


@router.post("/walks/{walk_id}/answer")
def answer(request: Request, agent: Signed, walk_id: str, posted: Posted) -> Response:
    choice = posted.get("answer", "").strip()
    return _act(request, agent, walk_id, posted,
                lambda: _walks(request).answer(agent.caller, walk_id, choice))


@router.post("/walks/{walk_id}/back")
def back(request: Request, agent: Signed, walk_id: str, posted: Posted) -> Response:
    return _act(request, agent, walk_id, posted, lambda: _walks(request).back(agent.caller, walk_id))


@router.post("/walks/{walk_id}/restart")
def restart(request: Request, agent: Signed, walk_id: str, posted: Posted) -> Response:
    return _act(request, agent, walk_id, posted, lambda: _walks(request).restart(agent.caller, walk_id))


@router.post("/walks/{walk_id}/note")
def note(request: Request, agent: Signed, walk_id: str, posted: Posted) -> Response:
    text = posted.get("text", "").strip()[:10_000]
    return _act(request, agent, walk_id, posted, lambda: _walks(request).note(agent.caller, walk_id, text))


@router.post("/walks/{walk_id}/ticket")
def ticket(request: Request, agent: Signed, walk_id: str, posted: Posted) -> Response:
    reference = posted.get("ticket", "").strip()[:100]
    return _act(request, agent, walk_id, posted,
                lambda: _walks(request).ticket(agent.caller, walk_id, reference))


@router.post("/walks/{walk_id}/input")
def give_inputs(request: Request, agent: Signed, walk_id: str, posted: Posted) -> Response:
    """Every input of the escalation form, in the order the tree asks them; the first that does not fit
    stops there and is shown with why (the ones before it are kept)."""
    walks = _walks(request)

    def provide() -> None:
        state = walks.state(agent.caller, walk_id)
        lang = _walk_language(request, walks.session(agent.caller, walk_id)["tree"])
        gettext = translations(lang).gettext
        for item in _collect(state, lang, {}):
            value = posted.get(item["name"], "").strip()[:2000]
            if not value:
                raise Unprocessable(gettext("%(input)s: a value is needed.") % {"input": item["prompt"]})
            if not match_input(CollectField(item["name"], item["prompt"], item["pattern"] or None), value):
                wanted = (gettext(" Expected: %(form)s.") % {"form": item["form"]}) if item["form"] else ""
                raise Unprocessable(gettext("%(input)s: “%(value)s” does not have the expected form.")
                                    % {"input": item["prompt"], "value": value} + wanted)
            walks.provide(agent.caller, walk_id, item["name"], value)

    return _act(request, agent, walk_id, posted, provide)


def _walk_language(request: Request, tree_id: str) -> str:
    """A walk speaks the language of the tree it began with."""
    kb = _library(request).kb
    tree = kb.trees.get(tree_id)
    return tree.lang if tree is not None else interface_language(request, kb)
