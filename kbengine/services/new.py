"""Start a new article or tree as a draft: choose its id and file, and write it without overwriting."""

from __future__ import annotations

import datetime
import os
import posixpath
import subprocess
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from kbengine.kb import KnowledgeBase
from kbengine.model import Article, Tree
from kbengine.read.slugs import slugify
from kbengine.scaffold import ID_PATTERN, SKELETONS, Draft, article_text, clean_title, tree_text

SCHEMA_FOLDER = "schemas"  # beside articles/ and trees/; the compiler reads nothing there


class NewError(Exception):
    """A reason the file cannot be written, in the writer's words (the id or file exists, a disk error)."""


class NewUsageError(Exception):
    """A value the writer gave that cannot be used; `option` names it (`--id`, `--category`, ...)."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


@dataclass(frozen=True)
class Created:
    kind: str  # "article" or "tree"
    id: str
    path: str  # KB-relative

    def as_json(self) -> dict[str, str]:
        return {"path": self.path, "id": self.id, "kind": self.kind}


def git_user(root: Path) -> str:
    try:
        done = subprocess.run(["git", "config", "user.name"], cwd=root, capture_output=True,
                              text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""  # no git here: the owner stays empty for the writer to fill in
    return done.stdout.strip() if done.returncode == 0 else ""


def new_id(kb: KnowledgeBase, title: str, given: str | None) -> str:
    """The id (and file name) of new content: `given`, or the title as a slug; never one in use."""
    if given is not None:
        if not ID_PATTERN.match(given):
            raise NewUsageError("--id", f"'{given}' is not an id: use a-z, 0-9, - and _, "
                                        "starting with a letter or digit")
        chosen = given
    else:
        chosen = slugify(title)
        if not chosen:
            raise NewUsageError("TITLE", f"no file name can be made from the title '{title}'; "
                                         "pass one with --id")
    # ids are shared by articles and trees (`kb show ID`, `[[ID]]`), so both are checked
    items: list[Article | Tree] = [*kb.articles.values(), *kb.trees.values()]
    for item in items:
        if item.id == chosen or slugify(Path(item.path).stem) == chosen:
            raise NewError(f"the id '{chosen}' is taken by {item.path}; choose another title or pass --id")
    return chosen


def check_category(kb: KnowledgeBase, given: str) -> str:
    known = list(kb.config.categories)
    if known and given not in known:
        raise NewUsageError("--category", f"'{given}' is not a category in kb.yaml; use one of: "
                                          f"{', '.join(known)}")
    if not ID_PATTERN.match(given):
        raise NewUsageError("--category", f"'{given}' is not a category id")
    return given


def default_lang(kb: KnowledgeBase) -> str:
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


def copy_schema(root: Path, name: str) -> str:
    """Put kbengine's JSON Schema `name` in the KB's schemas/ folder (kept in git, so editors
    find it offline in every clone) and return its KB-relative path. An up-to-date copy is
    left alone; an older one is replaced."""
    rel = f"{SCHEMA_FOLDER}/{name}.json"
    text = resources.files("kbengine.schemas").joinpath(f"{name}.json").read_text("utf-8")
    target = root / rel
    try:
        if not target.is_file() or target.read_text("utf-8") != text:
            target.parent.mkdir(exist_ok=True)
            target.write_text(text, "utf-8")
    except OSError as error:
        raise NewError(f"cannot write {rel}: {error.strerror or error}") from None
    return rel


def new_article(kb: KnowledgeBase, title: str, *, category: str | None, lang: str | None = None,
                translation_of: str | None = None, internal: bool = False,
                given_id: str | None = None) -> Created:
    """Write articles/CATEGORY/ID.md as a draft; a translation copies category, tags and audience."""
    title = clean_title(title)
    chosen = new_id(kb, title, given_id)
    tags: list[str] = []
    audience = "internal" if internal else "public"
    if translation_of is not None:
        original = kb.articles.get(translation_of)
        if original is None:
            raise NewUsageError("--translation-of", f"no article has the id '{translation_of}'")
        others = [code for code in SKELETONS if code != original.lang]
        lang = lang or (others[0] if others else None)
        if lang is None or lang == original.lang:
            raise NewUsageError("--lang", f"'{translation_of}' is in {original.lang} already; "
                                          "choose the translation's language")
        category = category or original.category
        tags = list(original.tags)
        audience = "internal" if internal or original.audience == "internal" else "public"
    if not category:
        known = ", ".join(kb.config.categories)
        raise NewUsageError("--category", "pass --category ID" + (f" (one of: {known})" if known else ""))
    category = check_category(kb, category)
    draft = Draft(title=title, category=category, lang=lang or default_lang(kb),
                  updated=datetime.date.today().isoformat(), owner=git_user(kb.root),
                  audience=audience, tags=tags, translation_of=translation_of)
    rel = f"articles/{category}/{chosen}.md"
    write_new(kb.root, rel, article_text(draft))
    return Created("article", chosen, rel)


def new_tree(kb: KnowledgeBase, title: str, *, category: str | None = None, lang: str | None = None,
             given_id: str | None = None) -> Created:
    """Write trees/ID.yaml: a small working tree that passes `kb check --strict` as written."""
    title = clean_title(title)
    chosen = new_id(kb, title, given_id)
    rel = f"trees/{chosen}.yaml"
    draft = Draft(title=title, category=check_category(kb, category) if category else "",
                  lang=lang or default_lang(kb), updated=datetime.date.today().isoformat(),
                  schema=posixpath.relpath(copy_schema(kb.root, "tree"), posixpath.dirname(rel)))
    write_new(kb.root, rel, tree_text(draft))
    return Created("tree", chosen, rel)
