"""Output formats of the commands, in one place: diagnostics as text, JSON, GitHub annotations
and SARIF; path coverage; graph views as JSON, DOT and Mermaid; content diffs as text,
Markdown and JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from kbengine import __version__
from kbengine.check.registry import RULES
from kbengine.model import Diagnostic

if TYPE_CHECKING:  # types only: `kb check` should not pay for importing what `kb diff` uses
    from kbengine.check.coverage import Measure
    from kbengine.services.check import CheckReport, CoverageReport
    from kbengine.services.diff import ContentDiff
    from kbengine.services.graph import View


def format_text(diagnostics: list[Diagnostic], files: int) -> str:
    lines = []
    for diagnostic in diagnostics:
        lines.append(diagnostic.format())
        if diagnostic.hint:
            lines.append(f"    hint: {diagnostic.hint}")
    lines.append(summary(diagnostics, files))
    return "\n".join(lines)


def summary(diagnostics: list[Diagnostic], files: int) -> str:
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = len(diagnostics) - errors
    if not diagnostics:
        return f"All clear: {files} files checked, no problems."
    return (f"Found {errors} error{'s' * (errors != 1)} and {warnings} "
            f"warning{'s' * (warnings != 1)} in {files} files.")


def format_github(diagnostics: list[Diagnostic]) -> str:
    def escape(text: str) -> str:
        return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    return "\n".join(
        f"::{d.severity} file={d.path},line={d.line},col={d.col},title={d.code}::"
        f"{escape(d.message + (' - ' + d.hint if d.hint else ''))}"
        for d in diagnostics)


def check_json(report: CheckReport, coverage: CoverageReport | None = None) -> str:
    value = report.as_dict()
    if coverage is not None:
        value["coverage"] = coverage.as_dict()
    return json.dumps(value, ensure_ascii=False, indent=2)


def format_coverage(report: CoverageReport) -> str:
    """A table of every tree's coverage by its examples, then the ends missed and the shortfalls."""
    def cell(measure: Measure) -> str:
        return f"{measure.covered}/{measure.total} ({measure.percent:g}%)"

    rows: list[tuple[str, ...]] = [("tree", "nodes", "answers", "ends", "paths")]
    for tree in report.trees:
        paths = cell(tree.paths) + ("+" if tree.paths_capped else "")
        rows.append((tree.tree, cell(tree.nodes), cell(tree.answers), cell(tree.ends), paths))
    rows.append(("total", *(cell(report.total(m)) for m in ("nodes", "answers", "ends", "paths"))))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(text.ljust(width) for text, width in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    for tree in report.trees:
        if tree.missed_ends:
            lines.append(f"{tree.path}: no example reaches {', '.join(tree.missed_ends)}")
    lines += [f"coverage under threshold: {shortfall}" for shortfall in report.shortfalls]
    return "\n".join(lines)


def check_sarif(report: CheckReport) -> str:
    """SARIF 2.1.0, as GitHub code scanning and editors' SARIF viewers read it."""
    used = sorted({d.code for d in report.diagnostics})
    rules = [{"id": code, "name": RULES[code].title,
              "shortDescription": {"text": RULES[code].title},
              "help": {"text": f"See {RULES[code].doc}"},
              "defaultConfiguration": {"level": RULES[code].severity}} for code in used]
    results = [{
        "ruleId": d.code, "ruleIndex": used.index(d.code), "level": d.severity,
        "message": {"text": d.message + (f" (hint: {d.hint})" if d.hint else "")},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": d.path, "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": d.line, "startColumn": d.col}}}],
    } for d in report.diagnostics]
    return json.dumps({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "kb", "version": __version__, "rules": rules}},
                  "results": results}]}, ensure_ascii=False, indent=2)


def graph_json(view: View) -> str:
    return json.dumps({"nodes": list(view.nodes.values()), "edges": view.edges},
                      ensure_ascii=False, indent=2, default=str)


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def graph_dot(view: View) -> str:
    lines = ["digraph kb {", "  node [shape=box];"]
    for key, record in view.nodes.items():
        lines.append(f"  {_dot_text(key)} [label={_dot_text(record['title'])}, "
                     f"kind={_dot_text(record.get('node_kind') or record['kind'])}];")
    for edge in view.edges:
        label = f", label={_dot_text(edge['label'])}" if "label" in edge else ""
        lines.append(f"  {_dot_text(edge['source'])} -> {_dot_text(edge['target'])} "
                     f"[kind={_dot_text(edge['kind'])}{label}];")
    lines.append("}")
    return "\n".join(lines)


# Mermaid reads `#...;` as a character code and gives quotes, brackets, pipes, `*` and `` ` ``
# their own meaning; writing each of them as a code keeps any label literal.
_MERMAID_SPECIAL = set('"#&<>[](){}|*`%\\')
_SHAPES = {"ask": ("{", "}"), "do": ("[", "]"), "solved": ("([", "])"),
           "escalate": ("[[", "]]"), "goto": (">", "]"), "tree": ("[/", "/]"),
           "article": ("[", "]")}


def mermaid_text(text: str) -> str:
    """A quoted Mermaid label that shows `text` exactly (on one line)."""
    flat = " ".join(text.split())
    return '"' + "".join(f"#{ord(c)};" if c in _MERMAID_SPECIAL else c for c in flat) + '"'


def graph_mermaid(view: View) -> str:
    ids = {key: f"n{number}" for number, key in enumerate(view.nodes)}
    lines = ["flowchart TD"]
    for key, record in view.nodes.items():
        opening, closing = _SHAPES.get(record.get("node_kind") or record["kind"], ("[", "]"))
        lines.append(f"  {ids[key]}{opening}{mermaid_text(record['title'])}{closing}")
    for edge in view.edges:
        label = edge.get("label") if edge["kind"] == "answer" else (
            None if edge["kind"] in {"next", "starts_at"} else edge["kind"].replace("_", " "))
        arrow = "-.->" if edge["kind"] == "goto" else "-->"
        text = f"|{mermaid_text(label)}|" if label else ""
        lines.append(f"  {ids[edge['source']]} {arrow}{text} {ids[edge['target']]}")
    return "\n".join(lines)




GRAPH_FORMATS: dict[str, Callable[[View], str]] = {
    "json": graph_json, "dot": graph_dot, "mermaid": graph_mermaid}


def diff_text(diff: ContentDiff) -> str:
    lines = [f"Content changes from {diff.old} to {diff.new}:"] if diff.changes else [
        f"No content changes from {diff.old} to {diff.new}."]
    for title, changes in (("Trees", diff.trees), ("Articles", diff.articles)):
        if changes:
            lines.append(f"{title}:")
            lines += [f"  {c.item}: {c.kind}: {c.text}" for c in changes]
    return "\n".join(lines)


def diff_markdown(diff: ContentDiff) -> str:
    """For a pull-request comment: a heading, then a list per tree and for the articles."""
    lines = [f"### Content changes: `{diff.old}` → `{diff.new}`", ""]
    if not diff.changes:
        return "\n".join([*lines, "No changes to trees or articles."])
    if diff.trees:
        lines.append("**Trees**")
        for tree_id in dict.fromkeys(c.item for c in diff.trees):
            lines.append(f"- `{tree_id}`")
            lines += [f"  - {c.kind}: {c.text}" for c in diff.trees if c.item == tree_id]
        lines.append("")
    if diff.articles:
        lines.append("**Articles**")
        lines += [f"- `{c.item}` {c.kind}: {c.text}" for c in diff.articles]
    return "\n".join(lines).rstrip()


def diff_json(diff: ContentDiff) -> str:
    return json.dumps(diff.as_dict(), ensure_ascii=False, indent=2)


DIFF_FORMATS: dict[str, Callable[[ContentDiff], str]] = {
    "text": diff_text, "markdown": diff_markdown, "json": diff_json}
