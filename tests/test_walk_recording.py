"""The click-free walk services: start, drive and describe a recorded walk (kbengine/walk/recording.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kbengine.compiler import compile_kb
from kbengine.kb import KnowledgeBase
from kbengine.walk.engine import WalkError
from kbengine.walk.recording import (
    open_sessions,
    open_walk,
    resume_walk,
    run_scripted,
    start_walk,
    walk_state,
)
from kbengine.walk.store import SessionError, SessionStore

TREE = """
    title: Printer does not print
    start: power
    nodes:
      power:
        ask: Is the printer on?
        text: Look for the **green** light next to the [power button](https://example.org/p).
        article: status-lights
        answers:
          "Yes": fixed
          "No": hardware
      fixed:
        solved: It printed.
      hardware:
        escalate: {team: Workplace hardware, priority: P3}
        collect:
          - {name: asset_tag, prompt: Asset tag, pattern: '^[A-Z]{2}\\d{5}$'}
    """

ARTICLE = """
    ---
    title: Printer status lights
    summary: What each light on the printer means.
    ---
    Green is fine.
    """


@pytest.fixture
def kb(write_kb: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> KnowledgeBase:
    monkeypatch.setenv("KB_SESSIONS", str(tmp_path / "sessions"))
    return compile_kb(write_kb({"trees/printer.yaml": TREE, "articles/printing/status-lights.md": ARTICLE}))


@pytest.fixture
def store(kb: KnowledgeBase) -> SessionStore:
    return open_sessions(kb)


def test_the_walk_state_describes_the_step_for_an_integration(kb: KnowledgeBase, store: SessionStore) -> None:
    recorded = start_walk(kb, store, "printer")
    state = walk_state(recorded)
    recorded.close()
    assert (state["kind"], state["prompt"], state["outcome"]) == ("ask", "Is the printer on?", "in_progress")
    assert state["text"]["markdown"].startswith("Look for the **green** light")
    assert state["text"]["plain"] == "Look for the green light next to the power button ."
    assert state["article"] == {"id": "status-lights", "title": "Printer status lights",
                                "summary": "What each light on the printer means."}
    assert state["answers"] == [{"number": 1, "label": "Yes"}, {"number": 2, "label": "No"}]
    assert state["breadcrumb"] == [] and "handover" not in state


def test_answers_may_be_given_by_number(kb: KnowledgeBase, store: SessionStore) -> None:
    recorded = start_walk(kb, store, "printer")
    state = run_scripted(recorded, ["2"], {})
    recorded.close()
    assert state["kind"] == "escalate"
    assert state["breadcrumb"] == [{"tree": "printer", "node": "power", "prompt": "Is the printer on?",
                                    "answer": "No"}]
    assert state["collect"] == [{"name": "asset_tag", "prompt": "Asset tag",
                                 "pattern": "^[A-Z]{2}\\d{5}$", "hint": None}]


def test_a_number_beyond_the_answers_is_refused_naming_them(kb: KnowledgeBase, store: SessionStore) -> None:
    recorded = start_walk(kb, store, "printer")
    state = run_scripted(recorded, ["3"], {})
    recorded.close()
    assert "'3' is not an answer" in state["error"] and "numbers 1-2" in state["error"]


def test_at_an_end_the_state_carries_the_hand_over(kb: KnowledgeBase, store: SessionStore) -> None:
    recorded = start_walk(kb, store, "printer", ticket="INC9")
    state = run_scripted(recorded, ["No"], {"asset_tag": "AB12345"})
    recorded.close()
    assert state["outcome"] == "escalated" and "waiting_for" not in state
    assert state["handover"]["ticket"] == "INC9"
    assert state["handover"]["inputs"] == {"asset_tag": "AB12345"}


def test_an_unknown_tree_is_a_walk_error_listing_the_trees(kb: KnowledgeBase, store: SessionStore) -> None:
    with pytest.raises(WalkError, match="no tree 'scanner'") as caught:
        start_walk(kb, store, "scanner")
    assert caught.value.choices == ["printer"]


def test_a_resumed_walk_continues_the_same_session(kb: KnowledgeBase, store: SessionStore) -> None:
    first = start_walk(kb, store, "printer")
    first.close()
    again = resume_walk(kb, store, first.session_id)
    state = run_scripted(again, ["Yes"], {})
    again.close()
    assert state["session"] == first.session_id and state["outcome"] == "solved"


def test_a_walk_opened_per_request_records_only_its_actions(kb: KnowledgeBase, store: SessionStore) -> None:
    first = start_walk(kb, store, "printer")
    first.close()
    for action in ("2", "AB12345"):
        recorded = open_walk(kb, store, first.session_id, agent="api")
        if action.isdigit():
            recorded.walk.answer(action)
        else:
            recorded.walk.provide("asset_tag", action)
        recorded.close()
    session = store.read(first.session_id)
    assert [e.name for e in session.events] == ["start", "answer", "input"]
    assert session.outcome == "escalated"


def test_a_walk_opened_to_be_shown_refuses_actions_and_holds_nothing(kb: KnowledgeBase,
                                                                     store: SessionStore) -> None:
    held = start_walk(kb, store, "printer")
    shown = open_walk(kb, store, held.session_id, hold=False)
    assert walk_state(shown)["prompt"] == "Is the printer on?"
    with pytest.raises(SessionError, match="opened to be shown"):
        shown.walk.answer("Yes")
    held.close()
    assert [e.name for e in store.read(held.session_id).events] == ["start"]


def test_a_format_1_record_is_resumed_and_goes_on_in_format_2(kb: KnowledgeBase, store: SessionStore,
                                                              tmp_path: Path) -> None:
    state = {"tree": "printer", "node": "hardware", "kind": "escalate", "prompt": "",
             "outcome": "in_progress",
             "path": [{"tree": "printer", "node": "power", "kind": "ask", "prompt": "Is the printer on?",
                       "answer": "No", "at": "2024-05-01T10:00:05+00:00"}],
             "facts": {}, "inputs": {}, "notes": [],
             "escalation": {"team": "Workplace hardware", "priority": "P3", "reason": ""}}
    lines = [{"event": "start", "format": 1, "session": "20240501-100000-old1",
              "at": "2024-05-01T10:00:00+00:00", "tree": "printer", "tree_title": "Printer does not print",
              "ticket": "INC5", "agent": "ann",
              "state": {**state, "node": "power", "kind": "ask", "path": [], "escalation": None}},
             {"event": "answer", "at": "2024-05-01T10:00:05+00:00", "tree": "printer", "node": "power",
              "answer": "No", "state": state}]
    (tmp_path / "sessions").mkdir()
    (tmp_path / "sessions" / "20240501-100000-old1.jsonl").write_text(
        "".join(json.dumps(line) + "\n" for line in lines))
    recorded = resume_walk(kb, store, "20240501-100000-old1")
    final = run_scripted(recorded, [], {"asset_tag": "AB12345"})
    recorded.close()
    assert final["outcome"] == "escalated" and final["handover"]["ticket"] == "INC5"
    session = store.read("20240501-100000-old1")
    assert [e.name for e in session.events] == ["start", "answer", "resume", "input"]
    assert session.state["inputs"] == {"asset_tag": "AB12345"} and session.outcome == "escalated"
    assert [step["answer"] for step in session.state["path"]] == ["No"]
