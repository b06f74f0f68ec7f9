"""Serve a built site for preview, below its base path (e.g. /help/), with the site's 404 page."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class _SiteHandler(http.server.SimpleHTTPRequestHandler):
    base = "/"
    quiet = True

    def _inside(self) -> str | None:
        """The request path below the base path, or None when it is outside the site."""
        path = urlsplit(self.path).path
        if path == self.base.rstrip("/"):
            return None
        return "/" + path[len(self.base):] if path.startswith(self.base) else None

    def send_head(self) -> Any:
        inside = self._inside()
        path = urlsplit(self.path).path
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
        return super().send_head()

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


def make_server(site: Path, base: str = "/", host: str = "127.0.0.1", port: int = 8000,
                quiet: bool = True) -> http.server.ThreadingHTTPServer:
    """An HTTP server for `site` mounted at `base`; port 0 picks a free port."""
    handler = type("SiteHandler", (_SiteHandler,), {"base": base, "quiet": quiet})
    server = http.server.ThreadingHTTPServer(
        (host, port), functools.partial(handler, directory=str(site)))
    server.daemon_threads = True
    return server


def serve_in_thread(server: http.server.ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="kb-site-server", daemon=True)
    thread.start()
    return thread
