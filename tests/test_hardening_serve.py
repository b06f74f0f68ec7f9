"""`kb serve` as a team and a writer use it: bad requests, hung-up clients, live reload, errors
in the browser, and rebuilds it can abandon."""

from __future__ import annotations

import http.client
import io
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr
from pathlib import Path

import pytest

from kbengine.model import Diagnostic
from kbengine.site.rebuild import Rebuild
from kbengine.site.server import EVENTS, PreviewState, make_server, serve_in_thread
from tests.conftest import WriteKB
from tests.test_site_build import SITE_KB, SUPPORT_CONFIG
from tests.test_site_cli import fetch, serving


@contextmanager
def preview(site: Path, live: PreviewState | None = None) -> Iterator[tuple[str, int]]:
    server = make_server(site, "/", port=0, live=live)
    serve_in_thread(server)
    try:
        yield "127.0.0.1", server.server_address[1]
    finally:
        if live is not None:
            live.close()
        server.shutdown()
        server.server_close()


@pytest.fixture
def small_site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    (site / "en" / "articles" / "a").mkdir(parents=True)
    (site / "en" / "articles" / "a" / "index.html").write_text("<html><body>Article A</body></html>")
    (site / "assets").mkdir()
    (site / "assets" / "big.bin").write_bytes(b"x" * 8_000_000)
    (site / "404.html").write_text("<html><body>Page not found</body></html>")
    return site


def status(host: str, port: int, path: str) -> int:
    connection = http.client.HTTPConnection(host, port, timeout=10)
    connection.request("GET", path)
    code = connection.getresponse().status
    connection.close()
    return code


def test_malformed_paths_get_400_and_folders_are_never_listed(small_site: Path) -> None:
    with preview(small_site) as (host, port):
        assert status(host, port, "/%00") == 400
        assert status(host, port, "/en/%00/x") == 400
        assert status(host, port, "/assets/") == 404
        assert status(host, port, "/en/articles/") == 404
        assert status(host, port, "/en/articles/a/") == 200


def test_a_client_that_hangs_up_leaves_no_traceback(small_site: Path) -> None:
    printed = io.StringIO()
    with redirect_stderr(printed), preview(small_site) as (host, port):
        for _ in range(5):
            client = socket.create_connection((host, port))
            client.sendall(b"GET /assets/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            client.recv(100)
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            client.close()  # a reset mid-answer
        time.sleep(0.5)
        assert status(host, port, "/en/articles/a/") == 200
    assert "Traceback" not in printed.getvalue()


def test_the_server_takes_a_team_at_once(small_site: Path) -> None:
    server = make_server(small_site, "/", port=0)
    try:
        assert server.request_queue_size >= 128 and server.daemon_threads
    finally:
        server.server_close()


def test_preview_pages_reload_after_a_rebuild_and_show_errors_while_broken(small_site: Path) -> None:
    live = PreviewState()
    with preview(small_site, live) as (host, port):
        page = fetch(f"http://{host}:{port}/en/articles/a/")
        assert "Article A" in page and "EventSource" in page
        assert "EventSource" not in (small_site / "en" / "articles" / "a" / "index.html").read_text()
        events = urllib.request.urlopen(f"http://{host}:{port}{EVENTS}", timeout=10)
        assert events.readline() == b"data: 0\n"
        live.rebuilt([Diagnostic("trees/t.yaml", 3, 5, "KB404", "error", "answer leads to 'nowhere'",
                                 "use an existing node")])
        events.readline()
        assert events.readline() == b"data: 1\n"
        with pytest.raises(urllib.error.HTTPError) as broken:
            urllib.request.urlopen(f"http://{host}:{port}/en/articles/a/")
        shown = broken.value.read().decode()
        assert broken.value.code == 500 and "trees/t.yaml:3:5" in shown and "EventSource" in shown
        live.rebuilt([])
        assert "Article A" in fetch(f"http://{host}:{port}/en/articles/a/")
        events.close()


@pytest.mark.timeout(120)
def test_kb_serve_shows_a_broken_edit_in_the_browser_then_the_fixed_page(write_kb: WriteKB) -> None:
    root = write_kb(SITE_KB, SUPPORT_CONFIG)
    tree = root / "trees" / "printer-codes.yaml"
    good = tree.read_text()
    with serving(root, "--no-search") as address:
        assert "EventSource" in fetch(address + "en/articles/add-printer/")
        tree.write_text(good.replace("start: code", "start: nowhere"))
        deadline = time.monotonic() + 60
        while True:
            try:
                fetch(address + "en/articles/add-printer/")
            except urllib.error.HTTPError as error:
                assert error.code == 500 and "trees/printer-codes.yaml:" in error.read().decode()
                break
            assert time.monotonic() < deadline, "the error page never came"
            time.sleep(0.2)
        tree.write_text(good)
        while True:
            try:
                if "Add a network printer" in fetch(address + "en/articles/add-printer/"):
                    break
            except urllib.error.HTTPError:
                pass
            assert time.monotonic() < deadline, "the fixed page never came back"
            time.sleep(0.2)


def test_drafts_are_previewed_only_on_this_computer(write_kb: WriteKB) -> None:
    from tests.test_site_cli import run

    root = write_kb(SITE_KB, SUPPORT_CONFIG)
    code, _, err = run("serve", "--root", str(root), "--drafts", "--host", "0.0.0.0")
    assert code == 2 and "127.0.0.1" in err
    with serving(root, "--no-search", "--drafts") as address:
        assert "QUOKKADRAFT" in fetch(address + "en/articles/new-policy/")


@pytest.mark.timeout(60)
def test_an_abandoned_rebuild_leaves_no_process_and_no_build_folder(write_kb: WriteKB,
                                                                   tmp_path: Path) -> None:
    root = write_kb(SITE_KB, SUPPORT_CONFIG)
    out = tmp_path / "site"
    rebuild = Rebuild(root, out, search=False, timeout=0.0)
    result = rebuild.result()
    assert result is not None and not result.built and "longer than" in result.failure
    assert not rebuild.process.is_alive()
    assert not list(tmp_path.glob(".site.building-*"))
    finished = Rebuild(root, out, search=False)
    deadline = time.monotonic() + 50
    while (done := finished.result()) is None:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert done.built and (out / "en" / "articles" / "add-printer" / "index.html").is_file()
