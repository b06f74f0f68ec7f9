"""The walk engine: a session's state machine over compiled trees. Pure: no I/O, no terminal.

A `Walk` holds the current `State` (tree, node, path, facts, inputs, outcome) and a snapshot
per stop, so `back` restores an earlier state exactly. Every action is reported to an
optional listener as a typed event (walk/events.py); replaying those events rebuilds the walk.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from kbengine.model import Answer, CollectField, Node, Tree, goto_entry
from kbengine.walk import events
from kbengine.walk.events import ENDED, OUTCOMES, Outcome

__all__ = ["OUTCOMES", "Outcome", "Walk", "WalkError", "drive", "replay"]

Listener = Callable[[events.Event], None]
Clock = Callable[[], str]


def local_now() -> str:
    """The current local time as ISO 8601 with its UTC offset."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


def quoted(labels: Iterable[str]) -> str:
    """Answer labels for a message: `"Yes", "No, an error light is on"` (labels may hold commas)."""
    return ", ".join(f'"{label}"' for label in labels)


class WalkError(Exception):
    """An action that does not apply at this step; `choices` lists what does."""

    def __init__(self, message: str, choices: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.choices = list(choices)


@dataclass(frozen=True, slots=True)
class Step:
    """One step taken: where the walk was and what the agent answered there."""

    tree: str
    node: str
    kind: str
    prompt: str
    answer: str | None  # the answer label; "done" for an action; None for a goto
    at: str

    def as_dict(self) -> dict[str, Any]:
        return {"tree": self.tree, "node": self.node, "kind": self.kind, "prompt": self.prompt,
                "answer": self.answer, "at": self.at}


@dataclass(frozen=True, slots=True)
class Note:
    text: str
    tree: str
    node: str
    at: str


@dataclass(frozen=True, slots=True)
class State:
    """Where a walk stands. Never changed in place: every action makes a new State."""

    tree: str
    node: str
    path: tuple[Step, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)
    inputs: Mapping[str, str] = field(default_factory=dict)
    outcome: Outcome = "in_progress"


def match_input(item: CollectField, value: str) -> bool:
    """An input matches when its pattern matches the whole value (re.fullmatch)."""
    return item.pattern is None or re.fullmatch(item.pattern, value) is not None


class Walk:
    """A walk through one tree (and the trees its gotos enter) for one caller."""

    def __init__(self, trees: Mapping[str, Tree], tree_id: str, *, clock: Clock = local_now,
                 listener: Listener | None = None) -> None:
        if tree_id not in trees:
            raise WalkError(f"there is no tree '{tree_id}'", sorted(trees))
        self.trees = trees
        self.tree_id = tree_id
        self.clock = clock
        self.listener = listener
        self.notes: list[Note] = []
        self.started_at = clock()
        self.initial = self._arrive(State(tree_id, trees[tree_id].start), self.started_at, set())
        self.state = self.initial
        self.history: list[State] = []  # the state at every earlier stop, oldest first

    # What the agent sees

    @property
    def tree(self) -> Tree:
        return self.trees[self.state.tree]

    @property
    def node(self) -> Node:
        return self.tree.nodes[self.state.node]

    @property
    def ended(self) -> bool:
        return self.state.outcome != "in_progress"

    def choices(self) -> list[Answer]:
        """The answers shown at this question: those whose `when` guard holds."""
        if self.node.kind != "ask" or self.ended:
            return []
        return [a for a in self.node.answers if a.allowed(self.state.facts)]

    def pending_input(self) -> CollectField | None:
        """The next input to ask at an escalation, if any is still missing."""
        if self.node.kind != "escalate" or self.ended:
            return None
        return next((c for c in self.node.collect if c.name not in self.state.inputs), None)

    # Actions: each checks first, then commits a new State and reports one event

    def answer(self, label: str, at: str | None = None) -> State:
        """Take the answer with this label (case and surrounding spaces ignored), or else with this
        number (1 is the first answer shown), so a label that is a number still wins."""
        self._require("ask", "answer")
        choices = self.choices()
        wanted = label.strip().casefold()
        chosen = next((a for a in choices if a.label == label), None) or next(
            (a for a in choices if a.label.strip().casefold() == wanted), None)
        if chosen is None and wanted.isdigit() and 1 <= int(wanted) <= len(choices):
            chosen = choices[int(wanted) - 1]
        if chosen is None:
            names = [a.label for a in choices]
            numbers = f" (or their numbers 1-{len(names)})" if len(names) > 1 else ""
            raise WalkError(f"'{label}' is not an answer to \"{self.node.prompt}\"; "
                            f"the answers are: {quoted(names)}{numbers}", names)
        at = at or self.clock()
        state = replace(self.state, path=(*self.state.path, self._step(chosen.label, at)),
                        facts={**self.state.facts, **chosen.set})
        tree, node = self.state.tree, self.state.node
        self._move(state, chosen.next, at, lambda arrival: events.Answer(
            at=at, tree=tree, node=node, answer=chosen.label, arrival=arrival))
        return self.state

    def confirm(self, at: str | None = None) -> State:
        """Confirm an action step was done and move on to its next step."""
        self._require("do", "confirm")
        at = at or self.clock()
        state = replace(self.state, path=(*self.state.path, self._step("done", at)))
        tree, node = self.state.tree, self.state.node
        self._move(state, self.node.next or "", at,
                   lambda arrival: events.Done(at=at, tree=tree, node=node, arrival=arrival))
        return self.state

    def provide(self, name: str, value: str, at: str | None = None) -> State:
        """Give an input asked at an escalation; a value not matching its pattern is refused."""
        item = self.pending_input()
        if item is None:
            raise WalkError("no input is asked at this step")
        if name != item.name:
            raise WalkError(f"the input asked now is '{item.name}', not '{name}'", [item.name])
        value = value.strip()
        if not value:
            raise WalkError(f"{item.prompt}: a value is needed", [item.name])
        if not match_input(item, value):
            raise WalkError(f"{item.prompt}: '{value}' does not match the expected form "
                            f"{item.pattern}", [item.name])
        at = at or self.clock()
        state = replace(self.state, inputs={**self.state.inputs, name: value})
        if all(c.name in state.inputs for c in self.node.collect):
            state = replace(state, outcome="escalated")
        tree, node = self.state.tree, self.state.node
        self._commit(state, lambda arrival: events.Input(
            at=at, tree=tree, node=node, input=name, value=value, arrival=arrival))
        return self.state

    def back(self, stop: int | None = None, at: str | None = None) -> State:
        """Return to an earlier stop (an index into `history`; default the previous one)."""
        if not self.history:
            raise WalkError("this is the first step; there is nothing to go back to")
        index = len(self.history) - 1 if stop is None else stop
        if not 0 <= index < len(self.history):
            raise WalkError(f"there is no earlier stop {index}",
                            [str(n) for n in range(len(self.history))])
        state = self.history[index]
        del self.history[index:]
        self.state = state
        self._report(events.Back(at=at or self.clock(), to=index))
        return state

    def stop_before(self, step: int) -> int:
        """The stop at which path step `step` (0-based) was taken, for `back`."""
        earlier = [i for i, s in enumerate(self.history) if len(s.path) <= step]
        if not 0 <= step < len(self.state.path) or not earlier:
            raise WalkError(f"there is no earlier step {step + 1}",
                            [str(n + 1) for n in range(len(self.state.path))])
        return earlier[-1]

    def restart(self, at: str | None = None) -> State:
        """Start again at the first step of the tree, with no facts or inputs."""
        self.history.clear()
        self.state = self.initial
        self._report(events.Restart(at=at or self.clock()))
        return self.state

    def note(self, text: str, at: str | None = None) -> None:
        """Keep an agent's note; notes are not undone by back or restart."""
        text = text.strip()
        if not text:
            raise WalkError("a note needs some text")
        at = at or self.clock()
        self.notes.append(Note(text, self.state.tree, self.state.node, at))
        self._report(events.Note(at=at, text=text, tree=self.state.tree, node=self.state.node))

    def opened(self, article_id: str, at: str | None = None) -> None:
        """Record that the agent read an article at this step (for the content report's reuse)."""
        self._report(events.ArticleOpened(at=at or self.clock(), article=article_id, tree=self.state.tree,
                                          node=self.state.node))

    def abandon(self, at: str | None = None) -> State:
        """Stop without an outcome (the caller hung up, the problem went away)."""
        if self.ended:
            raise WalkError(f"the walk has already ended ({self.state.outcome})")
        self.state = replace(self.state, outcome="abandoned")
        self._report(events.Abandon(at=at or self.clock()))
        return self.state

    def reopen(self, at: str | None = None, tree_hash: str = "", ticket: str = "") -> State:
        """Continue an abandoned (or unfinished) walk, on the tree as it is now (`tree_hash`)."""
        if self.state.outcome in ENDED:
            raise WalkError(f"the walk has already ended ({self.state.outcome})")
        self.state = replace(self.state, outcome="in_progress")
        self._report(events.Resume(at=at or self.clock(), tree_hash=tree_hash, ticket=ticket))
        return self.state

    def apply(self, event: events.Event) -> None:
        """Replay one recorded event; raises WalkError when it no longer applies."""
        if isinstance(event, events.STEPS) and (event.tree, event.node) != (self.state.tree, self.state.node):
            raise WalkError(f"the recorded step {event.tree}#{event.node} is not where the walk is now "
                            f"({self.state.tree}#{self.state.node})")
        at = event.at
        if isinstance(event, events.Answer):
            self.answer(event.answer, at)
        elif isinstance(event, events.Done):
            self.confirm(at)
        elif isinstance(event, events.Input):
            self.provide(event.input, event.value, at)
        elif isinstance(event, events.Back):
            self.back(event.to, at)
        elif isinstance(event, events.Restart):
            self.restart(at)
        elif isinstance(event, events.Note):
            self.note(event.text, at)
        elif isinstance(event, events.Abandon):
            self.abandon(at)
        elif isinstance(event, events.Resume):
            self.reopen(at)
        # the session's start carries no action

    def start_arrival(self) -> events.Arrival:
        """Where the walk began, for the start event: the first step after any goto at the start."""
        return _arrival(State(self.tree_id, self.trees[self.tree_id].start), self.initial, self.trees)

    def snapshot(self) -> dict[str, Any]:
        """The state as plain data: for JSON output and for each recorded event."""
        node = self.node
        view: dict[str, Any] = {
            "tree": self.state.tree, "node": self.state.node, "kind": node.kind,
            "prompt": node.prompt, "outcome": self.state.outcome,
            "path": [step.as_dict() for step in self.state.path],
            "facts": dict(self.state.facts), "inputs": dict(self.state.inputs),
            "notes": [{"text": n.text, "tree": n.tree, "node": n.node, "at": n.at} for n in self.notes],
        }
        if node.kind == "ask":
            view["answers"] = [a.label for a in self.choices()]
        if node.kind == "escalate" and node.escalation:
            view["escalation"] = {"team": node.escalation.team, "priority": node.escalation.priority,
                                  "reason": node.escalation.reason}
            view["collect"] = [{"name": c.name, "prompt": c.prompt, "pattern": c.pattern}
                               for c in node.collect if c.name not in self.state.inputs]
        if node.article:
            view["article"] = node.article
        return view

    # Moving between nodes

    def _require(self, kind: str, action: str) -> None:
        if self.ended:
            raise WalkError(f"the walk has already ended ({self.state.outcome})")
        if self.node.kind != kind:
            raise WalkError(f"cannot {action} here: '{self.state.node}' is a {self.node.kind} step")

    def _step(self, answer: str | None, at: str) -> Step:
        return Step(self.state.tree, self.state.node, self.node.kind, self.node.prompt, answer, at)

    def _move(self, state: State, target: str, at: str,
              event: Callable[[events.Arrival], events.Event]) -> None:
        if target not in self.trees[state.tree].nodes:
            raise WalkError(f"step '{state.node}' leads to '{target}', which is not in tree "
                            f"'{state.tree}' (run kb check)")
        self._commit(self._arrive(replace(state, node=target), at, set()), event)

    def _arrive(self, state: State, at: str, seen: set[str]) -> State:
        """Enter a node: follow gotos into other trees, and settle the outcome of an end."""
        tree = self.trees[state.tree]
        if state.node not in tree.nodes:
            raise WalkError(f"tree '{state.tree}' has no node '{state.node}' (run kb check)")
        node = tree.nodes[state.node]
        if node.kind == "goto":
            key = f"{state.tree}#{state.node}"
            if key in seen:
                raise WalkError(f"the gotos from '{key}' go round in a circle (run kb check)")
            entry = goto_entry(node, self.trees)
            if entry is None:
                raise WalkError(f"step '{state.node}' goes to tree '{node.goto_tree}', "
                                "which does not exist (run kb check)")
            step = Step(state.tree, state.node, "goto", node.goto or "", None, at)
            entered = replace(state, tree=entry[0], node=entry[1], path=(*state.path, step))
            return self._arrive(entered, at, seen | {key})
        if node.kind == "solved":
            return replace(state, outcome="solved")
        if node.kind == "escalate" and all(c.name in state.inputs for c in node.collect):
            return replace(state, outcome="escalated")
        return state

    def _commit(self, state: State, event: Callable[[events.Arrival], events.Event]) -> None:
        """Make `state` current and report the event built from what changed since the last stop."""
        before = self.state
        self.history.append(before)
        self.state = state
        self._report(event(_arrival(before, state, self.trees)))

    def _report(self, event: events.Event) -> None:
        if self.listener is not None:
            self.listener(event)


def _arrival(before: State, after: State, trees: Mapping[str, Tree]) -> events.Arrival:
    """What changed from `before` to `after`: the gotos passed, facts set, the new position."""
    node = trees[after.tree].nodes[after.node]
    escalation = node.escalation if node.kind == "escalate" else None
    position = events.Position(after.tree, after.node, node.kind, node.prompt,
                               {"team": escalation.team, "priority": escalation.priority,
                                "reason": escalation.reason} if escalation else None)
    gotos = tuple({"tree": step.tree, "node": step.node, "to": step.prompt}
                  for step in after.path[len(before.path):] if step.kind == "goto")
    facts = {name: value for name, value in after.facts.items()
             if name not in before.facts or before.facts[name] != value}
    return events.Arrival(position, after.outcome, facts, gotos)


def drive(walk: Walk, answers: Iterable[str], inputs: Mapping[str, str]) -> tuple[str | None, set[str]]:
    """Feed answers to ask steps (do steps move on by themselves, gotos are followed) and
    inputs to the escalation, until an end or a step the answers do not cover.

    Returns (the first problem as a sentence or None, the input names used)."""
    queue = list(answers)[::-1]
    used: set[str] = set()
    confirmed: set[tuple[str, str]] = set()  # action steps passed since the last answer
    try:
        while not walk.ended:
            node = walk.node
            if node.kind == "do":
                here = (walk.state.tree, walk.state.node)
                if here in confirmed:  # actions leading back to themselves never reach a question
                    return (f"the action steps from '{node.id}' lead back to it without a question "
                            "or an end in between"), used
                confirmed.add(here)
                walk.confirm()
            elif node.kind == "ask" and queue:
                confirmed.clear()
                walk.answer(queue.pop())
            elif node.kind == "escalate" and (item := walk.pending_input()) and item.name in inputs:
                used.add(item.name)
                walk.provide(item.name, inputs[item.name])
            else:
                break
    except WalkError as problem:
        return str(problem), used
    if queue:
        return (f"the walk ended ({walk.state.outcome}) at '{walk.state.node}' before the answer "
                f"'{queue[-1]}' was used"), used
    return None, used


def replay(trees: Mapping[str, Tree], tree_id: str,
           recorded: Iterable[events.Event]) -> tuple[Walk, list[str]]:
    """Rebuild a walk from its recorded events, as far as they still apply.

    An event that no longer applies (the tree changed) skips the rest of its stretch,
    up to the next `resume`, since the walk was continued from wherever it stopped then.
    Returns the walk and a message per stretch that stopped early.
    """
    walk = Walk(trees, tree_id)
    problems: list[str] = []
    skipping = False
    for number, event in enumerate(recorded, start=1):
        if isinstance(event, events.Start) or (skipping and not isinstance(event, events.Resume)):
            continue
        skipping = False
        try:
            walk.apply(event)
        except WalkError as error:
            problems.append(f"event {number} ({event.name}) no longer applies: {error}")
            skipping = True
    return walk, problems
