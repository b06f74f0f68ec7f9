"""The JSON API under /api/v1: thin handlers over the services in content.py and walks.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field, field_validator

from kbengine.report import OUTCOMES, PERIODS
from kbengine.server import content
from kbengine.server.deps import KB, Agent, Lead, WalksService, Who
from kbengine.server.errors import Unprocessable

router = APIRouter(prefix=content.API)


@router.get("/search", tags=["content"])
def search(kb: KB, who: Who, walks: WalksService, q: Annotated[str, Query(max_length=500)] = "",
           kind: Annotated[str | None, Query(description="article or tree")] = None,
           lang: Annotated[str | None, Query(max_length=20)] = None,
           limit: Annotated[int, Query(ge=1, le=100)] = 10) -> dict[str, Any]:
    """Ranked articles and trees for the words people use, as `kb search --json`; what solved the
    server's walks for similar words before ranks a little higher."""
    return content.search_hits(kb, who, q, kind=kind, lang=lang, limit=limit, usage=walks.usage())


@router.get("/articles/{article_id}", tags=["content"])
def article(kb: KB, who: Who, article_id: str) -> dict[str, Any]:
    """One article: its Markdown and safe HTML."""
    return content.article_view(kb, who, content.find_article(kb, who, article_id))


@router.get("/trees", tags=["content"])
def trees(kb: KB, who: Who) -> dict[str, Any]:
    """Every troubleshooting tree the caller may read and walk."""
    found = sorted(content.visible_trees(kb, who), key=lambda tree: tree.id)
    return {"trees": [content.tree_summary(tree) for tree in found]}


@router.get("/trees/{tree_id}", tags=["content"])
def tree(kb: KB, who: Who, tree_id: str) -> dict[str, Any]:
    """One tree with the nodes and answers the caller may see."""
    return content.tree_view(kb, who, content.find_tree(kb, who, tree_id))


# Walks: each answer is recorded before the response leaves


class WalkStart(BaseModel):
    tree: str = Field(max_length=200, description="The id of the tree to walk")
    ticket: str | None = Field(None, max_length=200, description="The ticket this walk is for")
    query: str = Field("", max_length=500, description="The words searched before this tree was chosen: "
                                                       "when the walk is solved, search learns from it")


class WalkAnswer(BaseModel):
    answer: str | int = Field(description="The answer's label, or its number (1 is the first); any answer "
                                          "confirms an action step")

    @field_validator("answer")
    @classmethod
    def _short(cls, value: str | int) -> str | int:
        if isinstance(value, str) and len(value) > 500:
            raise ValueError("an answer is at most 500 characters")
        return value


class WalkNote(BaseModel):
    text: str = Field(min_length=1, max_length=10_000)


class WalkInput(BaseModel):
    name: str = Field(max_length=200)
    value: str = Field(max_length=2_000)


@router.post("/walks", tags=["walks"], status_code=201)
def start_walk(walks: WalksService, who: Agent, body: WalkStart) -> dict[str, Any]:
    """Start a walk of a tree; the state names the first step and the walk's `id`."""
    return walks.start(who, body.tree, body.ticket, body.query)


@router.get("/walks/{walk_id}", tags=["walks"])
def walk(walks: WalksService, who: Agent, walk_id: str) -> dict[str, Any]:
    """Where a walk stands."""
    return walks.state(who, walk_id)


@router.post("/walks/{walk_id}/articles/{article_id}", tags=["walks"])
def open_article(kb: KB, walks: WalksService, who: Agent, walk_id: str, article_id: str) -> dict[str, Any]:
    """Read an article during the walk, as GET /articles/{id} gives it, recorded in the walk as read
    (`article_opened`): the content report counts it, and search learns from it when the walk is solved."""
    return content.article_view(kb, who, walks.open_article(who, walk_id, article_id))


@router.post("/walks/{walk_id}/answer", tags=["walks"])
def answer(walks: WalksService, who: Agent, walk_id: str, body: WalkAnswer) -> dict[str, Any]:
    """Answer the question; 422 with the allowed answers when it is not one of them."""
    return walks.answer(who, walk_id, body.answer)


@router.post("/walks/{walk_id}/back", tags=["walks"])
def back(walks: WalksService, who: Agent, walk_id: str) -> dict[str, Any]:
    """Go back one step."""
    return walks.back(who, walk_id)


@router.post("/walks/{walk_id}/restart", tags=["walks"])
def restart(walks: WalksService, who: Agent, walk_id: str) -> dict[str, Any]:
    """Start the tree again from its first step (notes are kept)."""
    return walks.restart(who, walk_id)


@router.post("/walks/{walk_id}/note", tags=["walks"])
def note(walks: WalksService, who: Agent, walk_id: str, body: WalkNote) -> dict[str, Any]:
    """Keep a note with the walk; it goes into the hand-over."""
    return walks.note(who, walk_id, body.text)


@router.post("/walks/{walk_id}/input", tags=["walks"])
def give_input(walks: WalksService, who: Agent, walk_id: str, body: WalkInput) -> dict[str, Any]:
    """Give a value an escalation collects (an asset tag, ...); 422 when it has not the expected form."""
    return walks.provide(who, walk_id, body.name, body.value)


@router.get("/walks/{walk_id}/handover", tags=["walks"], response_model=None)
def walk_handover(walks: WalksService, who: Agent, walk_id: str,
                  format: Annotated[str, Query(description="json, md or text")] = "json",
                  ) -> dict[str, Any] | PlainTextResponse:
    """The ticket-ready hand-over: JSON, or Markdown to paste into a ticket."""
    found = walks.handover(who, walk_id, format)
    if isinstance(found, str):
        return PlainTextResponse(found, media_type="text/markdown" if format == "md" else "text/plain")
    return found


# Records and the report


@router.get("/sessions", tags=["records"])
def sessions(walks: WalksService, who: Agent, since: str | None = None, tree: str | None = None,
             outcome: Annotated[str | None, Query(description=", ".join(OUTCOMES))] = None) -> dict[str, Any]:
    """Session summaries, oldest first: an agent's own, or everyone's for a lead."""
    if outcome is not None and outcome not in OUTCOMES:
        raise Unprocessable(f"outcome must be one of: {', '.join(OUTCOMES)}", allowed=list(OUTCOMES))
    return {"sessions": walks.sessions(who, since=since, tree=tree, outcome=outcome)}


@router.get("/sessions/{session_id}", tags=["records"])
def session(walks: WalksService, who: Agent, session_id: str) -> dict[str, Any]:
    """One session with its hand-over."""
    return walks.session(who, session_id)


@router.get("/report", tags=["records"])
def report(walks: WalksService, who: Lead, since: str | None = None,
           by: Annotated[str, Query(description=", ".join(PERIODS))] = "week") -> dict[str, Any]:
    """The lead's report (as `kb report --json`) over every walk in the store."""
    if by not in PERIODS:
        raise Unprocessable(f"by must be one of: {', '.join(PERIODS)}", allowed=list(PERIODS))
    return walks.report(since=since, by=by)
