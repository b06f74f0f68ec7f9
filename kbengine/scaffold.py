"""The text of a new article or tree, from what the writer gave `kb new`. No I/O."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

# ids that are safe as file names and match the schemas' id patterns
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# plain YAML scalars that kbengine reads back as the same text (`Yes` and `No` stay text);
# anything else is written quoted
_PLAIN = re.compile(r"^[A-Za-z\u00c0-\uffff][^:#\[\]{}\"'`|>&*!%@,\n]*$")
_TYPED = {"true", "false", "null"}

SKELETONS = ("en", "nl")

_ARTICLE_BODY = {
    "en": """\
TODO: one or two sentences on who this is for and what it solves.

## What you see

TODO: the symptom in the words callers use: the error message, what does not work.

## Fix it

1. TODO: the first step.
2. TODO: the next step.

## Still not working?

Contact the service desk and say which step did not work.
""",
    "nl": """\
TODO: een of twee zinnen over voor wie dit is en wat het oplost.

## Wat je ziet

TODO: het probleem in de woorden van de beller: de foutmelding, wat niet werkt.

## Zo los je het op

1. TODO: de eerste stap.
2. TODO: de volgende stap.

## Werkt het nog steeds niet?

Neem contact op met de servicedesk en vertel bij welke stap het misging.
""",
}

# the words of the example flow, in the tree's language
_FLOW = {
    "en": {"yes": "Yes", "no": "No",
           "ask": "TODO: your first question to the caller",
           "do": "TODO: what the caller does to fix it",
           "check": "Does it work now?",
           "solved": "TODO: what fixed it",
           "team": "Second line - Workplace",
           "reason": "TODO: why second line takes over",
           "prompt": "Asset tag of the device (for example NL12345)"},
    "nl": {"yes": "Ja", "no": "Nee",
           "ask": "TODO: je eerste vraag aan de beller",
           "do": "TODO: wat de beller doet om het op te lossen",
           "check": "Werkt het nu?",
           "solved": "TODO: wat het oploste",
           "team": "Tweede lijn - Werkplek",
           "reason": "TODO: waarom de tweede lijn het overneemt",
           "prompt": "Inventarisnummer van het apparaat (bijvoorbeeld NL12345)"},
}


@dataclass
class Draft:
    """What `kb new` knows about the article or tree it is about to write."""

    title: str
    category: str
    lang: str
    updated: str  # YYYY-MM-DD
    owner: str = ""
    audience: str = "public"
    tags: list[str] = field(default_factory=list)
    translation_of: str | None = None
    schema: str = ""  # where editors find the JSON Schema, relative to the new file


def clean_title(title: str) -> str:
    """One line of text: a title typed with newlines or tabs becomes one line."""
    return " ".join(title.split())


def yaml_text(value: str) -> str:
    """A YAML scalar that reads back as exactly this text (plain when that is safe)."""
    if _PLAIN.match(value) and value == value.strip() and value.lower() not in _TYPED:
        return value
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML double-quoted one


def _yaml_list(values: list[str]) -> str:
    return "[" + ", ".join(yaml_text(v) for v in values) + "]"


def _language(lang: str) -> str:
    return lang if lang in SKELETONS else "en"


def article_text(draft: Draft) -> str:
    """Front matter with every field, then a body skeleton in the article's language."""
    lines = [
        "---",
        f"title: {yaml_text(draft.title)}",
        'summary: ""  # TODO: one or two sentences for search results and lists',
        f"tags: {_yaml_list(draft.tags)}",
        f"category: {yaml_text(draft.category)}",
        f"lang: {draft.lang}",
        f"audience: {draft.audience}  # public: on the help site; internal: agents only",
        "status: draft  # stays off the public site until you set: published",
        f"owner: {yaml_text(draft.owner)}",
        f"updated: {draft.updated}",
        "related: []  # ids of articles to suggest first",
    ]
    if draft.translation_of:
        lines.append(f"translation_of: {draft.translation_of}")
    lines.append("---")
    return "\n".join(lines) + "\n\n" + _ARTICLE_BODY[_language(draft.lang)]


def tree_text(draft: Draft) -> str:
    """A small tree that `kb check --strict` accepts, with comments that teach each node kind."""
    words = {key: yaml_text(text) for key, text in _FLOW[_language(draft.lang)].items()}
    category = f"category: {yaml_text(draft.category)}\n" if draft.category else ""
    translation = f"translation_of: {draft.translation_of}\n" if draft.translation_of else ""
    editor = f"# yaml-language-server: $schema={draft.schema}\n" if draft.schema else ""
    return f"""\
{editor}# A troubleshooting tree: every field is explained in docs/formats.md ("Trees").
# Try it with `kb walk`; `kb check` tells you about any mistake at its line.
title: {yaml_text(draft.title)}
summary: ""  # TODO: one sentence for lists and search results
symptoms: []  # TODO: phrases callers type, e.g. [printer offline, print job stuck]
tags: {_yaml_list(draft.tags)}
{category}lang: {draft.lang}
{translation}status: draft  # stays off the public site until you set: published
start: first-question
nodes:
  # ask: a question. Each answer is `label: id of the next node`.
  first-question:
    ask: {words["ask"]}
    answers:
      {words["yes"]}: try-fix
      {words["no"]}: hand-over
  # do: an action for the caller; `next` says where the walk goes after it.
  try-fix:
    do: {words["do"]}
    next: check-fixed
  check-fixed:
    ask: {words["check"]}
    answers:
      {words["yes"]}: fixed
      {words["no"]}: hand-over
  # solved: an end; the problem is fixed.
  fixed:
    solved: {words["solved"]}
  # escalate: an end; hand over to second line. `collect` asks for inputs first,
  # and `pattern` is a regular expression the input must match.
  hand-over:
    escalate: {{team: {words["team"]}, priority: P3, reason: {words["reason"]}}}
    collect:
      - name: asset_tag
        prompt: {words["prompt"]}
        pattern: '^[A-Z]{{2}}\\d{{5}}$'
  # goto: continue in another tree, e.g. `goto: printer-error-codes` (or tree#node).
# examples: tests that `kb check` walks; each must end where it says.
examples:
  - answers: [{words["yes"]}, {words["yes"]}]
    ends_at: fixed
    outcome: solved
  # a hand-over gives its inputs too:
  # - answers: [{words["no"]}]
  #   inputs: {{asset_tag: NL12345}}
  #   ends_at: hand-over
  #   outcome: escalated
"""
