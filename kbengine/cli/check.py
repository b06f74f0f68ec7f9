"""`kb check`: every problem in the KB as `path:line:col: severity CODE message`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kbengine.cli.options import open_kb, root_option
from kbengine.model import Diagnostic


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


@click.command("check")
@root_option
@click.option("--format", "output", type=click.Choice(["text", "json", "github"]), default="text",
              show_default=True, help="text for people, json for scripts, github for "
              "GitHub Actions annotations.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--strict", is_flag=True, help="Fail on warnings too (for CI on content).")
@click.option("--no-cache", is_flag=True, help="Ignore .kb/ and parse every file again.")
def command(root: Path | None, output: str, as_json: bool, strict: bool, no_cache: bool) -> None:
    """Check every article, tree and kb.yaml, and report each problem where it is.

    Each problem is one line, `path:line:col: severity CODE message`, followed by a
    hint. Errors make a tree unwalkable or the KB ambiguous (broken YAML, a missing
    node, a loop with no exit, a duplicate id); warnings are content that still works
    but should be fixed (a broken link, a missing image, a public page linking an
    internal one). A tree's examples are walked too, and one that does not end
    where it says is an error (KB418). Every CODE is explained in docs/rules.md.

    \b
    Exit status: 0 no errors (and, with --strict, no warnings),
                 1 problems found, 2 the command was used wrongly.

    \b
    Examples:
      kb check
      kb check --strict --format github
      kb check --json | jq '.diagnostics[] | select(.severity == "error")'
    """
    kb = open_kb(root, use_cache=not no_cache)
    files = len([f for f in kb.files if f.endswith((".md", ".yaml", ".yml"))])
    diagnostics = kb.diagnostics
    if as_json or output == "json":
        click.echo(json.dumps({
            "diagnostics": [d.as_dict() for d in diagnostics],
            "summary": {"files": files, "errors": len(kb.errors), "warnings": len(kb.warnings),
                        "articles": len(kb.articles), "trees": len(kb.trees)},
        }, ensure_ascii=False, indent=2))
    elif output == "github":
        if diagnostics:
            click.echo(format_github(diagnostics))
        click.echo(summary(diagnostics, files), err=True)
    else:
        click.echo(format_text(diagnostics, files))
    failed = kb.errors or (strict and kb.warnings)
    raise SystemExit(1 if failed else 0)
