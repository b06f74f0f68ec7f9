"""Browser tests: the bundled KB built once under the sub-path /help/, served on 127.0.0.1, driven
in Debian's chromium through Playwright. Without chromium they skip, unless KB_REQUIRE_BROWSER=1."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kbengine.compiler import compile_kb
from kbengine.kb import KnowledgeBase
from kbengine.site import build_site
from kbengine.site.server import make_server, serve_in_thread
from tests.conftest import REPO, copy_bundled

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in item.nodeid:
            item.add_marker(pytest.mark.browser)


@dataclass
class Served:
    url: str  # e.g. http://127.0.0.1:43123/help/
    kb: KnowledgeBase


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The bundled KB with base_url /help/, built once and served on a free port."""
    root = copy_bundled(tmp_path_factory.mktemp("browser-kb"))
    config = (root / "kb.yaml").read_text("utf-8")
    (root / "kb.yaml").write_text(re.sub(r"(?m)^base_url:.*$", "base_url: /help/", config), "utf-8")
    kb = compile_kb(root)
    build_site(kb, root / "site")
    server = make_server(root / "site", "/help/", port=0)
    serve_in_thread(server)
    host, port = server.server_address[:2]
    yield Served(f"http://{host}:{port}/help/", kb)
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.is_file():
        message = f"{CHROMIUM} is missing: install Debian's chromium package to run the browser tests"
        if os.environ.get("KB_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield launched
        launched.close()


class Tab:
    """A page plus every console error and uncaught exception it produced."""

    def __init__(self, page: object) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(f"{m.text} ({m.location.get('url')})")  # type: ignore[attr-defined]
                if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))  # type: ignore[attr-defined]


def _tab(browser: object, **options: object) -> Iterator[Tab]:
    context = browser.new_context(**options)  # type: ignore[attr-defined]
    tab = Tab(context.new_page())
    yield tab
    context.close()
    assert not tab.errors, f"console errors: {tab.errors}"


@pytest.fixture
def tab(browser: object) -> Iterator[Tab]:
    """A fresh tab with JavaScript; the test fails on any console error."""
    yield from _tab(browser, viewport={"width": 1280, "height": 900})


@pytest.fixture
def tab_without_js(browser: object) -> Iterator[Tab]:
    yield from _tab(browser, java_script_enabled=False, viewport={"width": 1280, "height": 900})
