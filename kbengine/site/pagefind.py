"""Index the built site with Pagefind (the `pagefind[bin]` package): one index per `<html lang>`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from kbengine.site.children import die_with_parent
from kbengine.site.output import Changes

BUNDLE = "pagefind"  # the folder in the site that holds the index and Pagefind's scripts
QUERY_WORDS = "kb-query-words.json"  # per language, the words site.js leaves out of a question or weighs down
_CONTENT_NAMED = ("fragment/", "index/", "filter/")  # and *.pf_meta: names carry a content hash


class SearchIndexError(Exception):
    """Pagefind could not index the site; the message says why."""


def index_site(site: Path, changes: Changes | None = None,
               synonyms: Callable[[str], list[list[str]]] | None = None) -> None:
    """Write the search index into `site/pagefind/`; raises SearchIndexError with Pagefind's words.
    An index already there is updated file by file: Pagefind writes a new one beside the site,
    and only its files that differ are moved in (most are named by their content). `synonyms`
    gives a language's synonym groups, for site.js to look for too."""
    bundle = site / BUNDLE
    if not bundle.is_dir():
        _run_pagefind(site, bundle, synonyms)
        return
    beside = site.parent / f".{site.name}.pagefind-{os.getpid()}"
    shutil.rmtree(beside, ignore_errors=True)
    try:
        _run_pagefind(site, beside, synonyms)
        _move_in(beside, bundle, changes or Changes(site))
    finally:
        shutil.rmtree(beside, ignore_errors=True)


def _move_in(new: Path, bundle: Path, changes: Changes) -> None:
    """Make `bundle` equal `new`: content-named files first, the entry files that name them
    next, stale files last, so the index in use stays whole at every step."""
    wanted = {p.relative_to(new).as_posix(): p for p in new.rglob("*") if p.is_file()}
    named = sorted(rel for rel in wanted if rel.startswith(_CONTENT_NAMED) or rel.endswith(".pf_meta"))
    for rel in [*named, *sorted(wanted.keys() - set(named))]:
        target = bundle / rel
        if rel in named and target.is_file():
            continue  # the same name holds the same content
        if rel not in named and target.is_file() and target.read_bytes() == wanted[rel].read_bytes():
            continue
        changes.put(wanted[rel], target)
    for path in sorted(bundle.rglob("*"), reverse=True):
        rel = path.relative_to(bundle).as_posix()
        if path.is_file() and rel not in wanted:
            changes.remove(path)
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def _run_pagefind(site: Path, output: Path, synonyms: Callable[[str], list[list[str]]] | None) -> None:
    command = [sys.executable, "-m", "pagefind", "--site", str(site), "--output-path", str(output),
               "--silent"]
    try:
        # Pagefind dies with this process: a killed build must not leave it writing into the site
        done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False,
                              preexec_fn=die_with_parent)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SearchIndexError(f"Pagefind did not run: {error}") from None
    if done.returncode != 0 or not (output / "pagefind.js").is_file():
        detail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise SearchIndexError("Pagefind could not index the site: " + " ".join(detail))
    languages = _sort_languages(output / "pagefind-entry.json")
    _write_query_words(output / QUERY_WORDS, languages, synonyms)


def _sort_languages(entry: Path) -> list[str]:
    """Pagefind lists the languages of its entry file in any order; sorted, the same site always
    gives the same bytes (and an unchanged entry file is left alone by the next build). Returns them."""
    try:
        data = json.loads(entry.read_text("utf-8"))
        data["languages"] = dict(sorted(data["languages"].items()))
    except (OSError, ValueError, KeyError, AttributeError):
        return []  # a format this version does not know: left as Pagefind wrote it
    entry.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), "utf-8")
    return list(data["languages"])


def _write_query_words(path: Path, languages: list[str],
                       synonyms: Callable[[str], list[list[str]]] | None) -> None:
    """The stop words, caller words and synonyms of `kb search`, for each language of the index:
    site.js leaves the first out of a question, weighs the second down and looks for the third
    too, as `kb search` does."""
    from kbengine.search.query import CALLER_WORD_WEIGHT, CALLER_WORDS, MAX_ENDING, SYNONYM_WEIGHT, stop_words

    words = {lang: {"stop": sorted(stop_words(lang)), "caller": sorted(CALLER_WORDS.get(lang, "").split()),
                    "caller_weight": CALLER_WORD_WEIGHT,
                    "synonyms": synonyms(lang) if synonyms else [], "synonym_weight": SYNONYM_WEIGHT,
                    "max_ending": MAX_ENDING} for lang in languages}
    path.write_text(json.dumps(words, ensure_ascii=False, separators=(",", ":")), "utf-8")
