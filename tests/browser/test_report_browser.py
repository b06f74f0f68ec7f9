"""The dashboard (`kb report --format html`) in chromium: the planted recurring problem first,
nothing fetched, a table under every chart, no serious accessibility violations, and it prints."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_report_recurring import record

from kbengine.cli import cli
from kbengine.compiler import compile_kb
from kbengine.site import build_site
from kbengine.site.server import make_server, serve_in_thread
from tests.browser.conftest import SCREENSHOTS, Tab
from tests.conftest import copy_bundled

END = datetime.fromisoformat("2026-05-29T00:00:00+02:00")


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled KB with a calm month of walks and a printer that failed four times this morning."""
    root = copy_bundled(tmp_path_factory.mktemp("dashboard"))
    folder = root / "sessions"
    with (root / "kb.yaml").open("a") as config:
        config.write("sessions: sessions\n")
    for day in range(1, 29):
        for slot, (tree, outcome, node) in enumerate([("cannot-sign-in", "solved", "keyboard"),
                                                      ("printer-not-printing", "escalated", "escalate-queue"),
                                                      ("cannot-sign-in", "abandoned", "retry")]):
            record(folder, f"calm{day:02d}{slot}", END - timedelta(days=day, hours=slot), tree, outcome, node)
    for hour in range(4):
        record(folder, f"spike{hour}", END - timedelta(hours=4 - hour), "printer-not-printing", "escalated",
               "report-printer", {"asset_tag": "PR40404", "location": "B2 room 1.14"})
    output = root / "report.html"
    result = CliRunner().invoke(cli, ["report", "--root", str(root), "--format", "html", "-o", str(output)])
    assert result.exit_code == 0, result.output
    return output


def test_the_dashboard_shows_the_planted_recurring_problem_first(tab: Tab, dashboard: Path) -> None:
    requests: list[str] = []
    tab.page.on("request", lambda request: requests.append(request.url))  # type: ignore[attr-defined]
    tab.page.goto(dashboard.as_uri())  # type: ignore[attr-defined]
    headings = tab.page.locator("h2").all_inner_texts()  # type: ignore[attr-defined]
    assert headings[0] == "Recurring problems"
    first_row = tab.page.locator("section.alert tbody tr").first.inner_text()  # type: ignore[attr-defined]
    assert "asset_tag: PR40404" in first_row and "spike0" in first_row
    assert requests == [dashboard.as_uri()]  # self-contained: nothing else is fetched
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(SCREENSHOTS / "report-dashboard.png"), full_page=True)  # type: ignore[attr-defined]


def test_every_chart_has_a_table_and_is_hidden_from_screen_readers(tab: Tab, dashboard: Path) -> None:
    tab.page.goto(dashboard.as_uri())  # type: ignore[attr-defined]
    figures = tab.page.evaluate("""() => [...document.querySelectorAll('figure')].map(f => ({
        hidden: f.querySelector('svg').getAttribute('aria-hidden'),
        table: !!f.closest('section').querySelector('table caption')}))""")  # type: ignore[attr-defined]
    assert len(figures) >= 8
    assert all(figure == {"hidden": "true", "table": True} for figure in figures)
    titles = tab.page.locator("h2").all_inner_texts()  # type: ignore[attr-defined]
    assert "Articles used in walks" in titles and "Content that needs a writer" in titles


def test_axe_finds_no_serious_violations_on_the_dashboard(tab: Tab, dashboard: Path) -> None:
    from axe_playwright_python.sync_playwright import Axe

    tab.page.goto(dashboard.as_uri())  # type: ignore[attr-defined]
    violations = Axe().run(tab.page).response["violations"]
    assert [(v["id"], v["impact"]) for v in violations if v["impact"] in ("serious", "critical")] == []


def test_the_dashboard_prints_with_its_charts(tab: Tab, dashboard: Path) -> None:
    tab.page.goto(dashboard.as_uri())  # type: ignore[attr-defined]
    tab.page.emulate_media(media="print")  # type: ignore[attr-defined]
    assert tab.page.locator("svg").first.is_visible()  # type: ignore[attr-defined]
    pdf = tab.page.pdf(format="A4")  # type: ignore[attr-defined]
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    (SCREENSHOTS / "report-dashboard.pdf").write_bytes(pdf)


def test_a_search_that_finds_nothing_is_sent_to_kb_server_once_typing_stops(
        tab: Tab, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The site of a KB with server_url: the search page posts the query that found nothing (and
    nothing for a query that found something) as a plain form body to the feedback endpoint."""
    root = copy_bundled(tmp_path_factory.mktemp("beacon"))
    with (root / "kb.yaml").open("a") as config:
        config.write("server_url: https://desk.example.org\n")
    build_site(compile_kb(root), root / "site")
    server = make_server(root / "site", "/", port=0)
    serve_in_thread(server)
    sent: list[str] = []

    def capture(route: object) -> None:
        sent.append(route.request.post_data or "")  # type: ignore[attr-defined]
        route.fulfill(status=201, body="")  # type: ignore[attr-defined]

    try:
        tab.page.route("https://desk.example.org/**", capture)  # type: ignore[attr-defined]
        host, port = server.server_address[:2]
        tab.page.goto(f"http://{host}:{port}/en/search/")  # type: ignore[attr-defined]
        field = tab.page.locator("#search-ui input")  # type: ignore[attr-defined]
        field.fill("printer")
        tab.page.wait_for_timeout(2600)  # type: ignore[attr-defined]
        field.fill("zzqxv flurbomatic")
        tab.page.wait_for_timeout(3000)  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
    assert sent == ["kind=search&query=zzqxv+flurbomatic"]
