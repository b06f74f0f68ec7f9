"""`kb serve`: build the site, serve it on 127.0.0.1 for preview, rebuild when the content changes."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import click

from kbengine.cli.build import build_or_exit, default_out
from kbengine.cli.options import open_kb, root_option
from kbengine.compiler import compile_kb
from kbengine.site.pages import Urls
from kbengine.site.server import make_server, serve_in_thread

_WATCHED = ("kb.yaml", "articles", "trees", "site_templates")


def source_state(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and times of every file the site is built from: a change means rebuild."""
    found = []
    for name in _WATCHED:
        path = root / name
        if path.is_file():
            info = path.stat()
            found.append((name, info.st_size, info.st_mtime_ns))
        for folder, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for file in files:
                info = os.stat(os.path.join(folder, file))
                found.append((os.path.join(folder, file), info.st_size, info.st_mtime_ns))
    return tuple(sorted(found))


def _watch(root: Path, out: Path, search: bool, stop: threading.Event, interval: float = 1.0) -> None:
    state = source_state(root)
    while not stop.wait(interval):
        now = source_state(root)
        if now == state:
            continue
        state = now
        click.echo("Content changed: rebuilding...", err=True)
        kb = compile_kb(root)
        try:
            summary = build_or_exit(kb, out, search=search)
        except SystemExit:
            click.echo("Rebuild failed; still serving the previous site.", err=True)
            continue
        click.echo(f"Rebuilt {summary.pages} pages in {summary.seconds:.1f} s.", err=True)


@click.command("serve")
@root_option
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on (0 picks a free one).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. The default keeps the preview on this computer.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to build into and serve. Default: site/ in the KB folder.")
@click.option("--watch/--no-watch", default=True, show_default=True,
              help="Rebuild when an article, tree, kb.yaml or template changes.")
@click.option("--no-search", is_flag=True, help="Skip the search index: quicker rebuilds, no search.")
def command(root: Path | None, port: int, host: str, out: Path | None, watch: bool,
            no_search: bool) -> None:
    """Build the help site and serve it for preview, with search working.

    The site is served below the path of base_url in kb.yaml (for base_url
    `/help/` at http://127.0.0.1:8000/help/), exactly as it will be published.
    Leave it running while you write: it rebuilds when content changes and the
    next page load shows it. Stop it with Ctrl+C.

    \b
    Exit status: 0 stopped with Ctrl+C, 1 the first build failed or the port is
                 taken, 2 the command was used wrongly.

    \b
    Examples:
      kb serve
      kb serve --port 8080 --no-watch
    """
    kb = open_kb(root)
    target = default_out(kb, out)
    build_or_exit(kb, target, search=not no_search)
    base = Urls.from_base_url(kb.config.base_url).base
    try:
        server = make_server(target, base, host, port)
    except OSError as problem:
        click.echo(f"kb serve: cannot listen on {host}:{port}: {problem.strerror}. "
                   "Try another --port.", err=True)
        raise SystemExit(1) from None
    bound_host, bound_port = str(server.server_address[0]), server.server_address[1]
    click.echo(f"Serving {target} at http://{bound_host}:{bound_port}{base} - press Ctrl+C to stop.")
    stop = threading.Event()
    if watch:
        threading.Thread(target=_watch, args=(kb.root, target, not no_search, stop), daemon=True).start()
    serve_in_thread(server)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
