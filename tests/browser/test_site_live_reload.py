"""`kb serve` in a real browser: an open page follows the writer's edits without being touched,
and shows the KB's errors while it is broken."""

from __future__ import annotations

from pathlib import Path

from kbengine.model import Diagnostic
from kbengine.site.server import PreviewState, make_server, serve_in_thread


def test_an_open_page_reloads_after_a_rebuild_and_shows_errors_while_broken(browser: object,
                                                                           tmp_path: Path) -> None:
    page_file = tmp_path / "en" / "articles" / "a" / "index.html"
    page_file.parent.mkdir(parents=True)
    page_file.write_text("<!doctype html><html lang='en'><body><h1>First draft</h1></body></html>")
    live = PreviewState()
    server = make_server(tmp_path, "/", port=0, live=live)
    serve_in_thread(server)
    context = browser.new_context()  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/en/articles/a/")
        page.wait_for_selector("text=First draft")
        page_file.write_text("<!doctype html><html lang='en'><body><h1>Second draft</h1></body></html>")
        live.rebuilt([])  # what kb serve does when a rebuild is done
        page.wait_for_selector("text=Second draft", timeout=10_000)
        live.rebuilt([Diagnostic("trees/printer.yaml", 7, 9, "KB404", "error",
                                 "answer 'Yes' leads to 'queu', which does not exist")])
        page.wait_for_selector("text=trees/printer.yaml:7:9", timeout=10_000)
        live.rebuilt([])
        page.wait_for_selector("text=Second draft", timeout=10_000)
    finally:
        context.close()
        live.close()
        server.shutdown()
        server.server_close()
