"""`kb check` as a service: the diagnostics of a compiled KB with their counts, and the path
coverage of its trees by their examples."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kbengine.kb import KBOutline

if TYPE_CHECKING:
    from kbengine.check.coverage import Measure, TreeCoverage
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


@dataclass
class CoverageReport:
    """Path coverage of every tree by its examples, and the trees under kb.yaml's thresholds."""

    trees: list[TreeCoverage]
    thresholds: dict[str, float]

    def total(self, measure: str) -> Measure:
        from kbengine.check.coverage import Measure

        parts = [getattr(tree, measure) for tree in self.trees]
        return Measure(sum(p.covered for p in parts), sum(p.total for p in parts))

    @property
    def shortfalls(self) -> list[str]:
        """One sentence per tree and measure under its threshold."""
        return [f"{tree.tree}: {measure} {getattr(tree, measure).percent:g}% is under {least:g}%"
                for tree in self.trees for measure, least in sorted(self.thresholds.items())
                if getattr(tree, measure).percent < least]

    def as_dict(self) -> dict[str, Any]:
        return {"trees": [tree.as_dict() for tree in self.trees],
                "total": {m: self.total(m).as_dict() for m in ("nodes", "answers", "ends", "paths")},
                "thresholds": self.thresholds, "shortfalls": self.shortfalls}


def coverage_report(kb: KBOutline) -> CoverageReport:
    """How much of every tree its examples walk, against `coverage:` in kb.yaml."""
    from kbengine.check.coverage import coverage

    return CoverageReport(coverage(kb.trees), dict(kb.config.coverage))
