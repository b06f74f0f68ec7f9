"""Turn LibreOffice's Dutch help (Debian package libreoffice-help-nl, MPL-2.0) into KB articles.

    python benchmarks/relevance/import_libreoffice.py OUT_FOLDER [--help-dir DIR]

Without --help-dir the package is fetched with `apt-get download` and unpacked with `dpkg -x`
into a temporary folder. Each help page (text/**/*.html, Basic reference left out) becomes
`articles/<module>/<folder>/<page>.md` with its first heading as title, its first paragraph as
summary and `lang: nl`; headings, paragraphs, list items and notes become Markdown. The words a
Mac user would see instead (`Commando` for `Ctrl`, hidden in the page) are left out, as the
browser does. A page's entries in the help's keyword index (bookmarks.js, what LibreOffice's
Help > Index tab lists: "opmaak -- herstellen") become its `tags`, as a writer's keywords; the
benchmark gives them to every engine. Attribution: the LibreOffice contributors (help text, MPL-2.0).
"""

from __future__ import annotations

import argparse
import html
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path

PACKAGE = "libreoffice-help-nl"
HELP_TEXT = Path("usr/share/libreoffice/help/nl/text")
SKIPPED_MODULES = {"sbasic"}  # the Basic language reference: API pages, not help a caller needs
_BLOCKS = {"h1": "# ", "h2": "## ", "h3": "### ", "h4": "### ", "p": "", "li": "- "}
_SPACE = re.compile(r"\s+")
# in the imported kb.yaml: a work folder imported by an older version of this script is imported again
IMPORT_MARK = "# imported by import_libreoffice.py, version 3 (index keywords as tags)"


class _HelpPage(HTMLParser):
    """Collects the text blocks of the help page's display area, skipping hidden alternatives."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str]] = []  # (tag, text)
        self._inside = False  # within <div id="DisplayArea">, before the related topics
        self._hidden = 0  # depth of hidden spans
        self._open: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id") == "DisplayArea":
            self._inside = True
        elif (values.get("name") in ("relatedtopics", "related")
              or values.get("id") in ("SearchFrame", "DEBUG")):
            # "related" marks the "Verwante onderwerpen" list of links: other pages' titles,
            # not this one's text
            self._inside = False
        if not self._inside:
            return
        # one of each platform's words is shown by the page's script: keep the default one
        if self._hidden or (tag == "span" and "hidden" in values
                            and not (values.get("id") or "").startswith("default")):
            self._hidden += tag == "span"
            return
        if tag in _BLOCKS:
            self._open.append((tag, []))

    def handle_endtag(self, tag: str) -> None:
        if self._hidden and tag == "span":
            self._hidden -= 1
            return
        if self._hidden:
            return
        if self._open and self._open[-1][0] == tag:
            name, parts = self._open.pop()
            text = _SPACE.sub(" ", "".join(parts)).strip()
            if text:
                if self._open:  # a paragraph inside a list item: the item's text
                    self._open[-1][1].append(text)
                else:
                    self.blocks.append((name, text))

    def handle_data(self, data: str) -> None:
        if self._inside and not self._hidden and self._open:
            self._open[-1][1].append(data)


_BOOKMARK = re.compile(r'\{url:"[a-z]+/text/([^"?#]+)\.html[^"]*",\s*app:"[^"]*",\s*text:"([^"]*)"\}')


def index_terms(help_text: Path) -> dict[str, list[str]]:
    """Each page's entries in the help's keyword index (page path without .html -> entries),
    an entry's levels joined by a space: "opmaak -- herstellen" -> "opmaak herstellen"."""
    try:
        source = (help_text.parent / "bookmarks.js").read_text("utf-8", errors="replace")
    except OSError:
        return {}
    terms: dict[str, list[str]] = {}
    for page, text in _BOOKMARK.findall(source):
        entry = _SPACE.sub(" ", html.unescape(text).replace("--", " ").replace(",", " ")).strip()
        kept = terms.setdefault(page, [])
        if entry and entry not in kept:
            kept.append(entry)
    return terms


def page_article(page: Path, tags: Sequence[str] = ()) -> tuple[str, str] | None:
    """(title, Markdown article) of one help page, or None when it has no heading or text."""
    parser = _HelpPage()
    parser.feed(page.read_text("utf-8", errors="replace"))
    blocks = parser.blocks
    title = next((text for tag, text in blocks if tag == "h1"), None)
    body = [(tag, text) for tag, text in blocks if not (tag == "h1" and text == title)]
    if title is None or not body:
        return None
    summary = next((text for tag, text in body if tag == "p"), "")
    lines = [f"{_BLOCKS[tag]}{text}" for tag, text in body]
    listed = "".join(f"\n  - {_yaml(tag)}" for tag in tags)
    front = (f"---\ntitle: {_yaml(title)}\nsummary: {_yaml(summary[:300])}\nlang: nl\n"
             + (f"tags:{listed}\n" if tags else "")
             + "source: LibreOffice help, MPL-2.0\n---\n\n")
    return title, front + "\n\n".join(lines) + "\n"


def _yaml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unpack_package(work: Path) -> Path:
    """Fetch the package with apt-get and unpack it; the folder with the help's text/ pages."""
    subprocess.run(["apt-get", "download", PACKAGE], cwd=work, check=True, capture_output=True)
    package = next(work.glob(f"{PACKAGE}_*.deb"))
    subprocess.run(["dpkg", "-x", str(package), str(work / "x")], check=True)
    return work / "x" / HELP_TEXT


def import_help(help_text: Path, out: Path) -> int:
    """Write one article per help page under out/articles; returns how many were written."""
    written = 0
    terms = index_terms(help_text)
    for page in sorted(help_text.rglob("*.html")):
        relative = page.relative_to(help_text)
        if relative.parts[0] in SKIPPED_MODULES:
            continue
        article = page_article(page, terms.get(relative.with_suffix('').as_posix(), []))
        if article is None:
            continue
        target = out / "articles" / relative.with_suffix(".md")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html.unescape(article[1]), "utf-8")
        written += 1
    (out / "kb.yaml").write_text(f"title: LibreOffice-hulp (nl)\nlanguages: [nl]\n{IMPORT_MARK}\n", "utf-8")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the KB folder to write (articles/ and kb.yaml)")
    parser.add_argument("--help-dir", type=Path, help="an unpacked help text/ folder (default: fetch)")
    arguments = parser.parse_args()
    if arguments.help_dir is not None:
        count = import_help(arguments.help_dir, arguments.out)
    else:
        with tempfile.TemporaryDirectory() as work:
            count = import_help(unpack_package(Path(work)), arguments.out)
    print(f"{count} articles written to {arguments.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
