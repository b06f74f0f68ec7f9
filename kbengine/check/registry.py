"""Every KB code in one place: its severity, its title and where docs/rules.md explains it.

Emitters name a code and say what they found; the severity comes from here, so a rule's
weight is decided once. tests/test_check_registry.py keeps docs/rules.md and this list equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kbengine.model import Diagnostic, Severity

RULES_DOC = "docs/rules.md"


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    severity: Severity
    title: str

    @property
    def anchor(self) -> str:
        """The heading's anchor in docs/rules.md, as GitHub and MkDocs spell it."""
        heading = f"{self.code} — {self.title}".lower()
        return re.sub(r"[^\w\- ]", "", heading).replace(" ", "-")

    @property
    def doc(self) -> str:
        return f"{RULES_DOC}#{self.anchor}"


RULES: dict[str, Rule] = {rule.code: rule for rule in (
    Rule("KB101", "error", "the file is not UTF-8 text"),
    Rule("KB102", "error", "the file is empty"),
    Rule("KB103", "error", "YAML syntax error"),
    Rule("KB104", "error", "duplicate key"),
    Rule("KB105", "error", "YAML too large or recursive"),
    Rule("KB106", "error", "the file cannot be read"),
    Rule("KB107", "error", "a link to a file outside the KB"),
    Rule("KB108", "warning", "a line with too many brackets"),
    Rule("KB109", "warning", "lists or quotes nested too deep"),
    Rule("KB110", "warning", "article too much work to render"),
    Rule("KB201", "error", "field problem in a tree or front matter"),
    Rule("KB203", "warning", "front-matter value kbengine does not understand"),
    Rule("KB204", "warning", "front-matter key that looks misspelt"),
    Rule("KB205", "error", "value cannot be part of a web address"),
    Rule("KB301", "error", "duplicate id"),
    Rule("KB302", "warning", "file names give the same id"),
    Rule("KB401", "error", "node has no kind"),
    Rule("KB402", "error", "node has more than one kind"),
    Rule("KB403", "error", "start node does not exist"),
    Rule("KB404", "error", "answer or next step leads to a missing node"),
    Rule("KB405", "error", "goto to a missing tree or node"),
    Rule("KB406", "warning", "node cannot be reached"),
    Rule("KB407", "error", "no end can be reached"),
    Rule("KB408", "error", "question with no answers"),
    Rule("KB409", "error", "answers or next on the wrong kind of node"),
    Rule("KB410", "error", "action with no next step"),
    Rule("KB411", "warning", "collect on a node that is not an escalation"),
    Rule("KB412", "error", "goto cycle between trees"),
    Rule("KB413", "warning", "step points at a missing article"),
    Rule("KB414", "warning", "public step points at a hidden article"),
    Rule("KB415", "error", "collect pattern is not a regular expression"),
    Rule("KB416", "error", "question shows no answer on some path"),
    Rule("KB417", "warning", "guard on a fact nothing sets"),
    Rule("KB418", "error", "a tree example does not end where it says"),
    Rule("KB501", "warning", "linked page not found"),
    Rule("KB502", "warning", "[[id]] names nothing"),
    Rule("KB503", "warning", "image not found"),
    Rule("KB504", "warning", "link only works on a forgiving server"),
    Rule("KB505", "warning", "included file not found"),
    Rule("KB506", "warning", "related article does not exist"),
    Rule("KB507", "warning", "public article links a hidden one"),
    Rule("KB508", "warning", "category not in kb.yaml"),
    Rule("KB509", "warning", "include outside the KB"),
    Rule("KB601", "warning", "translation of a missing original"),
    Rule("KB602", "warning", "translation in the same language"),
    Rule("KB701", "error", "kb.yaml setting problem"),
    Rule("KB702", "error", "link that is not http(s) or mailto in kb.yaml"),
)}


def rule(code: str) -> Rule:
    """The rule behind a code; an unknown code is a bug in kbengine, so it raises."""
    return RULES[code]


def diagnostic(code: str, path: str, line: int, col: int, message: str, hint: str = "") -> Diagnostic:
    """A located finding of rule `code`, with the rule's severity."""
    return Diagnostic(path, line, col, code, RULES[code].severity, message, hint)
