"""Session events: the typed records of a walk, read from and written to plain data here and
nowhere else, and a session's state rebuilt from them without the KB (docs/walk.md, "Format").

Format 2 events store what changed (the answer, the facts it set, where the walk arrived), so a
record grows with the path; format 1 events repeated the whole state and are still read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal, cast

FORMAT = 2
Outcome = Literal["solved", "escalated", "abandoned", "in_progress"]
OUTCOMES: tuple[Outcome, ...] = ("solved", "escalated", "abandoned", "in_progress")
ENDED: tuple[Outcome, ...] = ("solved", "escalated")  # ends that cannot be resumed


class DamagedEvent(ValueError):
    """An event that is not in the documented shape; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class Position:
    """Where a walk stands, described well enough to show it without the KB."""

    tree: str
    node: str
    kind: str
    prompt: str
    escalation: Mapping[str, str] | None = None  # team, priority, reason at an escalate step


@dataclass(frozen=True, slots=True)
class Arrival:
    """What a step changed: the gotos it passed, the facts it set, where it arrived, the outcome."""

    position: Position
    outcome: Outcome = "in_progress"
    facts: Mapping[str, Any] = field(default_factory=dict)
    gotos: tuple[Mapping[str, str], ...] = ()  # {"tree", "node", "to"} per goto followed


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """One line of a record. `state` is the whole state that format 1 wrote with every event."""

    name: ClassVar[str] = ""
    at: str
    state: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Start(Event):
    name: ClassVar[str] = "start"
    session: str = ""  # the record's own id wins: a file may have been renamed
    tree: str
    tree_title: str = ""
    tree_hash: str = ""
    ticket: str = ""
    agent: str = ""
    kb_root: str = ""
    kb_title: str = ""
    query: str = ""  # the words searched before this tree was chosen: search learns from solved walks
    format: int = FORMAT
    arrival: Arrival | None = None  # the first step (after any goto at the start)


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer(Event):
    name: ClassVar[str] = "answer"
    tree: str
    node: str
    answer: str
    arrival: Arrival | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Done(Event):
    name: ClassVar[str] = "done"
    tree: str
    node: str
    arrival: Arrival | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Input(Event):
    name: ClassVar[str] = "input"
    tree: str
    node: str
    input: str
    value: str
    arrival: Arrival | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Back(Event):
    name: ClassVar[str] = "back"
    to: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Restart(Event):
    name: ClassVar[str] = "restart"


@dataclass(frozen=True, slots=True, kw_only=True)
class Note(Event):
    name: ClassVar[str] = "note"
    text: str
    tree: str = ""
    node: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Abandon(Event):
    name: ClassVar[str] = "abandon"


@dataclass(frozen=True, slots=True, kw_only=True)
class Resume(Event):
    name: ClassVar[str] = "resume"
    tree_hash: str = ""
    ticket: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ArticleOpened(Event):
    """The agent opened an article during the walk: the step's own, or one found by searching.
    It changes nothing in the walk; the content report counts it as the article's use."""

    name: ClassVar[str] = "article_opened"
    article: str
    tree: str = ""
    node: str = ""


KINDS: dict[str, type[Event]] = {kind.name: kind for kind in (
    Start, Answer, Done, Input, Back, Restart, Note, Abandon, Resume, ArticleOpened)}
STEPS = (Answer, Done, Input)  # the agent's own actions at a step
_RENAMED = {"input": "name"}  # a field whose name on disk differs (an input's name)


# --- reading and writing ------------------------------------------------------------------

def event_data(event: Event) -> dict[str, Any]:
    """The event as plain data for a JSON line or a database row; empty optional fields left out."""
    data: dict[str, Any] = {"event": event.name}
    for item in dataclasses.fields(event):
        value = getattr(event, item.name)
        if item.name in ("state", "arrival") and value is None:
            continue
        if isinstance(value, Arrival):
            data.update(_arrival_data(value))
        else:
            data[_RENAMED.get(item.name, item.name)] = dict(value) if isinstance(value, Mapping) else value
    return data


def _arrival_data(arrival: Arrival) -> dict[str, Any]:
    place = arrival.position
    position: dict[str, Any] = {"tree": place.tree, "node": place.node, "kind": place.kind,
                                "prompt": place.prompt}
    if arrival.position.escalation:
        position["escalation"] = dict(arrival.position.escalation)
    data: dict[str, Any] = {"to": position, "outcome": arrival.outcome}
    if arrival.facts:
        data["set"] = dict(arrival.facts)
    if arrival.gotos:
        data["gotos"] = [dict(goto) for goto in arrival.gotos]
    return data


def _fields_on_disk(kind: type[Event]) -> tuple[tuple[str, str, str, bool], ...]:
    """Per field of an event type: its name, its key on disk, its type, and whether it is required."""
    return tuple((item.name, _RENAMED.get(item.name, item.name), str(item.type),
                  item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING)
                 for item in dataclasses.fields(kind))


_ON_DISK = {name: _fields_on_disk(kind) for name, kind in KINDS.items()}  # worked out once: reports read many


def parse_event(data: Any) -> Event:
    """A typed event from plain data; DamagedEvent when it is not one in the documented shape."""
    if not isinstance(data, Mapping) or not isinstance(data.get("event"), str):
        raise DamagedEvent("not an event (an object with an \"event\" name)")
    kind = KINDS.get(data["event"])
    if kind is None:
        raise DamagedEvent(f"unknown event '{data['event']}'")
    values: dict[str, Any] = {}
    for name, key, annotation, required in _ON_DISK[kind.name]:
        if name == "arrival":
            values["arrival"] = _parse_arrival(data) if "to" in data else None
        elif name == "state":
            values["state"] = _parse_state(data.get("state"))
        elif key in data:
            values[name] = _typed(data[key], annotation, f"{kind.name} {key}")
        elif required:
            raise DamagedEvent(f"a '{kind.name}' event without its '{key}'")
    try:
        datetime.fromisoformat(values["at"])
    except ValueError:
        raise DamagedEvent(f"the time of a '{kind.name}' event is not a date and time: "
                           f"'{values['at']}'") from None
    return kind(**values)


def _typed(value: Any, annotation: str, what: str) -> Any:
    if annotation == "str":
        if type(value) is str:
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    elif annotation == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    raise DamagedEvent(f"the {what} is not {'a number' if annotation == 'int' else 'text'}: {value!r}")


def _parse_arrival(data: Mapping[str, Any]) -> Arrival:
    to, facts, gotos = data.get("to"), data.get("set", {}), data.get("gotos", [])
    outcome = _outcome(data.get("outcome", "in_progress"))
    if not isinstance(to, Mapping) or not all(isinstance(to.get(k), str) for k in ("tree", "node", "kind")):
        raise DamagedEvent("its 'to' is not a tree, node and kind")
    escalation = to.get("escalation")
    if escalation is not None and not isinstance(escalation, Mapping):
        raise DamagedEvent("its escalation is not a team, priority and reason")
    if not isinstance(facts, Mapping) or not isinstance(gotos, list) or not all(
            isinstance(goto, Mapping) for goto in gotos):
        raise DamagedEvent("its 'set' or 'gotos' is not in the documented shape")
    position = Position(to["tree"], to["node"], to["kind"], str(to.get("prompt", "")), escalation)
    return Arrival(position, outcome, dict(facts), tuple(gotos))


def _parse_state(state: Any) -> Mapping[str, Any] | None:
    if state is None:
        return None
    if not isinstance(state, Mapping):
        raise DamagedEvent("its state is not an object")
    _outcome(state.get("outcome", "in_progress"))
    return state


def _outcome(value: Any) -> Outcome:
    if value not in OUTCOMES:
        raise DamagedEvent(f"unknown outcome '{value}'")
    return cast(Outcome, value)


# --- the state, rebuilt -------------------------------------------------------------------

@dataclass
class Replayed:
    """A session's state after its last event, and the moments the report needs."""

    state: dict[str, Any]
    first_step_at: str | None = None  # the agent's first answer, action or input
    ended_at: str | None = None  # when it first reached solved or escalated


def _empty(tree: str) -> dict[str, Any]:
    return {"tree": tree, "node": "", "kind": "", "prompt": "", "outcome": "in_progress",
            "path": [], "facts": {}, "inputs": {}, "notes": []}


def _arrive(state: dict[str, Any], arrival: Arrival, at: str) -> dict[str, Any]:
    """The state after a step: gotos added to the path, facts merged, the new position."""
    position = arrival.position
    gotos = [{"tree": goto.get("tree", ""), "node": goto.get("node", ""), "kind": "goto",
              "prompt": goto.get("to", ""), "answer": None, "at": at} for goto in arrival.gotos]
    arrived = {**state, "tree": position.tree, "node": position.node, "kind": position.kind,
               "prompt": position.prompt, "outcome": arrival.outcome, "path": [*state["path"], *gotos],
               "facts": {**state["facts"], **arrival.facts}}
    arrived.pop("escalation", None)
    if position.escalation:
        arrived["escalation"] = dict(position.escalation)
    return arrived


def replay(events: Sequence[Event]) -> Replayed:
    """The state after the last event, as `kb walk --json` showed it then (less what needs the KB)."""
    start = events[0]
    initial = _empty(getattr(start, "tree", ""))
    if start.state is not None:
        initial = {**initial, **start.state}
    elif isinstance(start, Start) and start.arrival is not None:
        initial = _arrive(initial, start.arrival, start.at)
    state, history = initial, []
    notes: list[dict[str, Any]] = list(initial.get("notes", []))
    result = Replayed(state)
    for event in events[1:]:
        if isinstance(event, STEPS):
            history.append(state)
            result.first_step_at = result.first_step_at or event.at
            state = _step(state, event)
        elif isinstance(event, Back):
            if not 0 <= event.to < len(history):
                raise DamagedEvent(f"a 'back' to stop {event.to}, which was never reached")
            state = history[event.to]
            del history[event.to:]
        elif isinstance(event, Restart):
            history.clear()
            state = initial
        elif isinstance(event, Note):
            notes.append({"text": event.text, "tree": event.tree, "node": event.node, "at": event.at})
        elif isinstance(event, Abandon | Resume):
            state = {**state, "outcome": "abandoned" if isinstance(event, Abandon) else "in_progress"}
        if event.state is not None:  # format 1: the whole state, as written then
            state = {**_empty(initial["tree"]), **event.state}
            notes = list(state.get("notes", []))
        state = {**state, "notes": notes}
        if result.ended_at is None and state.get("outcome") in ENDED:
            result.ended_at = event.at
    result.state = state
    return result


def _step(state: dict[str, Any], event: Answer | Done | Input) -> dict[str, Any]:
    if isinstance(event, Input):
        state = {**state, "inputs": {**state["inputs"], event.input: event.value}}
    else:
        answer = "done" if isinstance(event, Done) else event.answer
        taken = {"tree": event.tree, "node": event.node, "kind": state.get("kind", ""),
                 "prompt": state.get("prompt", ""), "answer": answer, "at": event.at}
        state = {**state, "path": [*state["path"], taken]}
    if event.arrival is None:  # format 1: its state follows
        return state
    return _arrive(state, event.arrival, event.at)
