"""`kb check` as a service: the diagnostics of a compiled KB with their counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kbengine.kb import KBOutline
from kbengine.model import Diagnostic

_CONTENT_SUFFIXES = (".md", ".markdown", ".yaml", ".yml")


@dataclass
class CheckReport:
    """What `kb check` found, and how much it looked at."""

    diagnostics: list[Diagnostic]
    files: int
    articles: int
    trees: int

    @property
    def errors(self) -> int:
        return sum(d.severity == "error" for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return sum(d.severity == "warning" for d in self.diagnostics)

    def failed(self, strict: bool = False) -> bool:
        """Errors fail a check; warnings too when strict."""
        return bool(self.errors or (strict and self.warnings))

    def as_dict(self) -> dict[str, Any]:
        return {"diagnostics": [d.as_dict() for d in self.diagnostics],
                "summary": {"files": self.files, "errors": self.errors, "warnings": self.warnings,
                            "articles": self.articles, "trees": self.trees}}


def check_report(kb: KBOutline) -> CheckReport:
    """Every problem the compile found in the KB's content files."""
    files = sum(f.lower().endswith(_CONTENT_SUFFIXES) for f in kb.files)
    return CheckReport(kb.diagnostics, files, len(kb.article_ids), len(kb.trees))
