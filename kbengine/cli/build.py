"""`kb build`: render the public help site into site/ (or --out), with its search index."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from kbengine.cli.options import json_option, open_kb, print_json, root_option
from kbengine.cli.output import format_text
from kbengine.kb import KnowledgeBase
from kbengine.site import ContentErrors, OutputError, SearchIndexError, SiteSummary, build_site
from kbengine.site.builder import Progress


@contextmanager
def _progress_bar() -> Iterator[Progress | None]:
    """A progress bar on a terminal; nothing when output is piped."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress as Bar

    with Bar(transient=True) as bar:
        tasks: dict[str, object] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)  # type: ignore[arg-type]

        yield update


def build_or_exit(kb: KnowledgeBase, out: Path, *, search: bool = True, drafts: bool = False) -> SiteSummary:
    """Build the site, or print why not (content errors, Pagefind, the output folder) and exit 1."""
    try:
        with _progress_bar() as progress:
            return build_site(kb, out, progress=progress, search=search, drafts=drafts)
    except ContentErrors as problem:
        click.echo(format_text(problem.errors, len(kb.files)), err=True)
        click.echo("kb build: not built: fix the errors above first (warnings do not stop a build). "
                   "The previous site is unchanged.", err=True)
    except (SearchIndexError, OutputError) as problem:
        click.echo(f"kb build: {problem}. The previous site is unchanged.", err=True)
    except OSError as problem:
        click.echo(f"kb build: cannot write the site: {problem.strerror} ({problem.filename}). "
                   "The previous site is unchanged.", err=True)
    raise SystemExit(1)


def default_out(kb: KnowledgeBase, out: Path | None) -> Path:
    return out.absolute() if out is not None else kb.root / "site"


@click.command("build")
@root_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to write the site to. Default: site/ in the KB folder.")
@click.option("--no-search", is_flag=True,
              help="Skip the Pagefind search index (a faster build; search will not work).")
@json_option
def command(root: Path | None, out: Path | None, no_search: bool, as_json: bool) -> None:
    """Build the public self-service help site.

    Renders every public, published article and troubleshooter into static HTML
    (English and Dutch interface text, one folder per language), copies the images
    they use, writes sitemap.xml and robots.txt, and indexes everything for search
    with Pagefind. Internal and draft content never reaches the site.

    The site is built in a temporary folder next to the output and swapped in
    whole, so a failed or interrupted build leaves the previous site untouched. A KB
    with errors (see `kb check`) is not built; warnings are counted, not fatal.

    \b
    Exit status: 0 built, 1 not built (content errors, or the site could not be
                 written or indexed), 2 the command was used wrongly.

    \b
    Examples:
      kb build
      kb build --out public --json
      kb serve                      # build and preview on http://127.0.0.1:8000/
    """
    kb = open_kb(root)
    target = default_out(kb, out)
    summary = build_or_exit(kb, target, search=not no_search)
    if as_json:
        print_json(summary.as_dict())
    else:
        click.echo(f"Built {summary.pages} pages in {', '.join(summary.languages)} "
                   f"({summary.files} files, {summary.bytes / 1024:,.0f} KiB) "
                   f"in {summary.seconds:.1f} s: {target}")
    if summary.diagnostics:
        click.echo("\n".join(d.format() for d in summary.diagnostics), err=True)
    if summary.warnings:
        click.echo(f"kb build: {summary.warnings} warning(s) in the content; run `kb check` to see them.",
                   err=True)
