"""Troubleshooters honour `when` guards without JavaScript: a page per (step, facts) reached,
showing exactly the answers `kb walk` shows there."""

from __future__ import annotations

import html
import json
import re
from collections import deque
from pathlib import Path

import pytest

from kbengine.compiler import compile_kb
from kbengine.kb import KnowledgeBase
from kbengine.model import Answer, Node, Tree
from kbengine.site import build_site
from kbengine.site.states import facts_slug, plan_states
from kbengine.walk.engine import Walk
from tests.conftest import WriteKB
from tests.test_site_build import broken_links, page

GUARDED_KB = {
    "trees/printing.yaml": """\
        title: Cannot print
        start: os
        nodes:
          os:
            ask: Which computer do you use?
            answers:
              Windows: {next: symptom, set: {os: windows}}
              Mac: {next: symptom, set: {os: mac}}
              Not sure: symptom
          symptom:
            ask: What goes wrong?
            answers:
              Nothing prints: restart
              Restart Windows: {next: fixed, when: {os: windows}}
              Restart the Mac: {next: fixed, when: {os: [mac]}}
              Check the spooler: {next: spooler, when: {os: windows}}
              It shows a code: {next: codes, set: {seen_code: true}}
          restart:
            do: Switch the printer off and on.
            next: again
          again:
            ask: Does it print now?
            answers:
              "Yes": fixed
              Reinstall the Windows driver: {next: fixed, when: {os: windows}}
              "No": escalate
          spooler:
            do: Agents restart the spooler service.
            audience: internal
            next: fixed
          codes:
            goto: printer-codes
          fixed:
            solved: It prints again.
          escalate:
            escalate: {team: Second line}
            collect:
              - {name: asset_tag, prompt: Asset tag on the printer}
        """,
    "trees/printer-codes.yaml": """\
        title: Printer shows a code
        start: code
        nodes:
          code:
            ask: Which code?
            answers:
              E1: done
              Windows says offline: {next: done, when: {os: windows}}
              Other: done
          done:
            solved: Fixed.
        """,
    "trees/plain.yaml": """\
        title: Screen stays dark
        start: cable
        nodes:
          cable:
            ask: Is the cable in?
            answers:
              "Yes": {next: fixed, set: {cable: true}}
              "No": fixed
          fixed:
            solved: Fixed.
        """,
}

ANSWER_LINK = re.compile(r'<a class="answer[^"]*" href="([^"]+)"\s+data-answer="([^"]*)"')


def answers(site: Path, url: str) -> list[tuple[str, str]]:
    """(label, link) of every answer on a built step page."""
    return [(html.unescape(label), href) for href, label in ANSWER_LINK.findall(page(site, url))]


def labels(site: Path, url: str) -> list[str]:
    return [label for label, _ in answers(site, url)]


@pytest.fixture
def site(write_kb: WriteKB, tmp_path: Path) -> Path:
    build_site(compile_kb(write_kb(GUARDED_KB)), tmp_path / "site")
    return tmp_path / "site"


def test_a_state_page_shows_only_the_answers_its_facts_allow(site: Path) -> None:
    assert labels(site, "/en/fix/printing/symptom/os-windows/") == [
        "Nothing prints", "Restart Windows", "Check the spooler", "It shows a code"]
    assert labels(site, "/en/fix/printing/symptom/os-mac/") == [
        "Nothing prints", "Restart the Mac", "It shows a code"]


def test_the_page_without_facts_shows_the_answers_allowed_with_no_facts(site: Path) -> None:
    assert labels(site, "/en/fix/printing/symptom/") == ["Nothing prints", "It shows a code"]


def test_answers_link_to_the_page_for_the_facts_after_their_set(site: Path) -> None:
    assert dict(answers(site, "/en/fix/printing/")) == {
        "Windows": "/en/fix/printing/symptom/os-windows/",
        "Mac": "/en/fix/printing/symptom/os-mac/",
        "Not sure": "/en/fix/printing/symptom/"}
    windows = dict(answers(site, "/en/fix/printing/symptom/os-windows/"))
    assert windows["Nothing prints"] == "/en/fix/printing/restart/os-windows/"  # a guard still reads os
    assert windows["Restart Windows"] == "/en/fix/printing/fixed/"  # nothing after it reads os
    assert windows["Check the spooler"] == "/en/fix/printing/symptom/contact-4/"  # internal step
    assert dict(answers(site, "/en/fix/printing/restart/os-windows/")) == {
        "Done": "/en/fix/printing/again/os-windows/"}
    assert "Reinstall the Windows driver" in labels(site, "/en/fix/printing/again/os-windows/")
    assert "Reinstall the Windows driver" not in labels(site, "/en/fix/printing/again/os-mac/")


def test_facts_carry_through_a_goto_into_the_other_tree_as_in_kb_walk(site: Path) -> None:
    windows = dict(answers(site, "/en/fix/printing/symptom/os-windows/"))
    assert windows["It shows a code"] == "/en/fix/printer-codes/code/os-windows/"
    assert labels(site, "/en/fix/printer-codes/code/os-windows/") == ["E1", "Windows says offline", "Other"]
    assert dict(answers(site, "/en/fix/printing/symptom/"))["It shows a code"] == "/en/fix/printer-codes/"
    assert labels(site, "/en/fix/printer-codes/") == ["E1", "Other"]


def test_steps_where_no_guard_reads_a_fact_any_more_get_no_state_pages(site: Path) -> None:
    assert sorted(p.name for p in (site / "en/fix/printing/fixed").iterdir()) == ["index.html"]
    assert not (site / "en/fix/printing/os/").exists()  # the first step has no facts yet
    folder = site / "en/fix/plain"
    plain = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.html"))
    assert plain == ["fixed/index.html", "index.html"]  # sets cable, but no guard reads it


def test_state_pages_are_canonical_to_themselves_unlisted_and_not_indexed(site: Path) -> None:
    state = page(site, "/en/fix/printing/symptom/os-windows/")
    assert '<link rel="canonical" href="/en/fix/printing/symptom/os-windows/">' in state
    assert 'name="robots" content="noindex"' in state and "data-pagefind-body" not in state
    sitemap = (site / "sitemap.xml").read_text()
    assert "<loc>/en/fix/printing/</loc>" in sitemap and "os-windows" not in sitemap
    assert "data-pagefind-body" in page(site, "/en/fix/printing/")
    indexed = sum("data-pagefind-body" in p.read_text() for p in site.rglob("*.html"))
    entry = json.loads((site / "pagefind" / "pagefind-entry.json").read_text())
    assert entry["languages"]["en"]["page_count"] == indexed  # each step once in search


def test_the_escalation_panel_and_hand_overs_work_the_same_on_state_pages(site: Path) -> None:
    end = page(site, "/en/fix/printing/escalate/")
    assert "data-track-path" in end and "Asset tag on the printer" in end
    windows = page(site, "/en/fix/printing/symptom/os-windows/")
    assert 'id="contact"' in windows and "data-track-path" in windows
    handoff = page(site, "/en/fix/printing/symptom/contact-4/")
    assert "What%20goes%20wrong%3F%20-%20Check%20the%20spooler" in handoff
    assert "Agents restart the spooler" not in handoff
    assert broken_links(site) == set()


def test_a_question_with_no_answer_allowed_without_facts_says_to_start_again(write_kb: WriteKB,
                                                                             tmp_path: Path) -> None:
    tree = GUARDED_KB["trees/printing.yaml"]
    for old, new in (("Nothing prints: restart",
                      "Nothing prints: {next: restart, when: {os: [windows, mac]}}"),
                     ("Not sure: symptom", "Not sure: fixed"),
                     ("It shows a code: {next: codes, set: {seen_code: true}}",
                      "It shows a code: {next: fixed, when: {os: mac}}")):
        tree = tree.replace(old, new)
    files = {**GUARDED_KB, "trees/printing.yaml": tree}
    build_site(compile_kb(write_kb(files)), tmp_path / "site", search=False)
    empty = page(tmp_path / "site", "/en/fix/printing/symptom/")
    assert labels(tmp_path / "site", "/en/fix/printing/symptom/") == []
    assert "depend on your earlier answers" in empty and 'href="/en/fix/printing/" data-restart' in empty


def test_a_loop_back_to_the_first_step_with_facts_gets_its_own_page(write_kb: WriteKB,
                                                                     tmp_path: Path) -> None:
    loop = """\
        title: Loop
        start: q
        nodes:
          q:
            ask: Which one?
            answers:
              Windows: {next: tried, set: {os: windows}}
              Restart Windows: {next: done, when: {os: windows}}
              Give up: done
          tried:
            do: Try something.
            next: q
          done:
            solved: ok
        """
    site = tmp_path / "site"
    build_site(compile_kb(write_kb({"trees/loop.yaml": loop})), site, search=False)
    assert dict(answers(site, "/en/fix/loop/tried/os-windows/")) == {"Done": "/en/fix/loop/q/os-windows/"}
    assert labels(site, "/en/fix/loop/q/os-windows/") == ["Windows", "Restart Windows", "Give up"]
    assert labels(site, "/en/fix/loop/") == ["Windows", "Give up"]
    again = page(site, "/en/fix/loop/q/os-windows/")
    assert "data-pagefind-body" not in again and "data-restart" in again  # only the first visit is the start


def test_state_sub_paths_are_stable_and_never_clash() -> None:
    assert facts_slug({"os": "windows", "client": "new"}) == "client-new-os-windows"
    assert facts_slug({"phone_lost": True}) == "phone-lost-true"
    tree = Tree("t", "trees/t.yaml", "T", "q", nodes={
        "q": Node("q", "ask", "Which?", answers=[
            Answer("A", "r", set={"os": "Windows"}), Answer("B", "r", set={"os": "windows"}),
            Answer("C", "r", set={"contact": 1})]),
        "r": Node("r", "ask", "Then?", answers=[
            Answer("Yes", "end", when={"os": "windows"}), Answer("Any", "end", when={"contact": [1, 2]})]),
        "end": Node("end", "solved", "Done")})
    slugs = plan_states({"t": tree}).slugs[("t", "r")]
    names = [slug for slug in slugs.values() if slug]
    assert len(names) == 3 and len(set(names)) == 3
    assert all(re.fullmatch(r"[a-z0-9-]+", name) and not re.fullmatch(r"contact-\d+", name) for name in names)
    assert names == [slug for slug in plan_states({"t": tree}).slugs[("t", "r")].values() if slug]


def walk_site(site: Path, kb: KnowledgeBase, tree: Tree) -> int:
    """Follow every answer link from a tree's first page, walking `kb walk` alongside; assert each
    page shows the answers the walk offers there. Returns the number of pages checked."""
    trees = {i: t for i, t in kb.trees.items() if t.is_public}
    start = f"/{tree.lang}/fix/{tree.id}/"
    queue: deque[tuple[str, tuple[str, ...]]] = deque([(start, ())])
    seen: set[tuple[str, str]] = set()
    while queue:
        url, path = queue.popleft()
        walk = Walk(trees, tree.id)
        for label in path:
            if walk.node.kind == "do":
                walk.confirm()
            else:
                walk.answer(label)
        key = (url, json.dumps(sorted(walk.state.facts.items()), default=str))
        if key in seen or "/contact-" in url:
            continue
        seen.add(key)
        assert url.startswith(f"/{walk.tree.lang}/fix/{walk.tree.id}/"), (url, walk.state)
        shown = answers(site, url)
        if walk.node.kind == "ask":
            assert [label for label, _ in shown] == [a.label for a in walk.choices()], (url, path)
        for label, href in shown:
            queue.append((href, (*path, label)))
    return len(seen)


def test_every_page_reached_by_answering_offers_what_kb_walk_offers(site: Path, write_kb: WriteKB) -> None:
    kb = compile_kb(write_kb(GUARDED_KB))
    assert walk_site(site, kb, kb.trees["printing"]) >= 10


def test_bundled_guarded_trees_offer_what_kb_walk_offers(bundled_kb: KnowledgeBase, tmp_path: Path) -> None:
    build_site(bundled_kb, tmp_path / "site", search=False)
    guarded = [t for t in bundled_kb.trees.values() if t.is_public and
               any(a.when for node in t.nodes.values() for a in node.answers)]
    assert {"cannot-sign-in", "wifi-not-connecting"} <= {t.id for t in guarded}
    for tree in guarded:
        assert walk_site(tmp_path / "site", bundled_kb, tree) > 1
