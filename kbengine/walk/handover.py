"""The ticket-ready hand-over of a session, as data (JSON) and as Markdown to paste into a ticket."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kbengine.walk.store import Session

OUTCOME_WORDS = {"solved": "Solved", "escalated": "Escalated", "abandoned": "Abandoned",
                 "in_progress": "In progress (not finished)"}


def handover(session: Session) -> dict[str, Any]:
    """Everything second line needs: symptom, steps and answers, inputs, notes, outcome, duration."""
    state = session.state
    seconds = _seconds_between(session.started, session.last)
    escalation = state.get("escalation") if state.get("kind") == "escalate" else None
    return {
        "session": session.id,
        "ticket": session.ticket,
        "agent": session.start.agent,
        "symptom": session.start.tree_title or session.tree,
        "tree": session.tree,
        "started": session.started,
        "last": session.last,
        "duration_seconds": seconds,
        "duration": format_duration(seconds),
        "outcome": session.outcome,
        "end": {"tree": state.get("tree"), "node": state.get("node"), "kind": state.get("kind"),
                "prompt": state.get("prompt", "")},
        "escalation": escalation,
        "steps": [step for step in state.get("path", []) if step.get("kind") != "goto"],
        "trees_entered": [step.get("prompt") for step in state.get("path", []) if step.get("kind") == "goto"],
        "inputs": state.get("inputs", {}),
        "facts": state.get("facts", {}),
        "notes": state.get("notes", []),
    }


def handover_markdown(data: dict[str, Any]) -> str:
    """The hand-over as Markdown: short, in reading order, fit for a ticket or a chat."""
    lines = [f"## {data['symptom']}", ""]
    facts = [("Ticket", data["ticket"]), ("Outcome", _outcome_line(data)),
             ("Duration", f"{data['duration']} (from {_clock(data['started'])} to {_clock(data['last'])})"),
             ("Agent", data["agent"]), ("Session", f"`{data['session']}`")]
    lines += [f"- **{name}:** {value}" for name, value in facts if value]
    lines += ["", "### Steps", ""]
    for number, step in enumerate(data["steps"], start=1):
        answer = "done" if step["kind"] == "do" else step["answer"]
        lines.append(f"{number}. {step['prompt']} — **{answer}**")
    end = data["end"]
    if end.get("prompt") and data["outcome"] == "solved":
        lines.append(f"{len(data['steps']) + 1}. Solved: {end['prompt']}")
    if not data["steps"]:
        lines.append("(no steps taken)")
    if data["inputs"]:
        lines += ["", "### Collected", ""]
        lines += [f"- {name}: `{value}`" for name, value in data["inputs"].items()]
    if data["notes"]:
        lines += ["", "### Notes", ""]
        lines += [f"- {_clock(note['at'])} {note['text']}" for note in data["notes"]]
    if data["facts"]:
        lines += ["", "### Facts", ""]
        lines += [f"- {name}: {value}" for name, value in data["facts"].items()]
    return "\n".join(lines) + "\n"


def _outcome_line(data: dict[str, Any]) -> str:
    words = OUTCOME_WORDS.get(data["outcome"], data["outcome"])
    escalation = data["escalation"]
    if data["outcome"] == "escalated" and escalation:
        words += f" to **{escalation['team']}**"
        if escalation.get("priority"):
            words += f", priority {escalation['priority']}"
        if escalation.get("reason"):
            words += f" — {escalation['reason']}"
    elif data["outcome"] == "in_progress":
        stop = data["end"]["prompt"] or (f"escalation to {escalation['team']}, inputs still missing"
                                         if escalation else data["end"]["node"])
        words += f", stopped at: {stop}"
    return words


def format_duration(seconds: int) -> str:
    """`4 min 12 s`, `1 h 3 min`, `45 s`."""
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def _seconds_between(start: str, end: str) -> int:
    try:
        return int((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())
    except (ValueError, TypeError):
        return 0


def _clock(stamp: str) -> str:
    """`2024-05-01 14:30` from an ISO time, or the text as it is."""
    try:
        return f"{datetime.fromisoformat(stamp):%Y-%m-%d %H:%M}"
    except (ValueError, TypeError):
        return stamp
