"""`build_site` on small inline KBs: which pages exist, what they link to, what never gets out."""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from kbengine.compiler import compile_kb
from kbengine.kb import KnowledgeBase
from kbengine.site import ContentErrors, OutputError, build_site
from tests.conftest import MINIMAL_CONFIG, WriteKB

# A small KB with every kind of content the public site must show or hide.
SECRETS = ("ZEBRAPASSWORDRESET", "QUOKKADRAFT", "WOMBATARCHIVE", "PLATYPUSINTERNALSTEP",
           "NARWHALINTERNALTREE")

SITE_KB = {
    "articles/printing/clear-print-queue.md": """\
        ---
        title: Clear the print queue
        summary: Cancel stuck print jobs.
        tags: [printing, Print queue]
        updated: 2026-03-01
        related: [add-printer]
        ---
        Open the queue. See [[add-printer]] and [the reset](../accounts/admin-reset.md).

        ## Windows

        Use **Settings**.

        ## Mac

        Use System Settings.

        ## Still stuck

        > [!NOTE]
        > Restart the printer.
        """,
    "articles/printing/add-printer.md": """\
        ---
        title: Add a network printer
        summary: Install FollowMe.
        tags: [printing]
        ---
        Add it from the print server.
        """,
    "articles/printing/printer-toevoegen.md": """\
        ---
        title: Een netwerkprinter toevoegen
        summary: FollowMe installeren.
        lang: nl
        translation_of: add-printer
        tags: [afdrukken]
        ---
        Voeg hem toe via de printserver.
        """,
    "articles/accounts/admin-reset.md": """\
        ---
        title: Admin password reset ZEBRAPASSWORDRESET
        audience: internal
        ---
        Agents only: ZEBRAPASSWORDRESET.
        """,
    "articles/accounts/new-policy.md": """\
        ---
        title: New policy QUOKKADRAFT
        status: draft
        ---
        Not ready: QUOKKADRAFT.
        """,
    "articles/accounts/old-policy.md": """\
        ---
        title: Old policy WOMBATARCHIVE
        status: archived
        ---
        Gone: WOMBATARCHIVE.
        """,
    "trees/printer.yaml": """\
        title: Printer does not print
        summary: Nothing comes out.
        symptoms: [printer offline]
        category: printing
        start: power
        nodes:
          power:
            ask: Is the printer on?
            article: add-printer
            answers:
              "Yes":
                next: queue
                set: {power: on}
              "No": fixed
              It shows an error code: codes
              It smells of smoke: hardware
          queue:
            do: Clear the print queue.
            article: clear-print-queue
            next: printed
          printed:
            ask: Did the test page print?
            answers:
              "Yes": fixed
              "No":
                next: escalate
                when: {power: on}
          fixed:
            solved: The printer prints again.
          escalate:
            escalate: {team: Second line, priority: P3}
            collect:
              - {name: asset_tag, prompt: Asset tag on the printer}
          hardware:
            do: Check the fuser unit PLATYPUSINTERNALSTEP.
            audience: internal
            next: escalate
          codes:
            goto: printer-codes
        """,
    "trees/printer-codes.yaml": """\
        title: Printer shows an error code
        start: code
        nodes:
          code:
            ask: Which code?
            answers: {"E1": solved, "Other": help}
          solved:
            solved: Fixed.
          help:
            escalate: {team: Second line}
        """,
    "trees/internal.yaml": """\
        title: Server room NARWHALINTERNALTREE
        audience: internal
        start: one
        nodes:
          one:
            solved: NARWHALINTERNALTREE done.
        """,
    "trees/printer-nl.yaml": """\
        title: Printer drukt niet af
        lang: nl
        translation_of: printer
        category: printing
        start: power
        nodes:
          power:
            ask: Staat de printer aan?
            answers: {"Ja": fixed, "Nee": fixed}
          fixed:
            solved: Opgelost.
        """,
}

SUPPORT_CONFIG = MINIMAL_CONFIG.replace(
    'hours: "Mon-Fri 8-18"}',
    'hours: "Mon-Fri 8-18", ticket_url: "https://desk.example.org/new?t={title}&p={path}"}')


def build(write_kb: WriteKB, tmp_path: Path, config: str = SUPPORT_CONFIG, search: bool = True) -> Path:
    root = write_kb(SITE_KB, config)
    out = tmp_path / "site"
    build_site(compile_kb(root), out, search=search)
    return out


def page(site: Path, url: str, base: str = "/") -> str:
    rel = unquote(url[len(base):])
    return (site / (rel + "index.html" if rel.endswith("/") or not rel else rel)).read_text("utf-8")


def site_text(site: Path) -> str:
    """Every file of the site as text, Pagefind's compressed index included."""
    parts = []
    for path in sorted(site.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        parts.append(data.decode("utf-8", "replace"))
    return "\n".join(parts)


@pytest.fixture
def site(write_kb: WriteKB, tmp_path: Path) -> Path:
    return build(write_kb, tmp_path)


def test_internal_draft_and_archived_content_never_reaches_the_site(site: Path) -> None:
    everything = site_text(site)
    for secret in SECRETS:
        assert secret.lower() not in everything.lower(), secret
    for slug in ("admin-reset", "new-policy", "old-policy", "internal", "hardware"):
        assert f"/{slug}/" not in everything
    assert (site / "pagefind" / "pagefind-entry.json").is_file()  # the index was checked, not missing


def test_sitemap_lists_public_pages_only(site: Path) -> None:
    sitemap = (site / "sitemap.xml").read_text()
    assert "<loc>/en/articles/clear-print-queue/</loc>" in sitemap
    assert "<loc>/en/fix/printer/</loc>" in sitemap
    assert "admin-reset" not in sitemap and "new-policy" not in sitemap and "contact-" not in sitemap
    assert 'hreflang="nl" href="/nl/articles/printer-toevoegen/"' in sitemap


def test_sitemap_gives_an_article_its_updated_date(site: Path) -> None:
    entries = (site / "sitemap.xml").read_text().split("<url>")
    queue = next(e for e in entries if "<loc>/en/articles/clear-print-queue/</loc>" in e)
    assert "<lastmod>2026-03-01</lastmod>" in queue


def test_every_public_step_has_a_page_and_answers_are_plain_links(site: Path) -> None:
    start = page(site, "/en/fix/printer/")
    assert 'href="/en/fix/printer/queue/power-on/"' in start  # "Yes" sets power: on, read later
    assert 'href="/en/fix/printer/fixed/"' in start
    assert '<h2 id="step-title">Is the printer on?</h2>' in start
    for node in ("queue", "printed", "fixed", "escalate"):
        assert (site / "en" / "fix" / "printer" / node / "index.html").is_file()
    assert not (site / "en" / "fix" / "printer" / "hardware").exists()


def test_an_answer_leading_to_an_internal_step_becomes_contact_with_the_path(site: Path) -> None:
    start = page(site, "/en/fix/printer/")
    assert 'href="/en/fix/printer/power/contact-4/"' in start
    handoff = page(site, "/en/fix/printer/power/contact-4/")
    mailto = re.search(r'href="(mailto:[^"]+)"', handoff).group(1)
    assert mailto.startswith("mailto:desk@example.org?subject=Printer%20does%20not%20print&amp;body=")
    assert "Is%20the%20printer%20on%3F%20-%20It%20smells%20of%20smoke" in mailto
    ticket = re.search(r'href="(https://desk\.example\.org/[^"]+)"', handoff).group(1)
    assert "p=Is%20the%20printer%20on%3F%20-%20It%20smells%20of%20smoke" in ticket


def test_a_goto_answer_links_straight_to_the_other_trees_step(site: Path) -> None:
    assert 'href="/en/fix/printer-codes/"' in page(site, "/en/fix/printer/")
    assert not (site / "en" / "fix" / "printer" / "codes").exists()


def test_escalation_end_shows_the_contact_panel_and_what_to_have_ready(site: Path) -> None:
    end = page(site, "/en/fix/printer/escalate/")
    assert 'id="contact"' in end and "data-track-path" in end
    assert "Asset tag on the printer" in end and "Second line" not in end


def test_article_page_has_toc_related_used_in_tags_date_and_contact(site: Path) -> None:
    html = page(site, "/en/articles/clear-print-queue/")
    assert 'class="toc"' in html and 'href="#still-stuck"' in html
    assert 'href="/en/articles/add-printer/">Add a network printer</a>' in html  # related and wiki link
    assert 'href="/en/fix/printer/">Printer does not print</a>' in html  # used in troubleshooters
    assert 'href="/en/tags/print-queue/">Print queue</a>' in html
    assert '<time datetime="2026-03-01">March 1, 2026</time>' in html
    assert "callout callout-note" in html and "Still need help?" in html
    assert "<span>the reset</span>" in html  # a link to an internal article is plain text


def test_translations_link_each_other_with_hreflang_and_dutch_interface(site: Path) -> None:
    english = page(site, "/en/articles/add-printer/")
    dutch = page(site, "/nl/articles/printer-toevoegen/")
    assert '<html lang="nl">' in dutch and '<html lang="en">' in english
    assert '<link rel="alternate" hreflang="nl" href="/nl/articles/printer-toevoegen/">' in english
    assert '<link rel="alternate" hreflang="en" href="/en/articles/add-printer/">' in dutch
    assert "Nog steeds hulp nodig?" in dutch and "Naar de inhoud" in dutch
    assert 'href="/nl/fix/printer-nl/"' in page(site, "/en/fix/printer/")  # language switch on steps


def test_home_lists_categories_and_troubleshooters_per_language(site: Path) -> None:
    home = page(site, "/en/")
    assert 'href="/en/categories/printing/"' in home and "Printer does not print" in home
    assert "Printer drukt niet af" not in home
    assert "Een probleem oplossen" in page(site, "/nl/")
    assert 'url=/en/"' in page(site, "/")  # the root sends readers to the default language


def test_search_box_leads_to_the_a_z_index_without_javascript(site: Path) -> None:
    home = page(site, "/en/articles/add-printer/")
    assert '<form class="search-form" role="search" action="/en/a-z/"' in home
    index = page(site, "/en/a-z/")
    assert "Add a network printer" in index and "Printer does not print" in index


def broken_links(site: Path) -> set[tuple[str, str]]:
    """(page, link) of every site-absolute link or image source that no file of the site serves."""
    broken = set()
    pages = list(site.rglob("*.html"))
    assert pages, f"no HTML under {site}: nothing to check"
    for html in pages:
        for url in re.findall(r'(?:href|src)="(/[^"#?]*)', html.read_text("utf-8")):
            rel = unquote(url.lstrip("/"))
            if not (site / rel).is_file() and not (site / rel / "index.html").is_file():
                broken.add((html.relative_to(site).as_posix(), url))
    return broken


def test_every_internal_link_points_at_a_file_of_the_site(site: Path) -> None:
    assert broken_links(site) == set()


def test_the_bundled_kb_builds_without_broken_links_and_light_article_pages(bundled_kb: KnowledgeBase,
                                                                           tmp_path: Path) -> None:
    summary = build_site(bundled_kb, tmp_path / "site")
    site = tmp_path / "site"
    assert summary.languages[:2] == ["en", "nl"] and broken_links(site) == set()
    assets = sum((site / "assets" / name).stat().st_size for name in ("site.css", "site.js"))
    articles = list(site.glob("*/articles/*/index.html"))
    assert len(articles) == sum(a.is_public for a in bundled_kb.articles.values())
    heaviest = max(articles, key=lambda p: p.stat().st_size)
    assert heaviest.stat().st_size + assets <= 40 * 1024, heaviest


def test_a_sub_path_base_url_prefixes_every_link_and_canonicals_are_absolute(write_kb: WriteKB,
                                                                             tmp_path: Path) -> None:
    config = SUPPORT_CONFIG + "base_url: https://example.org/help/\n"
    site = build(write_kb, tmp_path, config, search=False)
    html = page(site, "/help/en/articles/add-printer/", "/help/")
    assert '<link rel="canonical" href="https://example.org/help/en/articles/add-printer/">' in html
    links = re.findall(r'(?:href|src)="(/[^"]*)"', html)
    assert links and all(link.startswith("/help/") for link in links)
    assert "Sitemap: https://example.org/help/sitemap.xml" in (site / "robots.txt").read_text()


def test_a_kb_can_override_a_template(write_kb: WriteKB, tmp_path: Path) -> None:
    files = dict(SITE_KB)
    files["site_templates/404.html"] = "{% extends 'base.html' %}{% block main %}OUR OWN 404{% endblock %}"
    root = write_kb(files, SUPPORT_CONFIG)
    build_site(compile_kb(root), tmp_path / "site", search=False)
    assert "OUR OWN 404" in (tmp_path / "site" / "404.html").read_text()
    assert "Still need help?" in page(tmp_path / "site", "/en/articles/add-printer/")


def test_a_kb_with_errors_is_not_built(write_kb: WriteKB, tmp_path: Path) -> None:
    root = write_kb({"trees/broken.yaml": "title: Broken\nstart: nowhere\nnodes:\n  a: {solved: ok}\n"})
    with pytest.raises(ContentErrors) as raised:
        build_site(compile_kb(root), tmp_path / "site")
    assert raised.value.errors and not (tmp_path / "site").exists()


def test_a_failed_build_leaves_the_previous_site_byte_identical(write_kb: WriteKB, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    site = build(write_kb, tmp_path, search=False)
    before = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    from kbengine.site import render

    rendered = 0
    original = render.SiteRenderer.render

    def fail_midway(self: render.SiteRenderer, page: object) -> str:
        nonlocal rendered
        rendered += 1
        if rendered == 10:
            raise RuntimeError("disk on fire")
        return original(self, page)  # type: ignore[arg-type]

    monkeypatch.setattr(render.SiteRenderer, "render", fail_midway)
    changed = tmp_path / "kb" / "articles" / "printing" / "add-printer.md"
    changed.write_text("---\ntitle: Changed\n---\nNew.\n")
    with pytest.raises(RuntimeError):
        build_site(compile_kb(tmp_path / "kb"), site, search=False)
    after = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site")] == []


def test_a_folder_kb_did_not_build_is_never_replaced(write_kb: WriteKB, tmp_path: Path) -> None:
    root = write_kb(SITE_KB, SUPPORT_CONFIG)
    with pytest.raises(OutputError, match="refusing to replace"):
        build_site(compile_kb(root), root, search=False)
    assert (root / "kb.yaml").is_file()
