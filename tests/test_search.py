"""kbengine.search: ranking, languages, filters, query syntax, snippets and "did you mean"."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kbengine
from kbengine.compiler import compile_kb
from kbengine.kb import KnowledgeBase
from kbengine.search import QueryError, SearchHit, search

FILES = {
    "articles/printing/clear-queue.md": """\
        ---
        title: Clear a stuck print queue
        summary: Cancel stuck jobs so new ones reach the printer.
        tags: [printing, queue]
        category: printing
        ---
        Open the queue and cancel every job. Then print a test page.
        """,
    "articles/printing/toner.md": """\
        ---
        title: Replace the toner
        tags: [printing]
        ---
        When the printer queue shows a toner warning, open the front cover.
        """,
    "articles/accounts/wachtwoord.md": """\
        ---
        title: Wachtwoord vergeten
        lang: nl
        tags: [wachtwoord]
        ---
        Kies een nieuw wachtwoord met de selfservice-reset. Wachtwoorden verlopen na een jaar.
        """,
    "articles/accounts/unlock-ad.md": """\
        ---
        title: Unlock an account in Active Directory
        audience: internal
        ---
        Agents unlock the user with Unlock-ADAccount after verifying the caller.
        """,
    "articles/accounts/passkey.md": """\
        ---
        title: Sign in with a passkey
        status: draft
        ---
        A passkey replaces your password.
        """,
    "trees/printer.yaml": """\
        title: Printer does not print
        summary: Jobs stay in the queue or nothing comes out.
        symptoms: [printer offline, print job stuck]
        tags: [printing]
        start: power
        nodes:
          power:
            ask: Is the printer switched on?
            answers: {Yes: fixed, No: agent}
          agent:
            ask: Check the spooler service on the print server.
            audience: internal
            answers: {Done: fixed}
          fixed:
            solved: The printer prints again.
        """,
}


@pytest.fixture
def kb(write_kb) -> KnowledgeBase:
    return compile_kb(write_kb(FILES))


def ids(results) -> list[str]:
    return [hit.id for hit in results.hits]


def test_english_words_match_their_other_forms(kb) -> None:
    assert ids(search(kb, "cancelling jobs"))[0] == "clear-queue"


def test_dutch_words_match_their_other_forms(kb) -> None:
    assert ids(search(kb, "wachtwoorden")) == ["wachtwoord"]
    assert ids(search(kb, "ik ben mijn wachtwoord vergeten")) == ["wachtwoord"]


def test_a_word_in_the_title_outranks_the_same_word_in_a_body(kb) -> None:
    assert ids(search(kb, "toner queue", kind="article"))[0] == "toner"
    assert ids(search(kb, "queue", kind="article"))[0] == "clear-queue"


def test_tree_symptoms_lead_to_the_tree(kb) -> None:
    assert ids(search(kb, "my printer is offline"))[0] == "printer"


def test_filters_by_kind_language_and_tags(kb) -> None:
    assert ids(search(kb, "printer", kind="tree")) == ["printer"]
    assert ids(search(kb, "wachtwoord", lang="en")) == []
    assert set(ids(search(kb, "printer", tags=["printing", "queue"]))) == {"clear-queue"}
    assert set(ids(search(kb, "printer", tags=["PRINTING"]))) == {"clear-queue", "toner", "printer"}


def test_public_audience_hides_internal_and_draft_content(kb) -> None:
    assert ids(search(kb, "unlock")) == ["unlock-ad"]
    assert ids(search(kb, "unlock", audience="public")) == []
    assert ids(search(kb, "spooler")) == ["printer"]  # an internal step of a public tree
    assert ids(search(kb, "spooler", audience="public")) == []
    assert ids(search(kb, "unlock printer", audience="internal")) == ["unlock-ad"]


def test_drafts_are_found_only_when_asked_for(kb) -> None:
    assert ids(search(kb, "passkey")) == []
    assert ids(search(kb, "passkey", drafts=True)) == ["passkey"]


def test_total_counts_every_match_not_only_the_hits_shown(kb) -> None:
    results = search(kb, "printer", limit=1)
    assert (len(results.hits), results.total) == (1, 3)
    assert search(kb, "printer", kind="tree", limit=1).total == 1


def test_a_hit_carries_what_a_result_list_shows(kb) -> None:
    hit = search(kb, "offline").hits[0]
    assert (hit.kind, hit.id, hit.title, hit.path, hit.lang) == (
        "tree", "printer", "Printer does not print", "trees/printer.yaml", "en")
    assert hit.summary == "Jobs stay in the queue or nothing comes out." and hit.score > 0


def test_snippets_mark_the_matched_words(kb) -> None:
    hit = search(kb, "offline").hits[0]
    assert "[[offline]]" in hit.snippet
    assert ("offline", True) in hit.snippet_parts()
    assert "[[" not in hit.plain_snippet and "offline" in hit.plain_snippet


def test_snippet_parts_split_marked_and_plain_text() -> None:
    hit = SearchHit("article", "a", "A", "", "a.md", "en", 1.0, "Open [[VPN]] then [[sign]] in")
    assert hit.snippet_parts() == [("Open ", False), ("VPN", True), (" then ", False),
                                   ("sign", True), (" in", False)]


def test_a_misspelled_word_gets_a_suggestion(kb) -> None:
    assert search(kb, "printer offlne").suggestion == "printer offline"
    assert search(kb, "Wachtwrd").suggestion == "Wachtwoord"
    assert search(kb, "printer offline").suggestion is None


def test_the_public_is_never_offered_a_word_only_internal_content_has(kb) -> None:
    assert search(kb, "spoolr").suggestion == "spooler"
    assert search(kb, "spoolr", audience="public").suggestion is None


def test_phrases_and_boolean_operators(kb) -> None:
    assert ids(search(kb, '"test page"')) == ["clear-queue"]
    assert set(ids(search(kb, "toner OR offline"))) == {"toner", "printer"}
    assert ids(search(kb, "queue AND toner")) == ["toner"]
    assert "toner" not in ids(search(kb, "printer NOT toner"))
    assert ids(search(kb, "printer NOT toner"))  # the rest is still there


def test_phrases_are_found_in_titles_symptoms_and_bodies(kb) -> None:
    assert ids(search(kb, '"print job stuck"')) == ["printer"]
    assert ids(search(kb, '"stuck print queue"')) == ["clear-queue"]
    assert ids(search(kb, 'title:"replace the toner"')) == ["toner"]
    assert ids(search(kb, '"job stuck print"')) == []  # the words, but not in that order


def test_total_is_exact_for_every_kind_of_query(kb) -> None:
    for query, total in [("printer", 3), ("printer queue", 3), ('"print queue"', 1),
                         ("queue AND printer", 3), ("print*", 3), ("printer NOT toner", 2)]:
        results = search(kb, query, limit=1)
        assert (len(results.hits), results.total) == (1, total), query


def test_word_queries_rank_exactly_as_whoosh_scores_them(kb) -> None:
    from kbengine.search.ranking import rank_query, rank_words, word_terms
    from kbengine.search.store import shared_index

    index = shared_index(kb)
    searcher = index.ix.searcher()
    allowed = set(searcher.document_numbers())
    for query in ("printer", "printer queue toner", "cancelling jobs", "title:toner wachtwoord"):
        parsed = index.parse(query, index.languages, internal=True)
        fast = rank_words(searcher, word_terms(parsed, searcher.schema), allowed, 10, index.norms)
        whoosh = rank_query(searcher, parsed, allowed, 10)
        assert [number for number, _ in fast[0]] == [number for number, _ in whoosh[0]], query
        assert [round(score, 9) for _, score in fast[0]] == [round(score, 9) for _, score in whoosh[0]]
        assert fast[1] == whoosh[1]
    searcher.close()


def test_a_word_deep_in_a_long_article_is_marked_in_a_short_passage(write_kb) -> None:
    filler = "Read this first. " * 150
    kb = compile_kb(write_kb({"articles/vpn.md": f"# VPN\n\n{filler}Then open Tunnelblick and connect.\n"}))
    snippet = search(kb, "tunnelblick").hits[0].snippet
    assert "[[Tunnelblick]]" in snippet and len(snippet) < 300


def test_the_process_keeps_one_open_index_per_kb_until_the_kb_changes(write_kb) -> None:
    from kbengine.search.store import shared_index

    root = write_kb(FILES)
    kb = compile_kb(root)
    assert shared_index(kb) is shared_index(compile_kb(root))
    (root / "articles/printing/toner.md").write_text("# Replace the toner\n\nOpen the drawer.\n", "utf-8")
    changed = compile_kb(root)
    assert shared_index(changed) is not shared_index(kb)
    assert ids(search(changed, "drawer")) == ["toner"]


def test_fields_in_users_words(kb) -> None:
    assert ids(search(kb, "title:toner")) == ["toner"]
    assert ids(search(kb, "symptoms:stuck")) == ["printer"]
    assert set(ids(search(kb, "tag:queue"))) == {"clear-queue"}
    assert ids(search(kb, "kind:tree printer")) == ["printer"]
    assert ids(search(kb, "lang:nl wachtwoord")) == ["wachtwoord"]


def test_an_unknown_field_name_is_just_text(kb) -> None:
    assert ids(search(kb, "Error: toner"))[0] == "toner"


@pytest.mark.parametrize(("query", "message"), [
    ("", "empty"),
    ('"print queue', "phrase is not closed"),
    ("(printer", "'(' is not closed"),
    ("printer)", "')' has no '('"),
    ("printer AND", "'AND' needs a word on both sides"),
    ("OR printer", "'OR' needs a word on both sides"),
    ("printer NOT", "'NOT' needs a word after it"),
    ("title:", "needs a word after it"),
    ("kind:page printer", "a kind is 'article' or 'tree'"),
    ("lang:fr printer", "languages are en, nl"),
])
def test_a_malformed_query_gets_a_plain_language_error(kb, query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        search(kb, query)


def test_an_unknown_language_filter_is_a_query_error(kb) -> None:
    with pytest.raises(QueryError, match="no content in 'fr'"):
        search(kb, "printer", lang="fr")


QUERY_PIECES = [" ", "printer", "toner", '"', "(", ")", "*", "?", ":", "^", "~", "[", "]", "{", "}", "-",
                "+", "!", "\\", "/", "AND", "OR", "NOT", "TO", "title:", "tag:", "kind:", "lang:", "'"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.sampled_from(QUERY_PIECES), st.text(max_size=4)), max_size=10).map("".join))
def test_random_queries_never_raise_anything_but_query_error(kb, query: str) -> None:
    try:
        results = search(kb, query)
    except QueryError as error:
        assert str(error)
    else:
        assert results.total >= len(results.hits)


def test_the_package_level_search_finds_and_compiles_the_kb(write_kb, monkeypatch) -> None:
    root = write_kb(FILES)
    assert [hit.id for hit in kbengine.search("toner", root=root).hits] == ["toner"]
    importlib.import_module("kbengine.search")  # importing the module must not break the shortcut
    monkeypatch.chdir(root / "articles")
    assert [hit.id for hit in kbengine.search("toner").hits] == ["toner"]


def test_the_package_level_search_says_when_there_is_no_kb(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no KB"):
        kbengine.search("toner", root=tmp_path)


def test_importing_kbengine_does_not_load_whoosh() -> None:
    import subprocess
    import sys

    code = "import sys, kbengine, kbengine.search; print('whoosh' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


def test_the_bundled_kb_answers_a_caller(bundled_kb) -> None:
    results = search(bundled_kb, "printer says offline")
    assert results.hits[0].id == "printer-not-printing"
    assert all(hit.audience == "public" for hit in search(bundled_kb, "password", audience="public").hits)
