"""The walk engine: answers, guards, actions, gotos, inputs, back, restart, replay; plus properties."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kbengine.compiler import graph_and_check
from kbengine.model import Answer, CollectField, Config, Escalation, Node, Tree
from kbengine.read.sources import load_tree
from kbengine.walk import events as events_module
from kbengine.walk.engine import Walk, WalkError, replay
from kbengine.walk.events import Event

PRINTER = """
title: Printer does not print
start: power
nodes:
  power:
    ask: Is the printer on?
    answers:
      "Yes": queue
      No, an error light is on: error-light
      It will not switch on:
        next: hardware
        set: {power_fault: true}
  queue:
    do: Cancel every job in the queue, then print a test page.
    next: printed
  printed:
    ask: Did the test page print?
    answers:
      "Yes": fixed
      "No": hardware
      Only on the old driver:
        next: fixed
        when: {power_fault: true}
  fixed:
    solved: The queue was blocked by a stuck job.
  hardware:
    escalate: {team: Workplace hardware, priority: P3}
    collect:
      - {name: asset_tag, prompt: Asset tag, pattern: '[A-Z]{2}\\d{5}'}
      - {name: room, prompt: Room}
  error-light:
    goto: error-codes#blinking
"""

ERROR_CODES = """
title: Printer error codes
start: colour
nodes:
  colour:
    ask: What colour is the light?
    answers: {Orange: blinking}
  blinking:
    audience: internal
    ask: Is the light blinking?
    answers: {"Yes": fixed, "No": fixed}
  fixed:
    solved: Cleared.
"""


def tree_from(text: str, path: str) -> Tree:
    tree, problems = load_tree(path, textwrap.dedent(text).encode())
    assert tree is not None, problems
    return tree


@pytest.fixture
def trees() -> dict[str, Tree]:
    return {"printer": tree_from(PRINTER, "trees/printer.yaml"),
            "error-codes": tree_from(ERROR_CODES, "trees/error-codes.yaml")}


def walk_of(trees: dict[str, Tree], tree_id: str = "printer", **options: Any) -> Walk:
    ticks = iter(range(10_000))
    return Walk(trees, tree_id, clock=lambda: f"2024-05-01T10:00:{next(ticks):02d}+00:00", **options)


def test_an_answer_moves_to_its_node_and_is_kept_in_the_path(trees: dict[str, Tree]) -> None:
    walk = walk_of(trees)
    walk.answer("Yes")
    assert walk.state.node == "queue"
    assert [(s.node, s.answer) for s in walk.state.path] == [("power", "Yes")]
    assert walk.state.path[0].prompt == "Is the printer on?"


def test_answers_match_ignoring_case_and_surrounding_spaces(trees: dict[str, Tree]) -> None:
    walk = walk_of(trees)
    walk.answer("  it WILL not switch on ")
    assert walk.state.node == "hardware"
    assert walk.state.path[0].answer == "It will not switch on"


def test_an_unknown_answer_is_refused_naming_the_valid_ones(trees: dict[str, Tree]) -> None:
    walk = walk_of(trees)
    with pytest.raises(WalkError) as caught:
        walk.answer("Maybe")
    assert caught.value.choices == ["Yes", "No, an error light is on", "It will not switch on"]
    assert '"No, an error light is on"' in str(caught.value)
    assert walk.state.node == "power" and walk.state.path == ()


def test_a_when_guard_hides_an_answer_until_its_fact_is_set(trees: dict[str, Tree]) -> None:
    walk = walk_of(trees)
    walk.answer("Yes")
    walk.confirm()
    assert [a.label for a in walk.choices()] == ["Yes", "No"]
    with pytest.raises(WalkError):
        walk.answer("Only on the old driver")
    walk.restart()
    walk.answer("It will not switch on")
    assert walk.state.facts == {"power_fault": True}


def test_a_do_step_moves_on_to_its_next_once_confirmed(trees: dict[str, Tree]) -> None:
    walk = walk_of(trees)
    walk.answer("Yes")
    with pytest.raises(WalkError):
        walk.answer("Yes")  # an action is confirmed, not answered
    walk.confirm()
    assert walk.state.node == "printed"
    assert walk.state.path[-1].answer == "done"


def test_a_goto_enters_the_other_tree_at_its_node_and_continues_there(trees: dict[str, Tree]) -> None:
    walk = walk_of(trees)
    walk.answer("No, an error light is on")
    assert (walk.state.tree, walk.state.node) == ("error-codes", "blinking")
    assert walk.state.path[-1].kind == "goto"
    walk.answer("Yes")  # the internal step is walked too: agents see everything
    assert walk.state.outcome == "solved"


def test_a_goto_to_a_whole_tree_starts_at_its_start() -> None:
    trees = {"a": Tree("a", "trees/a.yaml", "A", "go", {"go": Node("go", "goto", goto="b")}),
             "b": tree_from(ERROR_CODES, "trees/b.yaml")}
    walk = Walk(trees, "a")
    assert (walk.state.tree, walk.state.node) == ("b", "colour")


def test_reaching_a_solved_node_ends_the_walk(trees: dict[str, Tree]) -> None:
    walk = walk_of(trees)
    walk.answer("Yes")
    walk.confirm()
    walk.answer("Yes")
    assert walk.state.outcome == "solved" and walk.ended
    with pytest.raises(WalkError):
        walk.answer("Yes")


def test_an_escalation_asks_its_inputs_and_refuses_a_value_not_matching_the_pattern(
        trees: dict[str, Tree]) -> None:
    walk = walk_of(trees)
    walk.answer("It will not switch on")
    assert walk.pending_input().name == "asset_tag"
    with pytest.raises(WalkError):
        walk.provide("asset_tag", "AB12345 and more")  # the pattern must match the whole value
    assert walk.pending_input().name == "asset_tag"
    walk.provide("asset_tag", " AB12345 ")
    assert walk.state.outcome == "in_progress"
    walk.provide("room", "3.14")
    assert walk.state.outcome == "escalated"
    assert walk.state.inputs == {"asset_tag": "AB12345", "room": "3.14"}
    assert walk.snapshot()["escalation"] == {"team": "Workplace hardware", "priority": "P3", "reason": ""}


def test_back_restores_the_earlier_state_facts_and_inputs_included(trees: dict[str, Tree]) -> None:
    walk = walk_of(trees)
    before = walk.state
    walk.answer("It will not switch on")
    walk.provide("asset_tag", "AB12345")
    walk.back()
    assert walk.state.inputs == {}
    walk.back()
    assert walk.state == before and walk.state.facts == {}


def test_back_to_an_earlier_step_lets_the_agent_change_that_answer(trees: dict[str, Tree]) -> None:
    walk = walk_of(trees)
    walk.answer("Yes")
    walk.confirm()
    walk.answer("No")
    walk.back(walk.stop_before(0))
    assert walk.state.node == "power" and walk.state.path == ()
    walk.answer("It will not switch on")
    assert walk.state.node == "hardware"


def test_back_at_the_first_step_is_refused(trees: dict[str, Tree]) -> None:
    with pytest.raises(WalkError):
        walk_of(trees).back()


def test_restart_clears_facts_but_keeps_notes(trees: dict[str, Tree]) -> None:
    walk = walk_of(trees)
    walk.answer("It will not switch on")
    walk.note("Caller is in room 3.14")
    walk.restart()
    assert walk.state == walk.initial and walk.history == []
    assert [n.text for n in walk.notes] == ["Caller is in room 3.14"]


def test_abandon_ends_the_walk_and_reopen_continues_it(trees: dict[str, Tree]) -> None:
    walk = walk_of(trees)
    walk.answer("Yes")
    walk.abandon()
    assert walk.state.outcome == "abandoned"
    walk.reopen()
    walk.confirm()
    assert walk.state.node == "printed"


def test_every_action_is_reported_as_an_event_with_what_changed(trees: dict[str, Tree]) -> None:
    events: list[Event] = []
    walk = walk_of(trees, listener=events.append)
    walk.answer("It will not switch on")
    walk.note("test page jammed")
    assert [e.name for e in events] == ["answer", "note"]
    answer = events[0]
    assert isinstance(answer, events_module.Answer) and answer.arrival is not None
    assert (answer.node, answer.answer) == ("power", "It will not switch on")
    assert (answer.arrival.position.node, answer.arrival.facts) == ("hardware", {"power_fault": True})
    assert answer.state is None  # format 2: not the whole state


def test_the_state_rebuilt_from_events_is_the_state_the_engine_shows(trees: dict[str, Tree]) -> None:
    walk = walk_of(trees)
    events: list[Event] = [events_module.Start(at="2024-05-01T10:00:00+00:00", session="s", tree="printer",
                                               arrival=walk.start_arrival())]
    walk.listener = events.append
    walk.answer("Yes")
    walk.confirm()
    walk.back()
    walk.note("paper jam")
    walk.confirm()
    walk.answer("No")
    walk.provide("asset_tag", "AB12345")
    rebuilt = events_module.replay([events_module.parse_event(events_module.event_data(e)) for e in events])
    shown = walk.snapshot()
    for key in ("tree", "node", "kind", "prompt", "outcome", "path", "facts", "inputs", "notes",
                "escalation"):
        assert rebuilt.state[key] == shown[key], key


def test_replaying_the_events_rebuilds_the_same_state(trees: dict[str, Tree]) -> None:
    events: list[Event] = []
    walk = walk_of(trees, listener=events.append)
    walk.answer("Yes")
    walk.confirm()
    walk.back()
    walk.confirm()
    walk.note("ok")
    walk.answer("No")
    walk.provide("asset_tag", "AB12345")
    again, problems = replay(trees, "printer", events)
    assert problems == []
    assert again.state == walk.state and again.notes == walk.notes
    assert again.history == walk.history


def test_replay_stops_where_a_changed_tree_no_longer_fits(trees: dict[str, Tree]) -> None:
    events: list[Event] = []
    walk = walk_of(trees, listener=events.append)
    walk.answer("Yes")
    walk.confirm()
    walk.answer("No")
    changed = dict(trees, printer=tree_from(PRINTER.replace('"No": hardware', '"Not at all": hardware'),
                                            "trees/printer.yaml"))
    again, problems = replay(changed, "printer", events)
    assert again.state.node == "printed"
    assert len(problems) == 1 and "no longer applies" in problems[0]


def test_a_missing_next_node_is_refused_and_the_state_is_unchanged() -> None:
    tree = Tree("t", "trees/t.yaml", "T", "q", {
        "q": Node("q", "ask", "Q?", answers=[Answer("Go", "nowhere")])})
    walk = Walk({"t": tree}, "t")
    with pytest.raises(WalkError, match="nowhere"):
        walk.answer("Go")
    assert walk.state.node == "q" and walk.history == []


def test_gotos_in_a_circle_are_refused() -> None:
    tree = Tree("t", "trees/t.yaml", "T", "g", {"g": Node("g", "goto", goto="t#g")})
    with pytest.raises(WalkError, match="circle"):
        Walk({"t": tree}, "t")


# Properties over generated trees

PATTERNS = [(None, "anything"), (r"\d{3}", "123"), (r"[A-Z]{2}\d{2}", "AB12")]


@st.composite
def knowledge_bases(draw: st.DrawFn, *, broken: bool, guards: bool) -> dict[str, Tree]:
    """1-3 trees. Not broken: every ask has a forward answer, the last node is an end and gotos
    only go to earlier trees, so most pass kb check. Broken: targets may not exist."""
    trees: dict[str, Tree] = {}
    for index in range(draw(st.integers(1, 3))):
        tree_id = f"t{index}"
        count = draw(st.integers(1, 7))
        ids = [f"n{i}" for i in range(count)]
        nodes: dict[str, Node] = {}
        for i, node_id in enumerate(ids):
            last = i == count - 1
            kinds = ["solved", "escalate"] if last else ["ask", "ask", "do", "solved", "escalate"]
            if trees and not last:
                kinds.append("goto")
            kind = draw(st.sampled_from(kinds))

            def target(forward: bool, i: int = i, ids: list[str] = ids) -> str:
                if broken and draw(st.integers(0, 5)) == 0:
                    return "missing"
                return ids[draw(st.integers(i + 1 if forward else 0, len(ids) - 1))]

            node = Node(node_id, kind, prompt=f"{tree_id}/{node_id}")
            if kind == "ask":
                for a in range(draw(st.integers(1, 3))):
                    when = ({"f": draw(st.sampled_from(["x", "y"]))}
                            if guards and a and draw(st.booleans()) else {})
                    setting = ({"f": draw(st.sampled_from(["x", "y"]))}
                               if guards and draw(st.booleans()) else {})
                    node.answers.append(Answer(f"a{a}", target(a == 0), set=setting, when=when))
            elif kind == "do":
                node.next = target(True)
            elif kind == "goto":
                other = trees[draw(st.sampled_from(sorted(trees)))]
                goto_node = draw(st.sampled_from([None, *other.nodes]))
                node.goto = other.id + (f"#{goto_node}" if goto_node else "")
                if broken and draw(st.integers(0, 5)) == 0:
                    node.goto = "missing-tree"
            elif kind == "escalate":
                node.escalation = Escalation("Second line")
                for c in range(draw(st.integers(0, 2))):
                    node.collect.append(CollectField(f"c{c}", f"Input {c}",
                                                     draw(st.sampled_from(PATTERNS))[0]))
            nodes[node_id] = node
        trees[tree_id] = Tree(tree_id, f"trees/{tree_id}.yaml", tree_id,
                              "missing" if broken and draw(st.integers(0, 9)) == 0 else "n0", nodes)
    return trees


ACTIONS = st.lists(st.one_of(st.tuples(st.just("answer"), st.integers(0, 3)),
                             st.tuples(st.just("confirm"), st.just(0)),
                             st.tuples(st.just("provide"), st.integers(0, 1)),
                             st.tuples(st.just("back"), st.just(0)),
                             st.tuples(st.just("restart"), st.just(0))), max_size=25)


def act(walk: Walk, action: tuple[str, int]) -> None:
    """One action of a random agent; it may be refused (WalkError)."""
    name, number = action
    if name == "answer":
        labels = [a.label for a in walk.node.answers]
        walk.answer(labels[number % len(labels)] if labels else "a0")
    elif name == "confirm":
        walk.confirm()
    elif name == "provide":
        item = walk.pending_input()
        pattern = item.pattern if item else None
        walk.provide(item.name if item else "c0",
                     next(s for p, s in PATTERNS if p == pattern) if number else "not valid!")
    elif name == "back":
        walk.back()
    else:
        walk.restart()


def attempt(walk: Walk, action: tuple[str, int]) -> bool:
    """Act; False when the engine refused the action."""
    try:
        act(walk, action)
    except WalkError:
        return False
    return True


def start(trees: dict[str, Tree]) -> Walk:
    try:
        return Walk(trees, sorted(trees)[-1])
    except WalkError:
        assume(False)
        raise


@given(knowledge_bases(broken=True, guards=True), ACTIONS)
@settings(max_examples=300, deadline=None)
def test_property_a_walk_never_reaches_a_missing_node(trees: dict[str, Tree],
                                                      actions: list[tuple[str, int]]) -> None:
    walk = start(trees)
    for action in actions:
        attempt(walk, action)
        assert walk.state.tree in trees
        assert walk.state.node in trees[walk.state.tree].nodes
        assert walk.node.kind != "goto"  # gotos are always followed through


@given(knowledge_bases(broken=True, guards=True), ACTIONS)
@settings(max_examples=300, deadline=None)
def test_property_back_after_a_step_restores_the_exact_state(trees: dict[str, Tree],
                                                             actions: list[tuple[str, int]]) -> None:
    walk = start(trees)
    for action in actions:
        before, history = walk.state, list(walk.history)
        try:
            act(walk, action)
        except WalkError:
            assert walk.state == before  # a refused action changes nothing
            continue
        if action[0] in ("answer", "confirm", "provide"):
            walk.back()
            assert walk.state == before and walk.history == history
            act(walk, action)  # and take the step again, to walk on


@given(knowledge_bases(broken=True, guards=True), ACTIONS)
@settings(max_examples=300, deadline=None)
def test_property_the_state_rebuilt_from_the_record_is_the_engines_state(
        trees: dict[str, Tree], actions: list[tuple[str, int]]) -> None:
    walk = start(trees)
    recorded: list[Event] = [events_module.Start(at=walk.started_at, session="s", tree=walk.tree_id,
                                                 arrival=walk.start_arrival())]
    walk.listener = recorded.append
    for number, action in enumerate(actions):
        attempt(walk, action)
        if number % 3 == 2:
            walk.note(f"note {number}")
    lines = [json.dumps(events_module.event_data(event)) for event in recorded]
    written = [events_module.parse_event(json.loads(line)) for line in lines]
    rebuilt = events_module.replay(written).state
    shown = walk.snapshot()
    for key in ("tree", "node", "kind", "prompt", "outcome", "path", "facts", "inputs", "notes"):
        assert rebuilt[key] == shown[key], key
    assert rebuilt.get("escalation") == shown.get("escalation")


def can_reach_an_end(walk: Walk, seen: set[tuple[str, str, int]]) -> bool:
    """Depth-first over every action the agent could take, undoing each with back."""
    if walk.ended:
        return True
    key = (walk.state.tree, walk.state.node, len(walk.state.inputs))
    if key in seen:
        return False
    seen.add(key)
    node = walk.node
    moves: list[tuple[str, int]] = ([("answer", i) for i in range(len(node.answers))]
                                    + [("confirm", 0), ("provide", 1)])
    for move in moves:
        if not attempt(walk, move):
            continue
        found = can_reach_an_end(walk, seen)
        walk.back()  # leave the walk as it was
        if found:
            return True
    return False


@given(knowledge_bases(broken=False, guards=False), ACTIONS)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
def test_property_every_walk_of_a_tree_that_passes_kb_check_can_reach_an_end(
        trees: dict[str, Tree], actions: list[tuple[str, int]]) -> None:
    _, diagnostics = graph_and_check(Config(), {}, trees, [])
    assume(not [d for d in diagnostics if d.severity == "error"])
    walk = start(trees)
    for action in actions:
        attempt(walk, action)
        assert can_reach_an_end(walk, set())
