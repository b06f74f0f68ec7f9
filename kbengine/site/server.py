"""Serve a built site for preview, below its base path (e.g. /help/), with the site's 404 page.

In a writer's preview (`kb serve`) the server also tells open pages when a rebuild finished
(server-sent events at `/_kb/events`; the pages get a small script for it, the built files do
not), and while the KB has errors it answers page requests with a page listing them.
"""

from __future__ import annotations

import functools
import html
import http.server
import io
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from kbengine.model import Diagnostic

EVENTS = "/_kb/events"
_KEEP_ALIVE = 15.0  # seconds between comments that keep an idle event stream open


@dataclass
class PreviewState:
    """What the preview shows: the number of the latest rebuild, and the errors that stop it."""

    version: int = 0
    errors: list[Diagnostic] = field(default_factory=list)
    closed: bool = False
    changed: threading.Condition = field(default_factory=threading.Condition)

    def rebuilt(self, errors: list[Diagnostic]) -> None:
        """A rebuild finished (errors empty) or the KB is broken: open pages reload."""
        with self.changed:
            self.version += 1
            self.errors = list(errors)
            self.changed.notify_all()

    def close(self) -> None:
        with self.changed:
            self.closed = True
            self.changed.notify_all()


def _reload_script(version: int) -> bytes:
    return (f'<script>(function(){{var s=new EventSource("{EVENTS}");s.onmessage=function(e){{'
            f'if(e.data!=="{version}"){{s.close();location.reload();}}}};}})();</script>').encode()


def error_page(errors: list[Diagnostic], version: int) -> bytes:
    """The page a writer sees while the KB has errors: each at file:line:col, with its hint."""
    items = "".join(
        f"<li><code>{html.escape(d.path)}:{d.line}:{d.col}</code> {html.escape(d.code)} "
        f"{html.escape(d.message)}" + (f"<br><small>{html.escape(d.hint)}</small>" if d.hint else "")
        + "</li>" for d in errors)
    page = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>The KB has errors'
            f'</title></head><body><main><h1>The KB has {len(errors)} error(s)</h1><p>The site is not '
            f"rebuilt until they are fixed; this page reloads when they are.</p><ol>{items}</ol>"
            f"</main></body></html>")
    return page.encode() + _reload_script(version)


class _SiteHandler(http.server.SimpleHTTPRequestHandler):
    base = "/"
    quiet = True
    live: PreviewState | None = None

    def _inside(self) -> str | None:
        """The request path below the base path, or None when it is outside the site."""
        path = urlsplit(self.path).path
        if path == self.base.rstrip("/"):
            return None
        return "/" + path[len(self.base):] if path.startswith(self.base) else None

    def send_head(self) -> Any:
        path = urlsplit(self.path).path
        if "\x00" in unquote(path) or "\\" in unquote(path):
            self.send_error(400, "Bad request path")
            return None
        if self.live is not None and path == EVENTS:
            self._events(self.live)
            return None
        inside = self._inside()
        if inside is None:
            if path in ("/", self.base.rstrip("/")):
                self.send_response(302)
                self.send_header("Location", self.base)
                self.end_headers()
                return None
            self.send_error(404)
            return None
        query = urlsplit(self.path).query
        self.path = inside + (f"?{query}" if query else "")
        if self.live is not None:
            page = self._page(self.live, inside)
            if page is not None:
                return page
        return super().send_head()

    def _page(self, live: PreviewState, inside: str) -> io.BytesIO | None:
        """An HTML page of the preview with the reload script, or the error page; None for
        anything else (assets, redirects, missing files), which is served as usual."""
        file = Path(self.translate_path(inside))
        if inside.endswith("/"):
            file = file / "index.html"
        is_page = file.suffix == ".html" or inside.endswith("/")
        if not is_page:
            return None
        with live.changed:
            version, errors = live.version, list(live.errors)
        if errors:
            return self._send(500, error_page(errors, version))
        if not file.is_file():
            return None
        return self._send(200, file.read_bytes() + _reload_script(version))

    def _send(self, status: int, body: bytes) -> io.BytesIO:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)

    def _events(self, live: PreviewState) -> None:
        """Server-sent events: the rebuild number now, and again each time it changes."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        self.close_connection = True
        sent = -1
        while True:
            with live.changed:
                if live.version == sent and not live.closed:
                    live.changed.wait(_KEEP_ALIVE)
                version, closed = live.version, live.closed
            if closed:
                return
            message = f"data: {version}\n\n" if version != sent else ": still here\n\n"
            self.wfile.write(message.encode())
            self.wfile.flush()
            sent = version

    def list_directory(self, path: str | os.PathLike[str]) -> Any:
        """A folder without index.html is not a page: no listing of what the site holds."""
        self.send_error(404)
        return None

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")  # a preview always shows the latest build
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        if not self.quiet:
            super().log_message(format, *args)


class _PreviewServer(http.server.ThreadingHTTPServer):
    """A thread per request and a backlog for a team previewing at once; quiet about clients that
    hang up mid-answer (a reload, a closed tab)."""

    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


def make_server(site: Path, base: str = "/", host: str = "127.0.0.1", port: int = 8000,
                quiet: bool = True, live: PreviewState | None = None) -> http.server.ThreadingHTTPServer:
    """An HTTP server for `site` mounted at `base`; port 0 picks a free port. With `live`, pages
    reload after each rebuild and show the KB's errors while it has any."""
    handler = type("SiteHandler", (_SiteHandler,), {"base": base, "quiet": quiet, "live": live})
    return _PreviewServer((host, port), functools.partial(handler, directory=str(site)))


def serve_in_thread(server: http.server.ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="kb-site-server", daemon=True)
    thread.start()
    return thread
