"""The ticket-ready hand-over of a session, as data (JSON), and as Markdown or plain text to paste into a
ticket, in the interface language of the walk."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from gettext import NullTranslations
from typing import Any

from kbengine.walk.store import Session


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


def handover_markdown(data: dict[str, Any], translations: NullTranslations | None = None) -> str:
    """The hand-over as Markdown: short, in reading order, fit for a ticket or a chat."""
    return _render(data, translations or NullTranslations(), markdown=True)


def handover_text(data: dict[str, Any], translations: NullTranslations | None = None) -> str:
    """The hand-over as plain text: the same content without Markdown marks or box characters, so it
    pastes cleanly into any ticket field."""
    return _render(data, translations or NullTranslations(), markdown=False)


def _render(data: dict[str, Any], translations: NullTranslations, *, markdown: bool) -> str:
    _ = translations.gettext

    def strong(text: str) -> str:
        return f"**{text}**" if markdown else text

    def code(text: str) -> str:
        return f"`{text}`" if markdown else text

    def heading(text: str) -> list[str]:
        return ["", f"### {text}", ""] if markdown else ["", f"{text}:"]

    lines = [f"## {data['symptom']}" if markdown else data["symptom"], ""]
    duration = _("{duration} (from {start} to {end})").format(
        duration=data["duration"], start=_clock(data["started"]), end=_clock(data["last"]))
    facts = [(_("Ticket"), data["ticket"]), (_("Outcome"), _outcome_line(data, translations, strong)),
             (_("Duration"), duration), (_("Agent"), data["agent"]), (_("Session"), code(data["session"]))]
    lines += [f"- **{name}:** {value}" if markdown else f"{name}: {value}" for name, value in facts if value]
    lines += heading(_("Steps"))
    for number, step in enumerate(data["steps"], start=1):
        answer = _("done") if step["kind"] == "do" else step["answer"]
        lines.append(f"{number}. {step['prompt']} — {strong(answer)}")
    end = data["end"]
    if end.get("prompt") and data["outcome"] == "solved":
        lines.append(f"{len(data['steps']) + 1}. " + _("Solved: {end}").format(end=end["prompt"]))
    if not data["steps"]:
        lines.append(_("(no steps taken)"))
    if data["inputs"]:
        lines += heading(_("Collected"))
        lines += [f"- {name}: {code(value)}" for name, value in data["inputs"].items()]
    if data["notes"]:
        lines += heading(_("Notes"))
        lines += [f"- {_clock(note['at'])} {note['text']}" for note in data["notes"]]
    if data["facts"]:
        lines += heading(_("Facts"))
        lines += [f"- {name}: {value}" for name, value in data["facts"].items()]
    return "\n".join(lines) + "\n"


def outcome_words(outcome: str, translations: NullTranslations | None = None) -> str:
    """"Solved", "Escalated", ... in the interface language."""
    _ = (translations or NullTranslations()).gettext
    words = {"solved": _("Solved"), "escalated": _("Escalated"), "abandoned": _("Abandoned"),
             "in_progress": _("In progress (not finished)")}
    return words.get(outcome, outcome)


def _outcome_line(data: dict[str, Any], translations: NullTranslations, strong: Callable[[str], str]) -> str:
    _ = translations.gettext
    words = outcome_words(data["outcome"], translations)
    escalation = data["escalation"]
    if data["outcome"] == "escalated" and escalation:
        words += " " + _("to {team}").format(team=strong(escalation["team"]))
        if escalation.get("priority"):
            words += ", " + _("priority {priority}").format(priority=escalation["priority"])
        if escalation.get("reason"):
            words += f" — {escalation['reason']}"
    elif data["outcome"] == "in_progress":
        stop = data["end"]["prompt"] or (
            _("escalation to {team}, inputs still missing").format(team=escalation["team"])
            if escalation else data["end"]["node"])
        words += ", " + _("stopped at: {stop}").format(stop=stop)
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
