"""`kb check`: every problem in the KB as `path:line:col: severity CODE message`."""

from __future__ import annotations

from pathlib import Path

import click

from kbengine.cli.options import open_outline, root_option
from kbengine.cli.output import check_json, check_sarif, format_coverage, format_github, format_text, summary
from kbengine.services.check import check_report, coverage_report


@click.command("check")
@root_option
@click.option("--format", "output", type=click.Choice(["text", "json", "github", "sarif"]),
              default="text", show_default=True, help="text for people, json for scripts, github "
              "for GitHub Actions annotations, sarif for code-scanning tools (SARIF 2.1.0).")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--strict", is_flag=True, help="Fail on warnings too (for CI on content).")
@click.option("--no-cache", is_flag=True, help="Ignore .kb/ and parse every file again.")
@click.option("--coverage", "with_coverage", is_flag=True,
              help="Also report how much of every tree's paths, nodes, answers and ends its "
                   "examples walk, and fail under the thresholds of coverage: in kb.yaml.")
def command(root: Path | None, output: str, as_json: bool, strict: bool, no_cache: bool,
            with_coverage: bool) -> None:
    """Check every article, tree and kb.yaml, and report each problem where it is.

    Each problem is one line, `path:line:col: severity CODE message`, followed by a
    hint. Errors make a tree unwalkable or the KB ambiguous (broken YAML, a missing
    node, a loop with no exit, a duplicate id); warnings are content that still works
    but should be fixed (a broken link, a missing image, a public page linking an
    internal one). A tree's examples are walked too, and one that does not end
    where it says is an error (KB418). Every CODE is explained in docs/rules.md.

    With --coverage, every path through each tree is enumerated (a loop is taken at
    most once per path) and the tree's examples are walked: the report says how many
    of its nodes, answers, ends and paths they reach, and names the ends none reaches.
    `coverage: {ends: 100}` in kb.yaml makes a tree under that percentage fail the check.

    \b
    Exit status: 0 no errors (and, with --strict, no warnings; with --coverage, no
                   tree under the coverage thresholds),
                 1 problems found, 2 the command was used wrongly.

    \b
    Examples:
      kb check
      kb check --strict --format github
      kb check --json | jq '.diagnostics[] | select(.severity == "error")'
      kb check --format sarif > kb.sarif
      kb check --coverage
    """
    kb = open_outline(root, use_cache=not no_cache)
    report = check_report(kb)
    paths = coverage_report(kb) if with_coverage else None
    output = "json" if as_json else output
    if output == "json":
        click.echo(check_json(report, paths))
    elif output == "text":
        click.echo(format_text(report.diagnostics, report.files))
    elif output == "github":
        if report.diagnostics:
            click.echo(format_github(report.diagnostics))
        click.echo(summary(report.diagnostics, report.files), err=True)
    else:
        click.echo(check_sarif(report))
    if paths is not None and output != "json":
        click.echo(format_coverage(paths), err=output != "text")
    raise SystemExit(1 if report.failed(strict) or (paths and paths.shortfalls) else 0)
