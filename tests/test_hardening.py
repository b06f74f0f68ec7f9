"""Tried as an attacker and a careless writer would: nothing is written outside the output,
nothing is read from outside the KB, no input stalls a build, no payload reaches a page as code."""

from __future__ import annotations

import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kbengine.compiler import compile_kb
from kbengine.read.slugs import address_problem, url_problem
from kbengine.read.sources import load_article, nesting_depth
from kbengine.site import ContentErrors, OutputError, build_site
from kbengine.site.markdown import ArticleRenderer
from kbengine.site.output import output_file
from tests.conftest import MINIMAL_CONFIG, WriteKB
from tests.test_site_build import site_text

LABELS = {"note": "Note", "tip": "Tip", "important": "Important", "warning": "Warning", "caution": "Caution"}


class NoLinks:
    def wiki(self, target: str) -> tuple[str, str] | None:
        return None

    def page(self, path: str) -> str | None:
        return None

    def file(self, path: str) -> str | None:
        return None


def codes(root: Path) -> dict[str, list[tuple[str, int]]]:
    """{code: [(path, line)]} of what kb check reports."""
    found: dict[str, list[tuple[str, int]]] = {}
    for diagnostic in compile_kb(root, use_cache=False).diagnostics:
        found.setdefault(diagnostic.code, []).append((diagnostic.path, diagnostic.line))
    return found


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


TREE = """\
    title: Escape
    start: first
    nodes:
      first:
        ask: Where to?
        answers: {{Out: '{target}'}}
      '{target}':
        solved: Written where?
    """


# --- writes outside the output folder --------------------------------------------------------------

@pytest.mark.parametrize("target", ["../../../../ESCAPED", "..", "a/../../b", "x\\..\\y"])
def test_a_node_id_that_would_leave_the_site_stops_kb_check_and_the_build(
        write_kb: WriteKB, tmp_path: Path, target: str) -> None:
    root = write_kb({"trees/escape.yaml": TREE.format(target=target)})
    kb = compile_kb(root, use_cache=False)
    assert [(d.code, d.path, d.line) for d in kb.errors] == [("KB205", "trees/escape.yaml", 7)]
    before = files_under(tmp_path)
    with pytest.raises(ContentErrors):
        build_site(kb, tmp_path / "out" / "site", search=False)
    assert files_under(tmp_path) == before


def test_categories_and_languages_that_would_leave_the_site_are_errors_where_written(
        write_kb: WriteKB) -> None:
    config = MINIMAL_CONFIG.replace("languages: [en, nl]", "languages: [en, '../../x']") + \
        "  '../up': {title: Up}\n"
    root = write_kb({
        "articles/a.md": "---\ncategory: ../../../../ESCAPED\n---\nBody.\n",
        "trees/t.yaml": "title: T\ncategory: a/b\nstart: s\nnodes: {s: {solved: Done}}\n"}, config)
    found = codes(root)["KB205"]
    assert ("articles/a.md", 2) in found and ("trees/t.yaml", 2) in found
    assert ("kb.yaml", 2) in found and ("kb.yaml", 7) in found


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([*"ab./\\\x00~%", "..", "../", "//"]), max_size=30).map("".join))
def test_output_file_never_leaves_the_site_folder(rel: str) -> None:
    folder = Path("/srv/site")
    try:
        path = output_file(folder, rel)
    except OutputError:
        return
    assert path.is_relative_to(folder) and ".." not in path.parts and path != folder


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_a_value_accepted_for_an_address_stays_in_its_folder(value: str) -> None:
    if address_problem(value) is None:
        assert output_file(Path("/srv/site"), f"en/fix/t/{value}/index.html").is_relative_to(
            Path("/srv/site/en/fix/t"))


# --- reading outside the KB ----------------------------------------------------------------------

def test_an_article_linked_to_a_file_outside_the_kb_is_never_read_or_published(
        write_kb: WriteKB, tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "passwd.md"
    secret.parent.mkdir()
    secret.write_text("# Secret\nroot:x:0:0:SECRETMARKER\n")
    root = write_kb({"articles/a.md": "Fine.\n"})
    (root / "articles" / "passwd.md").symlink_to(secret)
    kb = compile_kb(root, use_cache=False)
    assert [(d.code, d.path, d.line) for d in kb.errors] == [("KB107", "articles/passwd.md", 1)]
    assert all("SECRETMARKER" not in a.body for a in kb.articles.values())
    with pytest.raises(ContentErrors):
        build_site(kb, tmp_path / "site", search=False)


def test_a_link_inside_the_kb_is_fine(write_kb: WriteKB) -> None:
    root = write_kb({"articles/a.md": "Fine.\n"})
    (root / "articles" / "b.md").symlink_to(root / "articles" / "a.md")
    assert "KB107" not in codes(root) and len(compile_kb(root, use_cache=False).articles) == 2


def test_a_symlinked_image_or_folder_out_of_the_kb_is_reported_and_not_copied(
        write_kb: WriteKB, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "shot.png").write_bytes(b"\x89PNG SECRETIMAGE")
    root = write_kb({"articles/a.md": "![Shot](shot.png)\n"})
    (root / "articles" / "shot.png").symlink_to(outside / "shot.png")
    assert codes(root)["KB107"] == [("articles/shot.png", 1)]
    (root / "articles" / "shot.png").unlink()
    (root / "trees").symlink_to(outside)
    assert codes(root)["KB107"] == [("trees", 1)]


def test_a_docfx_include_outside_the_kb_is_located_and_left_out(write_kb: WriteKB, tmp_path: Path) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text("INCLUDEDSECRET\n")
    body = f"Intro.\n\n[!INCLUDE [s]({secret})]\n\n[!INCLUDE [t](../../../secret.md)]\n"
    root = write_kb({"articles/a.md": body})
    assert codes(root)["KB509"] == [("articles/a.md", 3), ("articles/a.md", 5)]
    html = ArticleRenderer(root, NoLinks(), LABELS).render(body, "articles/a.md").html
    assert "INCLUDEDSECRET" not in html and "Intro." in html


def test_templates_and_assets_linked_out_of_the_kb_are_not_used(write_kb: WriteKB, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TEMPLATESECRET")
    root = write_kb({"articles/a.md": "Fine.\n", "site_templates/assets/own.css": "body {}"})
    (root / "site_templates" / "assets" / "leak.css").symlink_to(secret)
    (root / "site_templates" / "404.html").symlink_to(secret)
    site = tmp_path / "site"
    build_site(compile_kb(root), site, search=False)
    assert (site / "assets" / "own.css").is_file() and not (site / "assets" / "leak.css").exists()
    assert "TEMPLATESECRET" not in site_text(site)


# --- hostile Markdown ----------------------------------------------------------------------------

HOSTILE = {
    "lines of [": "\n".join("[" * 100 for _ in range(200)),
    "one paragraph of [": ("[" * 80 + "\n") * 250,
    "400 lines of [a](": "[a](\n" * 400,
    "[ then one ] at the end": "[" * 20_000 + "]",
    "emphasis": "*a _b " * 3000,
    "800 nested lists": "".join("  " * i + "- x\n" for i in range(800)),
    "2000 nested quotes": ">" * 2000 + " x\n",
    "markers on one line": "- " * 5000 + "x\n",
    "nested tabs": "".join("    " * i + '=== "x"\n' for i in range(200)),
}


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_article_builds_in_seconds_as_text_with_a_located_warning(
        write_kb: WriteKB, tmp_path: Path, name: str) -> None:
    root = write_kb({"articles/hostile.md": f"---\ntitle: Hostile\n---\nBefore.\n\n{HOSTILE[name]}\n"})
    kb = compile_kb(root, use_cache=False)
    assert not kb.errors
    started = time.perf_counter()
    summary = build_site(kb, tmp_path / "site", search=False)
    assert time.perf_counter() - started < 10
    page = (tmp_path / "site" / "en" / "articles" / "hostile" / "index.html").read_text()
    if 'class="unrendered"' in page:  # shown as text: kb check or kb build said why, at the file
        said = [d for d in [*kb.warnings, *summary.diagnostics] if d.code in ("KB108", "KB109", "KB110")]
        assert said and all(d.path == "articles/hostile.md" and d.line >= 4 for d in said)
    # kb build adds only what kb check could not see, and counts each once
    assert not {(d.path, d.code) for d in summary.diagnostics} & {(d.path, d.code) for d in kb.warnings}
    assert summary.warnings == len(kb.warnings) + len(summary.diagnostics)


def test_deep_nesting_is_reported_by_kb_check_at_its_line() -> None:
    body = "Intro.\n\n" + "".join("  " * i + "- x\n" for i in range(40))
    article, diagnostics = load_article("articles/deep.md", f"---\ntitle: D\n---\n{body}".encode())
    assert article is not None
    [deep] = [d for d in diagnostics if d.code == "KB109"]
    assert deep.line == 4 + 2 + 39 and "40 levels" in deep.message  # where it is deepest
    assert nesting_depth("- a\n  - b\n    - c\n\npara\n")[0] == 3


@pytest.mark.timeout(60)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(["[", "]", "(", ")", "![", "[[", "<", "`", "*", "_", "~~", "- ", "> ",
                                 "1. ", "    ", "\n", "=== \"t\"\n", "!!! note\n", "|", "[!NOTE]", "a"]),
                max_size=2000).map("".join))
def test_any_bracket_soup_renders_within_its_bound(text: str) -> None:
    started = time.perf_counter()
    html = ArticleRenderer(Path("/nonexistent"), NoLinks(), LABELS).render(text, "articles/a.md").html
    assert time.perf_counter() - started < 5
    assert "<script" not in html


# --- payloads in every field that reaches HTML -----------------------------------------------------

PAYLOADS = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "javascript:alert(1)",
            "{{ 7*7 }}{% raw %}", "<svg/onload=alert(1)>", "</title><script>alert(1)</script>",
            "' onmouseover='alert(1)", "<a href=\"javascript:alert(1)\">x</a>", "[x](javascript:alert(1))",
            "![x](javascript:alert(1))", "<iframe src=//evil.example>", "&lt;script&gt;alert(1)"]


def _scalar(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_payload_in_any_field_never_reaches_a_page_as_code(write_kb: WriteKB, tmp_path: Path,
                                                             payload: str) -> None:
    p = _scalar(payload)
    config = (f"title: {p}\nlanguages: [en, nl]\nsupport: {{name: {p}, email: {p}, phone: {p}, "
              f"hours: {p}, ticket_url: 'https://desk.example.org/?t={{title}}&p={{path}}', "
              f"nl: {{name: {p}}}}}\n"
              f"translations: {{nl: {{title: {p}}}}}\n"
              f"categories:\n  printing: {{title: {p}, description: {p}, nl: {{title: {p}}}}}\n")
    article = (f"---\ntitle: {p}\nsummary: {p}\ntags: [{p}]\ncategory: printing\nowner: {p}\n"
               f"updated: {p}\n---\n"
               f"{payload}\n\n## {payload}\n\n- {payload}\n\n| h |\n|---|\n| {payload} |\n\n"
               f"> [!NOTE]\n> {payload}\n\n[[{payload}]]\n")
    tree = (f"title: {p}\nsummary: {p}\nsymptoms: [{p}]\ncategory: printing\nstart: s\nnodes:\n"
            f"  s: {{ask: {p}, text: {p}, answers: {{{p}: e}}}}\n"
            f"  e: {{escalate: {{team: {p}}}, text: {p}, collect: [{{name: n, prompt: {p}}}]}}\n")
    dutch = f"---\ntitle: {p}\nlang: nl\ntranslation_of: a\ncategory: printing\n---\n{payload}\n"
    root = write_kb({"articles/printing/a.md": article, "articles/printing/a-nl.md": dutch,
                     "trees/t.yaml": tree}, config)
    site = tmp_path / "site"
    build_site(compile_kb(root), site, search=False)
    for page in site.rglob("*.html"):
        found = ActiveContent()
        found.feed(page.read_text())
        assert found.problems == [], (page, payload)
        assert "49" not in found.text, (page, payload)  # template syntax is text, never evaluated


class ActiveContent(HTMLParser):
    """What in a page could run: script-like elements, event handlers, javascript: or data: links
    (the site's own scripts, loaded from its assets, are allowed)."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("iframe", "svg", "object", "embed") or (tag == "script" and "src" not in values):
            self.problems.append(tag)
        for name, value in attrs:
            squeezed = "".join((value or "").split()).lower()
            if name.startswith("on") or (name in ("href", "src", "action", "formaction")
                                         and squeezed.startswith(("javascript:", "data:text", "vbscript:"))):
                self.problems.append(f"{tag} {name}={value}")

    def handle_data(self, data: str) -> None:
        self.text += data


@pytest.mark.parametrize("url, bad", [
    ("javascript:alert(document.cookie)", True), (" JaVa\tScRiPt:alert(1)", True),
    ("data:text/html,<script>", True), ("vbscript:x", True), ("https://desk.example.org/?t={title}", False),
    ("mailto:desk@example.org", False), ("/tickets/new", False)])
def test_kb_yaml_links_are_http_or_mailto(write_kb: WriteKB, url: str, bad: bool) -> None:
    assert (url_problem(url) is not None) == bad
    config = MINIMAL_CONFIG + f"server_url: {_scalar(url)}\nlinks: [{_scalar(url)}]\n"
    config = config.replace('hours: "Mon-Fri 8-18"}', f'hours: "Mon-Fri 8-18", ticket_url: {_scalar(url)}}}')
    found = codes(write_kb({"articles/a.md": "Fine.\n"}, config)).get("KB702", [])
    assert found == ([("kb.yaml", 3), ("kb.yaml", 7), ("kb.yaml", 8)] if bad else [])


# --- ids from non-Latin file names ---------------------------------------------------------------

def test_files_named_in_other_scripts_get_their_own_readable_ids(write_kb: WriteKB, tmp_path: Path) -> None:
    root = write_kb({"articles/a/文档.md": "Chinese.\n", "articles/a/テスト.md": "Japanese.\n",
                     "articles/a/Пароль.md": "Russian.\n", "articles/a/🙂.md": "Smile.\n",
                     "articles/a/😀.md": "Grin.\n"})
    kb = compile_kb(root, use_cache=False)
    assert {"文档", "テスト", "пароль"} <= set(kb.articles)
    assert len(kb.articles) == 5 and not kb.errors
    build_site(kb, tmp_path / "site", search=False)
    assert (tmp_path / "site" / "en" / "articles" / "пароль" / "index.html").is_file()


# --- processes ---------------------------------------------------------------------------------

CHILD = """
import subprocess, sys, time
from kbengine.site.children import die_with_parent
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], preexec_fn=die_with_parent)
print(child.pid, flush=True)
time.sleep(60)
"""


@pytest.mark.timeout(30)
def test_a_child_started_by_a_build_dies_with_it() -> None:
    parent = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())  # type: ignore[union-attr]
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while Path(f"/proc/{child}").exists() and "Z" not in _state(child):
        assert time.monotonic() < deadline, "the child outlived its parent"
        time.sleep(0.05)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"
