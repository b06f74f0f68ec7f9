"""`kb search` as a user runs it: ranked text, JSON, exit codes, colour only on a terminal."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pexpect
import pytest
from click.testing import CliRunner

from kbengine.cli import cli

FILES = {
    "articles/network/vpn.md": """\
        ---
        title: Connect to the VPN
        summary: Use GlobalProtect from home.
        tags: [vpn]
        ---
        Open GlobalProtect and enter the portal address.
        """,
    "articles/network/wifi.md": """\
        ---
        title: Connect to the wifi
        audience: internal
        ---
        Choose Corp-WiFi and sign in.
        """,
    "trees/vpn.yaml": """\
        title: VPN does not connect
        symptoms: [vpn not working]
        tags: [vpn]
        start: fixed
        nodes:
          fixed: {solved: The VPN works again.}
        """,
}


@pytest.fixture
def root(write_kb) -> Path:
    return write_kb(FILES)


def run(root: Path, *args: str):
    return CliRunner().invoke(cli, ["search", "--root", str(root), *args])


def test_results_are_ranked_with_kind_id_title_path_and_snippet(root) -> None:
    result = run(root, "vpn", "not", "working")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["1.", "tree", "vpn", "VPN", "does", "not", "connect"]
    assert lines[1].strip() == "trees/vpn.yaml"
    assert lines[2].strip() == "vpn not working"
    assert "articles/network/vpn.md" in result.output
    assert result.output.rstrip().endswith("2 results.")


def test_piped_output_has_no_marks_and_no_colour(root) -> None:
    output = run(root, "globalprotect").output
    assert "[[" not in output and "\x1b[" not in output


def test_filters_reach_the_search(root) -> None:
    assert "articles/" not in run(root, "vpn", "--kind", "tree").output
    assert "wifi" not in run(root, "connect", "--audience", "public").output
    assert "wifi" in run(root, "connect").output
    assert run(root, "connect", "--tag", "vpn", "--limit", "1").output.splitlines()[-1].startswith("1 of 2")


def test_json_output_for_scripts(root) -> None:
    result = run(root, "globalprotect", "--json")
    data = json.loads(result.output)
    assert data["total"] == 1 and data["suggestion"] is None
    assert data["hits"][0]["id"] == "vpn" and "[[GlobalProtect]]" in data["hits"][0]["snippet"]
    assert set(data["hits"][0]) >= {"kind", "id", "title", "summary", "path", "lang", "score", "snippet"}


def test_no_results_exit_1_and_suggest_a_spelling(root) -> None:
    result = run(root, "globalprotekt")
    assert result.exit_code == 1
    assert "No results for 'globalprotekt'." in result.output
    assert "Did you mean: globalprotect" in result.output


@pytest.mark.parametrize("query", ['"open', "vpn AND", "kind:page vpn", "(vpn"])
def test_a_malformed_query_exits_2_with_a_plain_message(root, query: str) -> None:
    result = run(root, query)
    assert result.exit_code == 2
    assert "Error:" in result.output and "Traceback" not in result.output


def test_an_unknown_language_exits_2_and_lists_the_languages(root) -> None:
    result = run(root, "vpn", "--lang", "fr")
    assert result.exit_code == 2 and "en, nl" in result.output


def test_help_reads_as_a_manual(root) -> None:
    output = CliRunner().invoke(cli, ["search", "--help"]).output
    for part in ("Query syntax", "Exit status", "Examples:", "kb search printer says offline",
                 "--kind", "--tag", "--lang", "--audience", "--limit", "--json"):
        assert part in output


def test_a_fresh_checkout_is_compiled_first(write_kb) -> None:
    root = write_kb(FILES)
    assert not (root / ".kb").exists()
    assert run(root, "globalprotect").exit_code == 0
    assert (root / ".kb" / "index").is_dir()


def test_a_terminal_gets_the_matched_words_highlighted(root) -> None:
    child = pexpect.spawn("kb", ["search", "--root", str(root), "globalprotect"], encoding="utf-8",
                          dimensions=(40, 200), env={"TERM": "xterm-256color", "PATH": os.environ["PATH"]})
    child.expect(pexpect.EOF, timeout=30)
    output = child.before
    child.close()
    assert child.exitstatus == 0
    assert "\x1b[" in output and "GlobalProtect" in output and "[[" not in output


def test_a_terminal_sees_the_index_being_updated_and_a_pipe_does_not(root) -> None:
    shutil.rmtree(root / ".kb" / "index", ignore_errors=True)
    child = pexpect.spawn("kb", ["search", "--root", str(root), "globalprotect"], encoding="utf-8",
                          dimensions=(40, 200), env={"TERM": "xterm-256color", "PATH": os.environ["PATH"]})
    child.expect(pexpect.EOF, timeout=30)
    child.close()
    assert "Updating the search index" in child.before
    shutil.rmtree(root / ".kb" / "index")
    assert "Updating" not in run(root, "globalprotect").output


def test_a_second_search_with_nothing_changed_skips_the_compile(root, monkeypatch) -> None:
    assert run(root, "globalprotect").exit_code == 0  # compiles, indexes, notes the files
    import kbengine.cli.search as command

    def no_compile(*_: object, **__: object) -> None:
        raise AssertionError("compiled although nothing changed")

    monkeypatch.setattr(command, "open_kb", no_compile)
    result = run(root, "globalprotect", "--json")
    assert result.exit_code == 0, result.output
    assert [hit["id"] for hit in json.loads(result.output)["hits"]] == ["vpn"]


def test_an_edited_article_is_found_by_its_new_words_at_once(root) -> None:
    assert run(root, "globalprotect").exit_code == 0
    article = root / "articles/network/vpn.md"
    article.write_text(article.read_text("utf-8").replace("GlobalProtect", "Tunnelblick"), "utf-8")
    result = run(root, "tunnelblick", "--json")
    assert result.exit_code == 0, result.output
    assert [hit["id"] for hit in json.loads(result.output)["hits"]] == ["vpn"]
    assert run(root, "globalprotect").exit_code == 1


def test_synonyms_hold_when_the_search_skips_the_compile(write_kb) -> None:
    root = write_kb({**FILES, "kb.yaml": "title: Help\nsearch:\n  synonyms: [[vpn, tunnel]]\n"})
    first = run(root, "tunnel", "--json")
    second = run(root, "tunnel", "--json")  # nothing changed: the quick path
    assert first.exit_code == second.exit_code == 0, first.output
    assert json.loads(first.output)["hits"] == json.loads(second.output)["hits"]
    assert json.loads(second.output)["hits"][0]["id"] == "vpn"


@pytest.mark.parametrize("builtin", [True, False])
def test_built_in_synonyms_follow_kb_yaml_when_the_search_skips_the_compile(write_kb, builtin) -> None:
    setting = "" if builtin else "search:\n  builtin_synonyms: false\n"
    root = write_kb({"kb.yaml": f"title: Help\nlanguages: [en]\n{setting}",
                     "articles/wifi.md": "# Connect to the wifi\n\nPick the office network.\n"})
    for _ in range(2):  # the second search: nothing changed, the quick path
        result = run(root, "wireless", "--json")
        assert result.exit_code == (0 if builtin else 1), result.output
        if builtin:
            assert [hit["id"] for hit in json.loads(result.output)["hits"]] == ["wifi"]


def test_a_damaged_index_is_rebuilt_even_when_no_file_changed(root) -> None:
    assert run(root, "globalprotect").exit_code == 0
    for segment in (root / ".kb" / "index").glob("*.seg"):
        segment.write_bytes(b"damaged")
    result = run(root, "globalprotect", "--json")
    assert result.exit_code == 0, result.output
    assert [hit["id"] for hit in json.loads(result.output)["hits"]] == ["vpn"]
