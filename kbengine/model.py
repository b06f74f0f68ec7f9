"""The content model: plain dataclasses for articles, trees and diagnostics. No I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]
NodeKind = Literal["ask", "do", "solved", "escalate", "goto"]
LinkKind = Literal["page", "wiki", "image", "include"]


def _where(locations: dict[tuple[Any, ...], tuple[int, int]], path: tuple[Any, ...]) -> tuple[int, int]:
    while path:
        if path in locations:
            return locations[path]
        path = path[:-1]
    return locations.get((), (1, 1))


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One located problem in the content: `path:line:col: severity CODE message`."""

    path: str
    line: int
    col: int
    code: str
    severity: Severity
    message: str
    hint: str = ""

    def format(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.severity} {self.code} {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
        }


@dataclass(slots=True)
class Link:
    """A link written in an article body, with where it was written and what it points at."""

    target: str
    kind: LinkKind
    line: int
    col: int
    article_id: str | None = None  # set when the link resolves to an article


@dataclass(slots=True)
class Heading:
    level: int
    text: str
    anchor: str
    line: int


@dataclass(slots=True, kw_only=True)
class Content:
    """What articles and trees share: their metadata, and where each value was written."""

    summary: str = ""
    tags: list[str] = field(default_factory=list)
    category: str = ""
    lang: str = "en"
    audience: str = "public"
    status: str = "published"
    owner: str = ""
    updated: str = ""
    translation_of: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # unknown keys, kept
    content_hash: str = ""
    locations: dict[tuple[Any, ...], tuple[int, int]] = field(default_factory=dict)

    def where(self, *path: Any) -> tuple[int, int]:
        """Line and column of a value in the file, else of its nearest parent (or the top)."""
        return _where(self.locations, path)

    @property
    def is_public(self) -> bool:
        """Reaches the public site: public audience and published."""
        return self.audience == "public" and self.status == "published"


@dataclass(slots=True)
class Article(Content):
    id: str
    path: str  # relative to the KB root, with forward slashes
    title: str
    body: str
    body_line: int = 1  # line of the file where the Markdown body starts
    related: list[str] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    explicit_id: bool = False


@dataclass(slots=True)
class Answer:
    label: str
    next: str
    set: dict[str, Any] = field(default_factory=dict)
    when: dict[str, Any] = field(default_factory=dict)
    line: int = 0
    col: int = 0

    def allowed(self, facts: Mapping[str, Any]) -> bool:
        """True when every `when` fact holds; a list value means any of its items."""
        for name, wanted in self.when.items():
            have = facts.get(name)
            options = wanted if isinstance(wanted, list) else [wanted]
            if have not in options:
                return False
        return True


@dataclass(slots=True)
class CollectField:
    """An input asked of the caller before a hand-over, e.g. an asset tag."""

    name: str
    prompt: str
    pattern: str | None = None
    hint: str | None = None  # the expected form in words, by the tree's author ("like NL12345")


@dataclass(slots=True)
class Escalation:
    team: str
    priority: str = ""
    reason: str = ""


@dataclass(slots=True)
class Node:
    id: str
    kind: NodeKind
    prompt: str = ""  # the question (ask), action (do) or outcome (solved) as written
    text: str = ""  # optional Markdown shown with the step
    answers: list[Answer] = field(default_factory=list)
    next: str | None = None  # for `do` steps
    escalation: Escalation | None = None
    goto: str | None = None  # "tree" or "tree#node"
    article: str | None = None
    image: str | None = None
    collect: list[CollectField] = field(default_factory=list)
    audience: str = "public"
    line: int = 0
    col: int = 0

    @property
    def goto_tree(self) -> str | None:
        return self.goto.split("#", 1)[0] if self.goto else None

    @property
    def goto_node(self) -> str | None:
        if self.goto and "#" in self.goto:
            return self.goto.split("#", 1)[1]
        return None

    def exits(self) -> list[Answer]:
        """Every way on within the tree: a question's answers, or an action's next step (no label)."""
        if self.kind == "ask":
            return self.answers
        if self.kind == "do" and self.next:
            return [Answer("", self.next)]
        return []

    def targets(self) -> list[str]:
        """Node ids in the same tree that this node leads to."""
        return [answer.next for answer in self.exits()]


@dataclass(slots=True)
class TreeExample:
    """A writer's test of a tree: these answers (and inputs) must end the walk here."""

    answers: list[str]
    inputs: dict[str, str] = field(default_factory=dict)
    ends_at: str | None = None  # node id, or tree#node when a goto leads elsewhere
    outcome: str | None = None  # solved | escalated | in_progress
    line: int = 0
    col: int = 0


@dataclass(slots=True)
class Tree(Content):
    id: str
    path: str
    title: str
    start: str
    nodes: dict[str, Node] = field(default_factory=dict)
    symptoms: list[str] = field(default_factory=list)
    examples: list[TreeExample] = field(default_factory=list)
    # ids of nodes written in the file but not loaded (reported already): no follow-on errors
    unreadable: list[str] = field(default_factory=list)


def goto_entry(node: Node, trees: Mapping[str, Tree]) -> tuple[str, str] | None:
    """The (tree, node) a goto step enters, when that tree exists (its start unless `tree#node`)."""
    target = trees.get(node.goto_tree or "") if node.kind == "goto" else None
    return (target.id, node.goto_node or target.start) if target else None


@dataclass(slots=True)
class Category:
    id: str
    title: str
    description: str = ""
    order: int = 1000
    translations: dict[str, dict[str, str]] = field(default_factory=dict)

    def title_in(self, lang: str) -> str:
        return self.translations.get(lang, {}).get("title", self.title)

    def description_in(self, lang: str) -> str:
        return self.translations.get(lang, {}).get("description", self.description)


@dataclass(slots=True)
class Support:
    """How end users reach the service desk."""

    name: str = "Service desk"
    email: str = ""
    phone: str = ""
    hours: str = ""
    ticket_url: str = ""
    translations: dict[str, dict[str, str]] = field(default_factory=dict)

    def in_language(self, lang: str) -> Support:
        """The contact details with this language's name and hours, where kb.yaml gives them."""
        local = self.translations.get(lang, {})
        return Support(local.get("name", self.name), self.email, self.phone,
                       local.get("hours", self.hours), local.get("ticket_url", self.ticket_url))


@dataclass(slots=True)
class Config:
    """The settings in kb.yaml."""

    title: str = "Help centre"
    base_url: str = "/"
    languages: list[str] = field(default_factory=lambda: ["en"])
    default_language: str = "en"
    support: Support = field(default_factory=Support)
    categories: dict[str, Category] = field(default_factory=dict)
    translations: dict[str, dict[str, str]] = field(default_factory=dict)
    sessions: str | None = None
    sessions_retention: str | None = None
    coverage: dict[str, float] = field(default_factory=dict)  # least % per measure, e.g. {"ends": 100}
    server_url: str | None = None  # kb server, for the help site's feedback form
    report: dict[str, Any] = field(default_factory=dict)  # kb report's settings, read there
    search: dict[str, Any] = field(default_factory=dict)  # kb search's settings (synonyms), read there
    extra: dict[str, Any] = field(default_factory=dict)

    def title_in(self, lang: str) -> str:
        return self.translations.get(lang, {}).get("title", self.title)
