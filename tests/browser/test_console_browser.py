"""The agent console in a real browser: `kb server` on the bundled KB in a thread, driven through
Playwright in Debian's chromium. A call handled end to end with the keyboard, an escalation whose input
is first refused, copying the hand-over, resuming after a reload, continuing a path from the help site,
without JavaScript, in Dutch, and axe at 1280 and 390 px; screenshots under test-artifacts/."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import pytest

from kbengine.server.app import create_app
from tests.browser.conftest import SCREENSHOTS, Served, Tab
from tests.conftest import copy_bundled

pytestmark = pytest.mark.browser


@dataclass
class Console:
    url: str  # http://127.0.0.1:PORT/agent/
    token: str
    app: Any


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """`kb server` on a copy of the bundled KB, with one agent, on a free port of 127.0.0.1."""
    import uvicorn

    folder = tmp_path_factory.mktemp("console")
    root = copy_bundled(folder / "kb")
    app = create_app(root, f"sqlite:///{folder / 'desk.db'}", reload_interval=-1)
    token = app.state.users.add("ann", "agent")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the console's server did not start"
    yield Console(f"http://127.0.0.1:{port}/agent/", token, app)
    server.should_exit = True
    thread.join(timeout=10)


def sign_in(tab: Tab, console: Console) -> None:
    page = tab.page
    page.goto(console.url)
    page.wait_for_url("**/agent/sign-in**")
    # the token field takes the focus by itself; on a busy machine that can come after "load"
    page.wait_for_function("document.activeElement && document.activeElement.id === 'token'")
    page.keyboard.type(console.token)
    page.keyboard.press("Enter")
    page.wait_for_url(console.url)


def key(tab: Tab, pressed: str, then: str) -> None:
    """Press one key on the walk screen and wait for the step it leads to."""
    tab.page.keyboard.press(pressed)
    tab.page.locator("#step-title", has_text=then).wait_for(timeout=10_000)


def start_from_search(tab: Tab, words: str, title: str) -> None:
    """`/`, type, Tab to the tree's Start button, Enter: the keyboard only."""
    page = tab.page
    page.keyboard.press("/")
    page.keyboard.type(words, delay=20)
    start = page.get_by_role("button", name=f"Start walk: {title}")
    start.wait_for(timeout=10_000)  # answered as typed: no Enter pressed
    for _ in range(40):
        page.keyboard.press("Tab")
        if start.evaluate("button => button === document.activeElement"):
            break
    else:
        pytest.fail(f"Tab never reached the Start button of {title}")
    page.keyboard.press("Enter")
    page.wait_for_url("**/agent/walks/**")


def handover(tab: Tab, kind: str = "text") -> str:
    return str(tab.page.locator(f"#handover-{kind}").input_value())


def shot(tab: Tab, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(SCREENSHOTS / f"console-{name}.png"), full_page=True)


def test_a_call_to_a_solution_with_the_keyboard_and_a_copied_hand_over(browser: Any,
                                                                       console: Console) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  permissions=["clipboard-read", "clipboard-write"])
    tab = Tab(context.new_page())
    sign_in(tab, console)
    start_from_search(tab, "printer does not print", "Printer does not print")
    page = tab.page
    page.locator("#step-title", has_text="Which printer did you choose").wait_for()
    key(tab, "1", "Tap your badge on the printer")
    key(tab, "2", "cancel all jobs")
    assert page.locator(".breadcrumb li").all_inner_texts() == [
        "Which printer did you choose in the print window? — FollowMe",
        "Tap your badge on the printer. What happens? — My job is not in the list"]
    assert page.locator("#article-title").inner_text()  # the step's article in the side panel
    shot(tab, "step-1280")
    page.keyboard.press("n")
    page.keyboard.type("caller works from home today")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # Keep note
    page.locator(".notes li", has_text="caller works from home today").wait_for()
    key(tab, "1", "Does your job print now")
    key(tab, "1", "Your job printed")
    text = handover(tab)
    assert "Outcome: Solved" in text and "caller works from home today" in text and "**" not in text
    page.get_by_role("button", name="Copy plain text").click()
    page.get_by_text("Copied to the clipboard.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == text
    shot(tab, "solved-1280")
    context.close()
    assert tab.errors == []


def test_an_escalation_refuses_an_input_until_it_has_the_expected_form(tab: Tab, console: Console) -> None:
    sign_in(tab, console)
    start_from_search(tab, "printer does not print", "Printer does not print")
    page = tab.page
    key(tab, "1", "Tap your badge on the printer")
    key(tab, "1", "Go to another printer")
    key(tab, "1", "Did your job print on the other printer")
    key(tab, "1", "Escalate to Second line - Workplace hardware")
    tag = page.get_by_label("Asset tag on the front of the printer")
    assert "two letters and five digits, like AB12345" in page.locator("#form-asset_tag").inner_text()
    tag.fill("12345")
    page.get_by_text("This does not have the expected form yet.").wait_for()  # checked as typed
    assert tag.get_attribute("aria-invalid") == "true"
    page.get_by_label("Building and room of the printer").fill("B2 3.14")
    page.get_by_role("button", name="Hand over").click()
    page.locator("#problem", has_text="does not have the expected form").wait_for()  # refused
    # the browser logs the refusal's status (422) as an error: that one is expected here
    assert [error for error in tab.errors if "422" in error and "/input" in error]
    tab.errors[:] = [error for error in tab.errors if not ("422" in error and "/input" in error)]
    shot(tab, "refused-1280")
    tag = page.get_by_label("Asset tag on the front of the printer")
    assert tag.evaluate("input => input === document.activeElement")  # the field to correct has the focus
    tag.fill("PR04512")
    page.get_by_text("This has the expected form.").wait_for()
    page.get_by_role("button", name="Hand over").click()
    page.locator("#handover-text").wait_for()
    page.get_by_label("Ticket reference", exact=True).fill("INC0012345")
    page.get_by_role("button", name="Save ticket").click()
    page.wait_for_function("document.querySelector('#handover-text').value.includes('INC0012345')")
    text = handover(tab)
    assert "Outcome: Escalated to Second line - Workplace hardware, priority P3" in text
    assert "- asset_tag: PR04512" in text and "- location: B2 3.14" in text
    assert "**Outcome:**" in handover(tab, "markdown")
    shot(tab, "escalated-1280")


def test_a_call_resumes_after_a_reload_and_from_my_recent_calls(tab: Tab, console: Console) -> None:
    sign_in(tab, console)
    start_from_search(tab, "vpn", "VPN does not connect")
    page = tab.page
    first = page.locator("#step-title").inner_text()
    key(tab, "1", "")
    second = page.locator("#step-title").inner_text()
    assert second != first
    walk_url = page.url
    page.context.set_offline(True)  # the network goes: nothing is sent, the agent is told
    page.keyboard.press("1")
    page.get_by_text("You are offline: nothing was sent.").wait_for()
    assert page.locator("#step-title").inner_text() == second
    page.context.set_offline(False)
    page.reload()
    assert page.locator("#step-title").inner_text() == second
    page.goto(console.url)  # the tab was closed: the call is under my recent calls
    recent = page.locator(".calls li", has_text="Unfinished").first
    recent.get_by_role("link").click()
    page.wait_for_url(walk_url)
    assert page.locator("#step-title").inner_text() == second
    assert len(page.locator(".breadcrumb li").all()) == 1


def test_a_path_from_the_help_site_continues_in_the_console(tab: Tab, console: Console,
                                                           served: Served) -> None:
    page = tab.page
    page.goto(f"{served.url}en/fix/printer-not-printing/")
    for answer in ("FollowMe", "My job is not in the list"):
        with page.expect_navigation():  # an answer is a link to the next step's page: wait for it
            page.locator(f'a.answer[data-answer="{answer}"]').click()
    page.locator("#step-title").wait_for()
    body = unquote(page.locator('#contact a[data-contact="mail"]').get_attribute("href").split("body=", 1)[1])
    assert "Reference for the service desk: printer-not-printing:1.2" in body
    link = next(line for line in body.splitlines() if "kb-path=" in line)
    sign_in(tab, console)
    page.get_by_label("Link or reference from the caller’s message").fill(link)
    page.get_by_role("button", name="Continue the caller’s walk").click()
    page.wait_for_url("**/agent/walks/**")
    assert "cancel all jobs" in page.locator("#step-title").inner_text()
    assert page.locator(".breadcrumb li").all_inner_texts() == [
        "Which printer did you choose in the print window? — FollowMe",
        "Tap your badge on the printer. What happens? — My job is not in the list"]


def test_the_console_works_without_javascript(tab_without_js: Tab, console: Console) -> None:
    tab = tab_without_js
    page = tab.page
    page.goto(console.url)
    page.get_by_label("Your token").fill(console.token)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Search articles and trees").fill("printer does not print")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_role("button", name="Start walk: Printer does not print").click()
    page.get_by_role("button", name="FollowMe", exact=True).click()
    page.get_by_role("button", name="My job is not in the list").click()
    page.get_by_role("button", name="Done").click()
    page.get_by_role("button", name="Yes", exact=True).click()
    assert "Outcome: Solved" in handover(tab)
    assert page.get_by_role("button", name="Copy plain text").is_hidden()  # select and copy by hand


def test_a_dutch_tree_walks_in_dutch(tab: Tab, console: Console) -> None:
    sign_in(tab, console)
    start_from_search(tab, "printer drukt niet af", "Printer drukt niet af")
    page = tab.page
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.locator(".step-kind").inner_text().lower() == "vraag"
    assert page.get_by_text("Toetsen: 1-9 antwoord · b terug · n notitie · / zoeken").is_visible()
    key(tab, "1", "Houd je pas tegen de printer")
    key(tab, "b", "Welke printer heb je gekozen")


@pytest.mark.parametrize("width", [1280, 390])
def test_axe_finds_no_serious_or_critical_violations(browser: Any, console: Console, width: int) -> None:
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(viewport={"width": width, "height": 900})
    tab = Tab(context.new_page())
    page = tab.page
    page.goto(console.url)
    screens = {"sign-in": _violations(Axe(), page)}
    sign_in(tab, console)
    page.goto(console.url + "?q=printer")
    screens["home"] = _violations(Axe(), page)
    shot(tab, f"home-{width}")
    page.get_by_role("button", name="Start walk: Printer does not print").click()
    page.wait_for_url("**/agent/walks/**")
    screens["question"] = _violations(Axe(), page)
    shot(tab, f"question-{width}")
    for answer in ("1", "1", "1", "1"):
        page.locator(f'button[data-key="{answer}"]').click()
        page.wait_for_load_state()
    page.locator(".collect").wait_for()
    screens["escalation"] = _violations(Axe(), page)
    page.get_by_label("Asset tag on the front of the printer").fill("PR04512")
    page.get_by_label("Building and room of the printer").fill("B2")
    page.get_by_role("button", name="Hand over").click()
    page.locator("#handover-text").wait_for()
    screens["hand-over"] = _violations(Axe(), page)
    shot(tab, f"handover-{width}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing wider than the screen
    context.close()
    assert {name: found for name, found in screens.items() if found} == {}
    assert tab.errors == []


def _violations(axe: Any, page: Any) -> list[tuple[str, str, list[Any]]]:
    violations = axe.run(page).response["violations"]
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations
            if v["impact"] in ("serious", "critical")]

