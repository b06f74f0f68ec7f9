"""`kb server`: the KB, walks and records as a JSON API and MCP for a whole desk (uvicorn)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from kbengine.cli.options import resolve_root, root_option

database_option = click.option(
    "--database", "database_url", metavar="URL", envvar="KB_DATABASE_URL", show_envvar=True,
    help="Where users and session records live: sqlite:///PATH or postgresql://USER@HOST/DB. "
         "Default: SQLite in the KB's data folder.")


@click.command("server")
@root_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. The default serves this computer only; behind a reverse proxy "
                   "keep it and let the proxy listen outside.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port to listen on.")
@database_option
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes; they share nothing but the database.")
@click.option("--cors", "cors_origins", multiple=True, metavar="ORIGIN",
              help="Let browser pages from this origin call the API (repeatable). Default: none.")
@click.option("--max-body", type=click.IntRange(1024, 64 * 1024 * 1024), default=256 * 1024,
              show_default=True, help="Largest request body in bytes; larger ones get 413.")
def command(root: Path | None, host: str, port: int, database_url: str | None, workers: int,
            cors_origins: tuple[str, ...], max_body: int) -> None:
    """Serve the KB to a desk: a JSON API, MCP tools for AI assistants, walks and records.

    \b
    http://HOST:PORT/api/v1/docs   the API, browsable (OpenAPI at /api/v1/openapi.json)
    http://HOST:PORT/mcp           MCP over streamable HTTP (kb mcp serves it over stdio)
    http://HOST:PORT/health        for load balancers and monitoring

    Without a token only public content is served, as on the public site. Give people
    and integrations tokens with `kb users add NAME --role agent|lead|admin` and send
    them as `Authorization: Bearer TOKEN`. Articles and trees are compiled again when
    they change on disk (a git pull); walks in progress keep the tree they began with.
    Each request is logged on stderr as one JSON line. Ctrl-C or SIGTERM stops the
    server after the requests in flight (every step taken is already recorded).

    \b
    Examples:
      kb server
      kb server --database postgresql://kb@db.example.org/kb --workers 4
      curl -H "Authorization: Bearer $TOKEN" localhost:8080/api/v1/trees
    """
    import uvicorn

    folder = resolve_root(root)
    os.environ["KB_SERVER_ROOT"] = str(folder)
    os.environ["KB_SERVER_MAX_BODY"] = str(max_body)
    os.environ["KB_SERVER_CORS"] = ",".join(cors_origins)
    # on this computer only, /mcp refuses other Host names (a web page's DNS-rebinding trick)
    loopback = host in ("127.0.0.1", "localhost", "::1")
    os.environ["KB_SERVER_MCP_HOSTS"] = "127.0.0.1:*,localhost:*,[::1]:*" if loopback else ""
    if database_url:
        os.environ["KB_DATABASE_URL"] = database_url
    # stderr carries the access log (JSON lines, logged at INFO whatever the root level) and warnings
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(message)s")
    try:
        from kbengine.server.app import app_from_environment

        app_from_environment()  # fail here, with one message, before the workers start
    except Exception as error:  # a database that cannot be reached or set up
        raise click.ClickException(f"cannot start: {error}") from None
    plural = "s" * (workers > 1)
    click.echo(f"kb server: http://{host}:{port}/api/v1/docs ({workers} worker{plural})", err=True)
    uvicorn.run("kbengine.server.app:app_from_environment", factory=True, host=host, port=port,
                workers=workers, access_log=False, log_level="warning", timeout_graceful_shutdown=10,
                proxy_headers=True)
