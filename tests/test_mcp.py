"""MCP tools, driven by the MCP SDK's own client: over streamable HTTP at /mcp on a running
`kb server`, and over stdio from `kb mcp`."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

import anyio
import pytest
import uvicorn
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from kbengine.server.app import create_app
from tests.test_server_walks import ARTICLE, TREE

T = TypeVar("T")
TOOLS = {"search_kb", "get_article", "list_trees", "start_walk", "answer_step", "add_note", "hand_over"}


@pytest.fixture
def kb_root(write_kb: Any) -> Path:
    return write_kb(
        {
            "trees/printer.yaml": TREE,
            "articles/printing/status-lights.md": ARTICLE,
            "articles/printing/toner.md": "---\ntitle: Printer toner\naudience: internal\n---\nToner.\n",
        }
    )


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'desk.db'}"


@pytest.fixture
def server(kb_root: Path, database: str) -> Iterator[tuple[str, Any]]:
    """A real `kb server` app on a free loopback port: (base URL, app)."""
    app = create_app(kb_root, database, mcp_hosts=["127.0.0.1:*"])
    running = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    port = running.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", app
    running.should_exit = True
    thread.join(timeout=30)


def run(main: Callable[[], Awaitable[T]]) -> T:
    """anyio.run in a thread of its own: the browser tests' Playwright keeps an event loop
    marked as running in the main thread for the whole session."""
    outcome: list[Any] = []

    def target() -> None:
        try:
            outcome.append(anyio.run(main))
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return cast(T, outcome[0])


def result(called: Any) -> dict[str, Any]:
    assert not called.is_error, called.content
    return dict(called.structured_content)


async def walk_to_an_escalation(client: Client) -> dict[str, Any]:
    assert {tool.name for tool in (await client.list_tools()).tools} >= TOOLS
    hits = result(await client.call_tool("search_kb", {"query": "printer"}))["hits"]
    assert "printer" in {hit["id"] for hit in hits}
    trees = result(await client.call_tool("list_trees", {}))["trees"]
    assert [tree["id"] for tree in trees] == ["printer"]
    begin = {"tree": "printer", "ticket": "INC7", "query": "printer"}
    state = result(await client.call_tool("start_walk", begin))
    opened = {"article_id": "status-lights", "walk_id": state["id"]}
    read = result(await client.call_tool("get_article", opened))
    assert read["title"] == "Printer status lights"  # and recorded in the walk as read
    wrong = await client.call_tool("answer_step", {"walk_id": state["id"], "answer": "Maybe"})
    assert wrong.is_error and '"allowed": ["Yes", "No"]' in wrong.content[0].text
    state = result(await client.call_tool("answer_step", {"walk_id": state["id"], "answer": "2"}))
    assert state["waiting_for"]["kind"] == "input"
    result(await client.call_tool("add_note", {"walk_id": state["id"], "text": "Caller in room 4.12"}))
    state = result(await client.call_tool("answer_step", {"walk_id": state["id"], "answer": "NL12345"}))
    assert state["outcome"] == "escalated"
    handed = result(await client.call_tool("hand_over", {"walk_id": state["id"]}))
    assert "Workplace hardware" in handed["markdown"] and "room 4.12" in handed["markdown"]
    return state


def http_client(url: str, token: str | None = None) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else None
    return Client(streamable_http_client(f"{url}/mcp", http_client=create_mcp_http_client(headers=headers)))


def test_an_agent_walks_a_tree_to_an_escalation_over_mcp_http(server: tuple[str, Any]) -> None:
    url, app = server
    token = app.state.users.add("assistant", "agent")

    async def main() -> None:
        async with http_client(url, token) as client:
            state = await walk_to_an_escalation(client)
            article = result(await client.call_tool("get_article", {"article_id": "toner"}))
            assert article["audience"] == "internal"
        session = app.state.store.read(state["id"])
        assert (session.outcome, session.start.agent) == ("escalated", "assistant")
        assert session.start.query == "printer"  # the search that found the tree, to learn from
        assert [event.name for event in session.events].count("article_opened") == 1

    run(main)


def test_without_a_token_mcp_serves_public_content_and_no_walks(server: tuple[str, Any]) -> None:
    url, _ = server

    async def main() -> None:
        async with http_client(url) as client:
            hits = result(await client.call_tool("search_kb", {"query": "printer"}))["hits"]
            assert "toner" not in {hit["id"] for hit in hits}
            hidden = await client.call_tool("get_article", {"article_id": "toner"})
            assert hidden.is_error and "there is no article 'toner'" in hidden.content[0].text
            refused = await client.call_tool("start_walk", {"tree": "printer"})
            assert refused.is_error and "sign in" in refused.content[0].text
            in_a_walk = await client.call_tool("get_article", {"article_id": "status-lights", "walk_id": "x"})
            assert in_a_walk.is_error and "sign in" in in_a_walk.content[0].text

    run(main)


def test_a_bad_token_is_refused_over_mcp_http(server: tuple[str, Any]) -> None:
    url, _ = server

    async def main() -> None:
        async with http_client(url, "kb_not-a-token") as client:
            refused = await client.call_tool("list_trees", {})
            assert refused.is_error and "unknown or revoked" in refused.content[0].text

    run(main)


def test_kb_mcp_walks_a_tree_over_stdio(kb_root: Path, database: str) -> None:
    parameters = StdioServerParameters(
        command="kb", args=["mcp", "--root", str(kb_root), "--database", database]
    )

    async def main() -> dict[str, Any]:
        async with Client(parameters) as client:
            return await walk_to_an_escalation(client)

    state = run(main)
    from kbengine.walk.store import open_store

    store = open_store(database)
    assert store.read(state["id"]).outcome == "escalated"
    store.close()
    assert json.dumps(state)  # plain JSON all the way
