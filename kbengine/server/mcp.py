"""The KB as MCP tools for AI assistants: search_kb, get_article, list_trees, start_walk, answer_step,
add_note, hand_over. The same services as the JSON API, over stdio (`kb mcp`) or streamable HTTP at /mcp.

Over HTTP each call is signed in by its `Authorization: Bearer TOKEN` header like an API request;
over stdio the assistant runs on the agent's own computer and acts as that local user."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from kbengine import __version__
from kbengine.server import content
from kbengine.server.auth import ANONYMOUS, Caller
from kbengine.server.errors import ApiError, Forbidden, Unauthorized
from kbengine.server.library import Library
from kbengine.server.users import Users
from kbengine.server.walks import Walks

INSTRUCTIONS = """\
A service desk's knowledge base. search_kb finds articles and troubleshooting trees for a problem in
the caller's words; get_article reads one. To troubleshoot, start_walk a tree (with the search_kb query
that found it) and answer_step each step: the state says what the step asks ("answers" with numbers, or
"collect" for a value second line needs) and, at an end, carries the hand-over. An article read during a
walk: get_article with the walk_id. Ask the person the step's question; do not guess answers."""


ANSWER = "The answer's label or number; at an action step 'done'; where a value is collected, the value"
QUERY = "The search_kb query that found this tree; search learns from it when the walk is solved"
WALK_ARTICLE = ("The walk this article is read for (from start_walk): it is recorded in the walk, and "
                "search learns from it when the walk is solved")


def _failure(error: ApiError) -> ToolError:
    """An API error as a tool error the model can read and act on (the allowed answers, ...)."""
    details = {key: value for key, value in error.details.items() if key != "state"}
    return ToolError(error.message + (f" {json.dumps(details)}" if details else ""))


def build_mcp(library: Library, walks: Walks, *, users: Users | None = None,
              local: Caller | None = None) -> MCPServer:
    """The MCP server: callers signed in by token through `users` (HTTP), or all acting as `local`."""

    def caller(ctx: Context) -> Caller:
        if local is not None:
            return local
        header = (ctx.headers or {}).get("authorization", "")
        if not header or users is None:
            return ANONYMOUS
        scheme, _, token = header.partition(" ")
        found = users.sign_in(token.strip()) if scheme.lower() == "bearer" else None
        if found is None:
            raise ToolError("this token is unknown or revoked; send Authorization: Bearer TOKEN")
        return found

    def serve(ctx: Context, action: Callable[[Caller], Any], grant: str | None = None) -> Any:
        try:
            who = caller(ctx)
            if grant is not None and not who.may(grant):
                raise (Unauthorized("sign in with a token to walk trees") if who.anonymous
                       else Forbidden(f"the role '{who.role}' may not do this"))
            return action(who)
        except ApiError as error:
            raise _failure(error) from None

    # the SDK configures logging when no one has; WARNING keeps a request log from every library out
    server = MCPServer("kbengine", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING")

    @server.tool()
    def search_kb(query: Annotated[str, Field(description="The problem in words", max_length=500)],
                  kind: Annotated[str | None, Field(description="article or tree; default both")] = None,
                  lang: Annotated[str | None, Field(description="Language code, e.g. en or nl")] = None,
                  limit: Annotated[int, Field(ge=1, le=50)] = 10, *, ctx: Context) -> dict[str, Any]:
        """Find the articles and troubleshooting trees that match a problem, best first."""
        return serve(ctx, lambda who: content.search_hits(library.kb, who, query, kind=kind, lang=lang,
                                                          limit=limit, usage=walks.usage()))

    @server.tool()
    def get_article(article_id: Annotated[str, Field(description="The article's id, from search_kb")],
                    walk_id: Annotated[str | None, Field(description=WALK_ARTICLE)] = None,
                    *, ctx: Context) -> dict[str, Any]:
        """Read one article: its Markdown, safe HTML and related articles."""

        def read(who: Caller) -> dict[str, Any]:
            kb = library.kb
            if walk_id:
                return content.article_view(kb, who, walks.open_article(who, walk_id, article_id))
            return content.article_view(kb, who, content.find_article(kb, who, article_id))

        return serve(ctx, read, "walks" if walk_id else None)

    @server.tool()
    def list_trees(ctx: Context) -> dict[str, Any]:
        """Every troubleshooting tree, with the symptoms it is for."""

        def listing(who: Caller) -> dict[str, Any]:
            found = sorted(content.visible_trees(library.kb, who), key=lambda tree: tree.id)
            return {"trees": [content.tree_summary(tree) for tree in found]}

        return serve(ctx, listing)

    @server.tool()
    def start_walk(tree: Annotated[str, Field(description="The tree's id, from list_trees or search_kb")],
                   ticket: Annotated[str | None, Field(description="The ticket this is for")] = None,
                   query: Annotated[str, Field(description=QUERY, max_length=500)] = "",
                   *, ctx: Context) -> dict[str, Any]:
        """Start troubleshooting with a tree; the state has the walk's id and the first step."""
        return serve(ctx, lambda who: walks.start(who, tree, ticket, query), "walks")

    @server.tool()
    def answer_step(walk_id: Annotated[str, Field(description="The walk's id, from start_walk")],
                    answer: Annotated[str, Field(description=ANSWER, max_length=2000)],
                    *, ctx: Context) -> dict[str, Any]:
        """Take one step: answer the question, confirm the action, or give the value asked for."""

        def step(who: Caller) -> dict[str, Any]:
            state = walks.state(who, walk_id)
            wanted = state.get("waiting_for") or {}
            if wanted.get("kind") == "input":
                return walks.provide(who, walk_id, wanted["name"], answer)
            return walks.answer(who, walk_id, answer)

        return serve(ctx, step, "walks")

    @server.tool()
    def add_note(walk_id: str, text: Annotated[str, Field(min_length=1, max_length=10_000)],
                 *, ctx: Context) -> dict[str, Any]:
        """Keep a note with the walk (what the caller said, what was tried); it goes into the hand-over."""
        return serve(ctx, lambda who: walks.note(who, walk_id, text), "walks")

    @server.tool()
    def hand_over(walk_id: str,
                  format: Annotated[str, Field(description="json or md (Markdown for a ticket)")] = "md",
                  *, ctx: Context) -> dict[str, Any]:
        """The ticket-ready hand-over of a walk: steps and answers, values collected, notes, outcome."""

        def data(who: Caller) -> dict[str, Any]:
            found = walks.handover(who, walk_id, format)
            return {"markdown": found} if isinstance(found, str) else found

        return serve(ctx, data, "walks")

    return server
