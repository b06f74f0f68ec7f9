"""`kb serve`: build the site, serve it on 127.0.0.1 for preview, rebuild when the content changes."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import click

from kbengine.cli.build import build_or_exit, default_out
from kbengine.cli.check import format_text
from kbengine.cli.options import open_kb, resolve_root, root_option
from kbengine.site.pages import Urls
from kbengine.site.rebuild import Rebuild, RebuildResult
from kbengine.site.server import PreviewState, make_server, serve_in_thread

_WATCHED = ("kb.yaml", "articles", "trees", "site_templates")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


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
                try:
                    info = os.stat(os.path.join(folder, file))
                except OSError:  # a dangling link or a file deleted while walking: kb check says so
                    continue
                found.append((os.path.join(folder, file), info.st_size, info.st_mtime_ns))
    return tuple(sorted(found))


def _watch(root: Path, out: Path, search: bool, drafts: bool, live: PreviewState,
           stop: threading.Event, state: tuple[tuple[str, int, int], ...], interval: float = 1.0) -> None:
    """Rebuild in a child process on each change since `state` (the KB's files when the served
    site was read); a newer change replaces a rebuild still running, and one that overruns its
    time is stopped, so the watcher never stalls."""
    rebuild: Rebuild | None = None
    while not stop.wait(interval):
        now = source_state(root)
        if now != state:
            state = now
            if rebuild is not None:
                rebuild.abandon()
            click.echo("Content changed: rebuilding...", err=True)
            rebuild = Rebuild(root, out, search=search, drafts=drafts)
        result = rebuild.result() if rebuild is not None else None
        if result is None:
            continue
        rebuild = None
        _report(result, live)
    if rebuild is not None:
        rebuild.abandon()


def _report(result: RebuildResult, live: PreviewState) -> None:
    if result.built:
        live.rebuilt([])
        for diagnostic in result.diagnostics:
            click.echo(diagnostic.format(), err=True)
        warned = f" {result.warnings} warning(s): run `kb check` to see them." if result.warnings else ""
        click.echo(f"Rebuilt {result.pages} pages in {result.seconds:.1f} s.{warned}", err=True)
    elif result.errors:
        live.rebuilt(result.errors)
        click.echo(format_text(result.errors, 0).rsplit("\n", 1)[0], err=True)
        click.echo("The KB has errors: the browser shows them until they are fixed.", err=True)
    else:
        click.echo(f"Rebuild failed: {result.failure}; still serving the previous site.", err=True)


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
@click.option("--drafts", is_flag=True,
              help="Also show draft, archived and internal articles and troubleshooters "
                   "(only on this computer: not with another --host).")
def command(root: Path | None, port: int, host: str, out: Path | None, watch: bool,
            no_search: bool, drafts: bool) -> None:
    """Build the help site and serve it for preview, with search working.

    The site is served below the path of base_url in kb.yaml (for base_url
    `/help/` at http://127.0.0.1:8000/help/), exactly as it will be published.
    Leave it running while you write: it rebuilds when content changes (in a
    separate process, so a file that takes too long never holds it up) and open
    pages reload by themselves. While the KB has errors, the browser shows them
    at file:line instead of the pages. Stop it with Ctrl+C.

    \b
    Exit status: 0 stopped with Ctrl+C, 1 the first build could not be written
                 (with --no-watch, also a KB with errors) or the port is taken,
                 2 the command was used wrongly.

    \b
    Examples:
      kb serve
      kb serve --drafts             # preview drafts and internal content too
      kb serve --port 8080 --no-watch
    """
    if drafts and host not in _LOOPBACK:
        raise click.UsageError("--drafts shows unpublished and internal content: "
                               "it is only served on 127.0.0.1 (leave out --host)")
    folder = resolve_root(root)
    # taken before the KB is read: an edit made while the first site is built is rebuilt too
    state = source_state(folder)
    kb = open_kb(folder)
    target = default_out(kb, out)
    live = PreviewState()
    if watch and kb.errors:
        click.echo(format_text(kb.errors, len(kb.files)), err=True)
        click.echo("kb serve: the KB has errors: the browser shows them until they are fixed.", err=True)
        live.rebuilt(kb.errors)
    else:
        build_or_exit(kb, target, search=not no_search, drafts=drafts)
    base = Urls.from_base_url(kb.config.base_url).base
    try:
        server = make_server(target, base, host, port, live=live if watch else None)
    except OSError as problem:
        click.echo(f"kb serve: cannot listen on {host}:{port}: {problem.strerror}. "
                   "Try another --port.", err=True)
        raise SystemExit(1) from None
    bound_host, bound_port = str(server.server_address[0]), server.server_address[1]
    click.echo(f"Serving {target} at http://{bound_host}:{bound_port}{base} - press Ctrl+C to stop.")
    stop = threading.Event()
    watcher = threading.Thread(target=_watch,
                               args=(folder, target, not no_search, drafts, live, stop, state),
                               name="kb-watch", daemon=True)
    if watch:
        watcher.start()
    serve_in_thread(server)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)
    finally:
        stop.set()
        live.close()
        server.shutdown()
        server.server_close()
        if watcher.is_alive():
            watcher.join(10)  # it stops a rebuild still running
