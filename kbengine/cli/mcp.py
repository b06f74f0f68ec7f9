"""`kb mcp`: the KB as MCP tools for an AI assistant on this computer, over stdio."""

from __future__ import annotations

from pathlib import Path

import click

from kbengine.cli.options import resolve_root, root_option
from kbengine.cli.server import database_option


@click.command("mcp")
@root_option
@database_option
def command(root: Path | None, database_url: str | None) -> None:
    """Serve the KB to an AI assistant (Claude Desktop, VS Code, ...) over stdio, as MCP tools.

    \b
    Tools: search_kb, get_article, list_trees, start_walk, answer_step, add_note, hand_over.

    The assistant starts this command itself; configure it as shown in docs/mcp.md. It acts as
    you, an agent: it reads internal content and records walks in this KB's session store
    (--database, else KB_DATABASE_URL, else the store kb walk uses), so `kb report` counts
    them with the rest. Nothing but MCP messages is written to stdout.

    \b
    Example (what the assistant runs):
      kb mcp --root /path/to/kb
    """
    from kbengine.server.auth import Caller
    from kbengine.server.library import Library
    from kbengine.server.mcp import build_mcp
    from kbengine.server.walks import Walks
    from kbengine.walk.recording import open_sessions
    from kbengine.walk.store import SessionError, agent_name

    library = Library(resolve_root(root))
    try:
        store = open_sessions(library.kb, database_url)
    except SessionError as error:
        raise click.ClickException(str(error)) from None
    server = build_mcp(library, Walks(library, store), local=Caller(agent_name(), "agent"))
    try:
        server.run("stdio")
    finally:
        store.close()
