"""`kb check`: every problem in the KB as `path:line:col: severity CODE message`."""

from __future__ import annotations

from pathlib import Path

import click

from kbengine.cli.options import open_outline, root_option
from kbengine.cli.output import DIAGNOSTIC_FORMATS, format_github, format_text, summary
from kbengine.services.check import check_report


@click.command("check")
@root_option
@click.option("--format", "output", type=click.Choice(["text", "json", "github", "sarif"]),
              default="text", show_default=True, help="text for people, json for scripts, github "
              "for GitHub Actions annotations, sarif for code-scanning tools (SARIF 2.1.0).")
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
      kb check --format sarif > kb.sarif
    """
    report = check_report(open_outline(root, use_cache=not no_cache))
    output = "json" if as_json else output
    if output == "text":
        click.echo(format_text(report.diagnostics, report.files))
    elif output == "github":
        if report.diagnostics:
            click.echo(format_github(report.diagnostics))
        click.echo(summary(report.diagnostics, report.files), err=True)
    else:
        click.echo(DIAGNOSTIC_FORMATS[output](report))
    raise SystemExit(1 if report.failed(strict) else 0)
