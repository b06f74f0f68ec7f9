"""`kb new article|tree TITLE`: start a new article or tree as a draft, with every field in place."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import click

from kbengine.cli.options import json_option, open_kb, print_json, root_option
from kbengine.kb import KnowledgeBase
from kbengine.model import Article, Tree
from kbengine.read.slugs import slugify
from kbengine.scaffold import ID_PATTERN, SKELETONS, Draft, article_text, clean_title, tree_text


class NewError(Exception):
    """A reason the file cannot be written, in the writer's words (exit 1)."""


def _git_user(root: Path) -> str:
    try:
        done = subprocess.run(["git", "config", "user.name"], cwd=root, capture_output=True,
                              text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""  # no git here: the owner stays empty for the writer to fill in
    return done.stdout.strip() if done.returncode == 0 else ""


def _new_id(title: str, given: str | None) -> str:
    if given is not None:
        if not ID_PATTERN.match(given):
            raise click.BadParameter(f"'{given}' is not an id: use a-z, 0-9, - and _, "
                                     "starting with a letter or digit", param_hint="--id")
        return given
    slug = slugify(title)
    if not slug:
        raise click.BadParameter(f"no file name can be made from the title '{title}'; "
                                 "pass one with --id", param_hint="TITLE")
    return slug


def _check_unused(kb: KnowledgeBase, new_id: str) -> None:
    """Ids are shared by articles and trees (`kb show ID`, `[[ID]]`), so both are checked."""
    items: list[Article | Tree] = [*kb.articles.values(), *kb.trees.values()]
    for item in items:
        if item.id == new_id or slugify(Path(item.path).stem) == new_id:
            raise NewError(f"the id '{new_id}' is taken by {item.path}; "
                           "choose another title or pass --id")


def _category(kb: KnowledgeBase, given: str | None, *, required: bool) -> str:
    known = list(kb.config.categories)
    if given is None:
        if not required:
            return ""
        if not sys.stdin.isatty():
            raise click.UsageError("pass --category ID"
                                   + (f" (one of: {', '.join(known)})" if known else ""))
        if known:
            return str(click.prompt("Category", type=click.Choice(known)))
        given = str(click.prompt("Category"))
    if known and given not in known:
        raise click.BadParameter(f"'{given}' is not a category in kb.yaml; use one of: "
                                 f"{', '.join(known)}", param_hint="--category")
    if not ID_PATTERN.match(given):
        raise click.BadParameter(f"'{given}' is not a category id", param_hint="--category")
    return given


def _default_lang(kb: KnowledgeBase) -> str:
    return kb.config.default_language if kb.config.default_language in SKELETONS else "en"


def write_new(root: Path, rel: str, text: str) -> None:
    """Write the file aside and link it into place, so it never replaces one that exists."""
    target = root / rel
    if target.exists():
        raise NewError(f"{rel} exists already; kb new never overwrites a file")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, aside = tempfile.mkstemp(dir=target.parent, prefix=".new-", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as file:
            file.write(text)
        try:
            os.link(aside, target)  # fails if the file appeared meanwhile: never overwrites
        except FileExistsError:
            raise NewError(f"{rel} exists already; kb new never overwrites a file") from None
        except OSError:
            os.replace(aside, target)  # a file system without hard links
        finally:
            if os.path.exists(aside):
                os.unlink(aside)
    except NewError:
        raise
    except OSError as error:
        raise NewError(f"cannot write {rel}: {error.strerror or error}") from None


def _report(kind: str, new_id: str, rel: str, as_json: bool) -> None:
    if as_json:
        print_json({"path": rel, "id": new_id, "kind": kind})
        return
    try_it = f"kb show {new_id}" if kind == "article" else f"kb walk {new_id}"
    click.echo(f"Created {rel} ({kind} '{new_id}').\n"
               "It is a draft: it stays off the public site until you set status: published.\n"
               "Next steps:\n"
               f"  1. Replace every TODO in {rel}.\n"
               "  2. Run `kb check`: it reports any mistake at its line.\n"
               f"  3. Run `{try_it}` to see it as agents will.\n"
               "  4. Set status: published and run `kb serve` to preview the help site.")


def _finish(kind: str, new_id: str, root: Path, rel: str, text: str, as_json: bool) -> None:
    try:
        write_new(root, rel, text)
    except NewError as error:
        click.echo(f"kb new {kind}: {error}", err=True)
        raise SystemExit(1) from None
    _report(kind, new_id, rel, as_json)


def _open(root: Path | None, kind: str, title: str, given_id: str | None) -> tuple[KnowledgeBase, str]:
    kb = open_kb(root)
    new_id = _new_id(title, given_id)
    try:
        _check_unused(kb, new_id)
    except NewError as error:
        click.echo(f"kb new {kind}: {error}", err=True)
        raise SystemExit(1) from None
    return kb, new_id


@click.group("new")
def command() -> None:
    """Start a new article or troubleshooting tree, as a draft.

    Writes a file with every field filled in or marked TODO, so you only write the
    content. New content is a draft (status: draft): it never reaches the public site
    until you set status: published. Nothing existing is ever overwritten.

    \b
    Examples:
      kb new article "Printer jams" --category printing
      kb new tree "Printer jams" --category printing
    """


@command.command("article")
@click.argument("title")
@click.option("--category", help="Category id from kb.yaml; asked for on a terminal when left out.")
@click.option("--lang", type=click.Choice(SKELETONS),
              help="Language of the article (and of its headings). Default: kb.yaml's default "
                   "language; with --translation-of, another language than the original's.")
@click.option("--translation-of", "translation_of", metavar="ID",
              help="Id of the article this one translates; its category, tags and audience "
                   "are copied.")
@click.option("--internal", is_flag=True, help="For agents only: never on the public site.")
@click.option("--id", "given_id", metavar="ID", help="Id and file name. Default: the title as a slug.")
@root_option
@json_option
def new_article(title: str, category: str | None, lang: str | None, translation_of: str | None,
                internal: bool, given_id: str | None, root: Path | None, as_json: bool) -> None:
    """Write articles/CATEGORY/ID.md: front matter, then a body to fill in.

    The file name is the title as a slug (`Printer jams` -> printer-jams.md) unless
    --id gives one. The front matter has every field (summary left empty for you,
    status: draft, owner from `git config user.name`, updated: today); the body has
    the sections a service-desk article needs, in English or Dutch.

    \b
    Examples:
      kb new article "Printer jams" --category printing
      kb new article "Papier loopt vast" --translation-of printer-jams --lang nl
      kb new article "Unlock an account in AD" --category accounts --internal --json

    \b
    Exit status: 0 created, 1 the file or id exists already or cannot be written,
                 2 the command was used wrongly (unknown category, bad id).
    """
    title = clean_title(title)
    kb, new_id = _open(root, "article", title, given_id)
    tags: list[str] = []
    audience = "internal" if internal else "public"
    if translation_of is not None:
        original = kb.articles.get(translation_of)
        if original is None:
            raise click.BadParameter(f"no article has the id '{translation_of}'",
                                     param_hint="--translation-of")
        others = [code for code in SKELETONS if code != original.lang]
        lang = lang or (others[0] if others else None)
        if lang is None or lang == original.lang:
            raise click.BadParameter(f"'{translation_of}' is in {original.lang} already; "
                                     "choose the translation's language", param_hint="--lang")
        category = category or original.category
        tags = list(original.tags)
        audience = "internal" if internal or original.audience == "internal" else "public"
    category = _category(kb, category, required=True)
    draft = Draft(title=title, category=category, lang=lang or _default_lang(kb),
                  updated=datetime.date.today().isoformat(), owner=_git_user(kb.root),
                  audience=audience, tags=tags, translation_of=translation_of)
    rel = f"articles/{category}/{new_id}.md"
    _finish("article", new_id, kb.root, rel, article_text(draft), as_json)


@command.command("tree")
@click.argument("title")
@click.option("--category", help="Category id from kb.yaml (optional for trees).")
@click.option("--lang", type=click.Choice(SKELETONS),
              help="Language of the tree. Default: kb.yaml's default language.")
@click.option("--id", "given_id", metavar="ID", help="Id and file name. Default: the title as a slug.")
@root_option
@json_option
def new_tree(title: str, category: str | None, lang: str | None, given_id: str | None,
             root: Path | None, as_json: bool) -> None:
    """Write trees/ID.yaml: a small working tree to change into yours.

    The tree has one of each step (a question, an action, a solved end and a
    hand-over that asks for an asset tag), comments that explain them, and an
    example that `kb check` runs, so it passes `kb check --strict` as written.

    \b
    Examples:
      kb new tree "Printer jams" --category printing
      kb new tree "Printer loopt vast" --lang nl --id printer-loopt-vast --json

    \b
    Exit status: 0 created, 1 the file or id exists already or cannot be written,
                 2 the command was used wrongly (unknown category, bad id).
    """
    title = clean_title(title)
    kb, new_id = _open(root, "tree", title, given_id)
    draft = Draft(title=title, category=_category(kb, category, required=False),
                  lang=lang or _default_lang(kb), updated=datetime.date.today().isoformat())
    _finish("tree", new_id, kb.root, f"trees/{new_id}.yaml", tree_text(draft), as_json)
