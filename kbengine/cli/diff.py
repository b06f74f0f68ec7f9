"""`kb diff REV1 [REV2]`: what changed in the trees and articles between two git revisions."""

from __future__ import annotations

from pathlib import Path

import click

from kbengine.cli.options import resolve_root, root_option
from kbengine.cli.output import DIFF_FORMATS
from kbengine.services.diff import DiffError, diff_revisions


@click.command("diff")
@click.argument("old", metavar="REV1")
@click.argument("new", metavar="[REV2]", required=False)
@root_option
@click.option("--format", "output", type=click.Choice(["text", "markdown", "json"]), default="text",
              show_default=True, help="text for people, markdown for a pull-request comment, "
              "json for scripts.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
def command(old: str, new: str | None, root: Path | None, output: str, as_json: bool) -> None:
    """Say what changed in the content between two git revisions, in the words of the trees.

    REV1 and REV2 are anything git understands (a commit, a branch, a tag, HEAD~3);
    without REV2 the files as they are now are compared with REV1. Files are read
    with git itself: nothing is checked out.

    Trees: nodes and answers added, removed, relabelled or rewired; answers that
    now lead to a different end; new or changed escalations. Articles: added,
    removed, retitled, moved, status or audience changed, ids renamed. Both: links
    and references that break.

    \b
    Exit status: 0 compared (whether or not anything changed),
                 1 a revision cannot be read, 2 the command was used wrongly.

    \b
    Examples:
      kb diff main
      kb diff HEAD~1 HEAD
      kb diff origin/main HEAD --format markdown > comment.md
    """
    folder = resolve_root(root)
    try:
        diff = diff_revisions(folder, old, new)
    except DiffError as error:
        click.echo(f"kb diff: {error}", err=True)
        raise SystemExit(1) from None
    click.echo(DIFF_FORMATS["json" if as_json else output](diff))
