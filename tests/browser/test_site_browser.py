"""The built help site in a real browser: search, troubleshooters with and without JavaScript,
the contact panel carrying the path, accessibility, and screenshots for people to look at."""

from __future__ import annotations

import json
from collections import deque
from urllib.parse import unquote

import pytest

from kbengine.model import Tree
from tests.browser.conftest import SCREENSHOTS, Served, Tab

pytestmark = pytest.mark.browser
DONE = "Done, next step"


def walk_to(tree: Tree, goal: str) -> list[tuple[str, str]] | None:
    """(step prompt, answer label) clicks from the start to the nearest public `goal` step
    ("solved", "escalate" or "handoff": an answer into an internal step), honouring guards."""
    queue = deque([(tree.start, (), ())])
    seen = set()
    while queue:
        node_id, facts, path = queue.popleft()
        node = tree.nodes.get(node_id)
        if node is None or (node_id, facts) in seen or node.kind == "goto":
            continue
        seen.add((node_id, facts))
        if node.kind == goal and path:
            return list(path)
        known = dict(facts)
        exits = [(a.label, a.next, a.set) for a in node.answers if a.allowed(known)]
        if node.kind == "do" and node.next:
            exits = [("", node.next, {})]
        for label, target, sets in exits:
            step = ((node.prompt, label),)
            following = tree.nodes.get(target)
            if following is not None and following.audience != "public":
                if goal == "handoff":
                    return list(path + step)
                continue
            queue.append((target, tuple(sorted({**known, **sets}.items())), path + step))
    return None


def find_walk(served: Served, goal: str) -> tuple[Tree, list[tuple[str, str]]]:
    for tree in sorted(served.kb.trees.values(), key=lambda t: t.id):
        if tree.is_public and tree.lang == "en" and tree.nodes[tree.start].audience == "public":
            path = walk_to(tree, goal)
            if path and len(path) >= 2:
                return tree, path
    pytest.fail(f"the bundled KB has no English troubleshooter that ends in '{goal}'")


def click_through(tab: Tab, served: Served, tree: Tree, path: list[tuple[str, str]]) -> None:
    tab.page.goto(f"{served.url}en/fix/{tree.id}/")
    for _prompt, label in path:
        link = tab.page.locator(f"a.answer[data-answer={json.dumps(label or 'Done')}]")
        with tab.page.expect_navigation():
            link.click()


def mailto_body(tab: Tab) -> str:
    href = tab.page.locator('#contact a[data-contact="mail"]').get_attribute("href")
    return unquote(href.split("body=", 1)[1])


def search(tab: Tab, url: str, query: str) -> list[str]:
    tab.page.goto(url)
    tab.page.locator("#search-q").fill(query)
    tab.page.locator("#search-results a").first.wait_for(timeout=10_000)
    return [link.get_attribute("href") for link in tab.page.locator("#search-results a").all()]


def test_search_finds_a_known_article_in_english(tab: Tab, served: Served) -> None:
    article = served.kb.articles["connect-vpn"]
    links = search(tab, f"{served.url}en/search/", article.title)
    assert "/help/en/articles/connect-vpn/" in links
    assert all(link.startswith("/help/en/") for link in links)


def test_search_finds_a_known_article_in_dutch(tab: Tab, served: Served) -> None:
    article = served.kb.articles["wachtwoord-vergeten"]
    links = search(tab, f"{served.url}nl/search/", article.title)
    assert "/help/nl/articles/wachtwoord-vergeten/" in links
    assert all(link.startswith("/help/nl/") for link in links)


def test_the_header_search_shows_results_as_you_type(tab: Tab, served: Served) -> None:
    tab.page.goto(f"{served.url}en/articles/connect-vpn/")
    tab.page.locator("#q").press_sequentially("printer", delay=30)
    result = tab.page.locator("#q-results a").first
    result.wait_for(timeout=10_000)
    assert result.get_attribute("href").startswith("/help/en/")
    tab.page.locator("#q").press("Enter")
    tab.page.wait_for_url("**/help/en/search/?q=printer")
    tab.page.locator("#search-results a").first.wait_for(timeout=10_000)


def test_a_troubleshooter_walked_to_a_solution(tab: Tab, served: Served) -> None:
    tree, path = find_walk(served, "solved")
    click_through(tab, served, tree, path)
    assert tab.page.locator(".step-kind").inner_text().lower() == "solved"
    shown = tab.page.locator("[data-path] li").all_inner_texts()
    assert len(shown) == len(path)
    assert all(label in line for line, (_, label) in zip(shown, path, strict=True))


def test_an_escalation_contact_panel_carries_the_path_taken(tab: Tab, served: Served) -> None:
    tree, path = find_walk(served, "escalate")
    click_through(tab, served, tree, path)
    assert "step-escalate" in tab.page.locator("section.step").get_attribute("class")
    body = mailto_body(tab)
    for number, (prompt, label) in enumerate(path, start=1):
        line = f"{number}. {prompt} - {label}" if label else f"{number}. {prompt}"
        assert line in body
    assert tree.title in body
    ticket = unquote(tab.page.locator('#contact a[data-contact="ticket"]').get_attribute("href"))
    assert f"{path[0][0]} - {path[0][1]}" in ticket


def test_going_back_shortens_the_path(tab: Tab, served: Served) -> None:
    tree, path = find_walk(served, "solved")
    click_through(tab, served, tree, path)
    tab.page.go_back()
    tab.page.reload()
    assert len(tab.page.locator("[data-path] li").all()) == len(path) - 1


def test_the_same_troubleshooter_works_without_javascript(tab_without_js: Tab, served: Served) -> None:
    tree, path = find_walk(served, "solved")
    click_through(tab_without_js, served, tree, path)
    assert tab_without_js.page.locator(".step-kind").inner_text().lower() == "solved"
    tree, path = find_walk(served, "handoff")
    click_through(tab_without_js, served, tree, path)
    prompt, label = path[-1]
    assert f"{prompt} - {label}" in mailto_body(tab_without_js)  # the desk still gets the step


@pytest.mark.parametrize("tree_id", ["cannot-sign-in", "wifi-not-connecting"])
def test_guarded_troubleshooters_without_javascript_show_only_allowed_answers(
        tab_without_js: Tab, served: Served, tree_id: str) -> None:
    """Follow every answer link from the first step, tracking the facts the answers set; each
    question shows exactly the answers whose `when` guard those facts allow."""
    page, trees = tab_without_js.page, served.kb.trees
    read = {name for tree in trees.values() for node in tree.nodes.values()
            for answer in node.answers for name in answer.when}  # a fact no guard reads changes no page
    queue: deque[tuple[str, dict[str, object]]] = deque([(f"{served.url}en/fix/{tree_id}/", {})])
    seen: set[tuple[str, str]] = set()
    hidden_somewhere = False
    while queue:
        url, known = queue.popleft()
        key = (url, json.dumps({k: v for k, v in known.items() if k in read}, sort_keys=True))
        if key in seen or "/contact-" in url:
            continue  # a hand-over page has no answers
        seen.add(key)
        page.goto(url, wait_until="domcontentloaded")
        tree, node_id = page.locator("[data-step]").get_attribute("data-step").split("#")
        node = trees[tree].nodes[node_id]
        links = page.locator("a.answer").evaluate_all(  # one round trip; works with scripts off
            "links => links.map(a => [a.dataset.answer, a.getAttribute('href'), a.checkVisibility()])")
        assert all(visible for _, _, visible in links)
        shown = [label for label, _, _ in links]
        if node.kind == "ask":
            assert shown == [a.label for a in node.answers if a.allowed(known)], (url, known)
            hidden_somewhere |= len(shown) < len(node.answers)
        for label, href, _ in links:
            answer = next((a for a in node.answers if a.label == label), None)
            target = served.url.split("/help/")[0] + href
            queue.append((target, {**known, **(answer.set if answer else {})}))
    assert hidden_somewhere and len(seen) > 5


def test_with_javascript_state_pages_keep_the_path_and_hide_nothing_twice(tab: Tab, served: Served) -> None:
    tree = served.kb.trees["wifi-not-connecting"]
    mac = [(tree.nodes["device"].prompt, "Company MacBook"), ("", "Yes, only I have a problem"), ("", "")]
    click_through(tab, served, tree, mac)
    assert tab.page.url.endswith("/wifi-not-connecting/symptom/os-mac/")
    shown = [a.get_attribute("data-answer") for a in tab.page.locator("a.answer").all() if a.is_visible()]
    assert shown == [a.label for a in tree.nodes["symptom"].answers if a.allowed({"os": "mac"})]
    assert len(tab.page.locator("[data-path] li").all()) == 3
    tab.page.go_back()
    tab.page.reload()
    assert len(tab.page.locator("[data-path] li").all()) == 2


def test_no_console_errors_on_any_page_kind(tab: Tab, served: Served) -> None:
    tree, _path = find_walk(served, "escalate")
    for url in ("", "en/", "nl/", "en/articles/connect-vpn/", "en/a-z/", "en/search/?q=vpn",
                f"en/fix/{tree.id}/", "en/categories/network/", "nl/articles/wachtwoord-vergeten/"):
        tab.page.goto(served.url + url)
        tab.page.wait_for_load_state("networkidle")
    assert tab.errors == []


@pytest.mark.parametrize("url", ["en/", "en/articles/connect-vpn/", "fix", "nl/"])
def test_axe_finds_no_serious_or_critical_violations(tab: Tab, served: Served, url: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    if url == "fix":
        tree, _ = find_walk(served, "solved")
        url = f"en/fix/{tree.id}/"
    tab.page.goto(served.url + url)
    violations = Axe().run(tab.page).response["violations"]
    serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations
               if v["impact"] in ("serious", "critical")]
    assert serious == []


@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots_of_the_main_pages(browser: object, served: Served, width: int) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tree, path = find_walk(served, "escalate")
    context = browser.new_context(viewport={"width": width, "height": 900})  # type: ignore[attr-defined]
    tab = Tab(context.new_page())
    pages = {"home": "en/", "article": "en/articles/connect-vpn/", "step": f"en/fix/{tree.id}/",
             "home-nl": "nl/", "search": "en/search/?q=printer"}
    for name, url in pages.items():
        tab.page.goto(served.url + url)
        tab.page.wait_for_load_state("networkidle")
        target = SCREENSHOTS / f"{name}-{width}.png"
        tab.page.screenshot(path=str(target), full_page=True)
        assert target.stat().st_size > 5_000
        overflow = tab.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways at {width} px"
    click_through(tab, served, tree, path)
    tab.page.screenshot(path=str(SCREENSHOTS / f"escalation-{width}.png"), full_page=True)
    context.close()
    assert tab.errors == []
