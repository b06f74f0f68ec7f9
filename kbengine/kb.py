"""The compiled KB as plain values, and where a KB keeps its files. No I/O.

`KBOutline` is what most commands need (settings, trees, diagnostics); `KnowledgeBase` adds
every article and the graph. A warm compile reads the outline alone, and a command that needs
articles asks for them (compiler.load_content), so `kb walk` never unpickles article bodies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kbengine.model import Article, Config, Diagnostic, Tree

if TYPE_CHECKING:  # networkx loads with the graph, not with every KB
    from kbengine.graph import KBGraph

from kbengine.layout import CACHE_DIR as CACHE_DIR  # re-exported: many modules import them from here
from kbengine.layout import CONFIG_FILE as CONFIG_FILE


@dataclass
class KBOutline:
    """A compiled KB without article bodies and graph: settings, trees, what the checks found."""

    root: Path
    config: Config
    trees: dict[str, Tree]
    diagnostics: list[Diagnostic]
    files: list[str]
    fingerprint: str
    article_ids: list[str]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]


@dataclass
class KnowledgeBase(KBOutline):
    """A compiled KB: every article and tree, the graph, and what the checks found."""

    articles: dict[str, Article]
    graph: KBGraph

    def outline(self) -> KBOutline:
        return KBOutline(self.root, self.config, self.trees, self.diagnostics, self.files,
                         self.fingerprint, self.article_ids)
