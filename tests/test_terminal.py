"""What `kb walk` says and keeps, without a terminal: the expected form of an input in words, the hand-over
as plain text, the interface in the tree's language, and scripted calls that fail or only try."""

from __future__ import annotations

import json
import re
from gettext import NullTranslations
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from click.testing import CliRunner, Result

from kbengine.cli import cli
from kbengine.compiler import KnowledgeBase
from kbengine.model import CollectField
from kbengine.site.i18n import LOCALES, translations
from kbengine.terminal import wiki_titles
from kbengine.walk.forms import describe_pattern, expected_form
from kbengine.walk.handover import handover, handover_markdown, handover_text
from kbengine.walk.recording import open_sessions, start_walk

DUTCH = translations("nl")
PRINTER = """
    title: Printer does not print
    start: power
    nodes:
      power:
        ask: Is the printer on?
        answers: {"Yes": printed, "No": hardware}
      printed:
        ask: Did the test page print?
        answers: {"Yes": fixed, "No": hardware}
      fixed:
        solved: The queue was blocked by a stuck job.
      hardware:
        escalate: {team: Workplace hardware, priority: P3}
        collect:
          - {name: asset_tag, prompt: Asset tag, pattern: '^[A-Z]{2}\\d{5}$'}
          - name: room
            prompt: Room
            pattern: '^[A-Z]\\d\\.\\d{2}$'
            hint: building letter, floor and room, like B2.14
    """


@pytest.fixture
def kb_root(write_kb: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KB_SESSIONS", str(tmp_path / "sessions"))
    return write_kb({"trees/printer.yaml": PRINTER})


def walk(root: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["walk", "--root", str(root), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def records(root: Path) -> list[Path]:
    return sorted((root.parent / "sessions").glob("*.jsonl"))


# The expected form of an input, in words

@pytest.mark.parametrize(("pattern", "words"), [
    (r"^[A-Z]{2}\d{5}$", "two letters and five digits, like AB12345"),
    (r"^\d{6}$", "six digits, like 123456"),
    (r"^INC\d{7}$", "“INC” and seven digits, like INC1234567"),
    (r"^\d{1,4}$", "one to four digits, like 1234"),
    (r"^[a-z]+$", "one or more lower-case letters, like abc"),
    (r"^[A-Z]{2}-\d\d\d$", "two letters, “-” and three digits, like AB-123"),
])
def test_a_simple_pattern_is_described_in_words_with_an_example_that_fits(pattern: str, words: str) -> None:
    assert describe_pattern(pattern, NullTranslations()) == words
    example = words.rsplit("like ", 1)[1]
    assert re.fullmatch(pattern, example)


@pytest.mark.parametrize("pattern", [r"^\+?[0-9 ]{10,16}$", r"^(yes|no)$", r"^\w+$", r".*", r"^[^x]+$"])
def test_a_pattern_beyond_the_simple_ones_gets_no_words(pattern: str) -> None:
    assert describe_pattern(pattern, NullTranslations()) is None


def test_the_authors_hint_wins_over_the_derived_words() -> None:
    field = CollectField("room", "Room", r"^\d{3}$", "the number on the door, like 214")
    assert expected_form(field) == "the number on the door, like 214"
    assert expected_form(CollectField("room", "Room", r"^\d{3}$")) == "three digits, like 123"
    assert expected_form(CollectField("name", "Name")) is None


def test_the_form_in_words_speaks_dutch() -> None:
    assert describe_pattern(r"^[A-Z]{2}\d{5}$", DUTCH) == "twee letters en vijf cijfers, zoals AB12345"


def test_a_trees_hint_is_read_from_its_yaml(kb_root: Path) -> None:
    from kbengine.compiler import compile_kb

    [_, room] = compile_kb(kb_root).trees["printer"].nodes["hardware"].collect
    assert room.hint == "building letter, floor and room, like B2.14"


# The hand-over

def _escalated(kb: KnowledgeBase) -> dict[str, Any]:
    store = open_sessions(kb)
    recorded = start_walk(kb, store, "printer", "INC0012345")
    recorded.walk.answer("No")
    recorded.walk.note("caller is *very* annoyed")
    recorded.walk.provide("asset_tag", "PR04512")
    recorded.walk.provide("room", "B2.14")
    data = handover(recorded.session())
    recorded.close()
    store.close()
    return data


def test_the_hand_over_as_plain_text_has_no_markdown_marks(kb_root: Path) -> None:
    from kbengine.compiler import compile_kb

    text = handover_text(_escalated(compile_kb(kb_root)))
    assert text.startswith("Printer does not print\n")
    assert "Ticket: INC0012345" in text and "Outcome: Escalated to Workplace hardware, priority P3" in text
    assert "1. Is the printer on? — No" in text and "- asset_tag: PR04512" in text
    assert "caller is *very* annoyed" in text  # what the agent typed is kept as typed
    assert not re.search(r"\*\*|`|^#", text, re.MULTILINE)


def test_the_hand_over_speaks_the_language_it_is_given(kb_root: Path) -> None:
    from kbengine.compiler import compile_kb

    data = _escalated(compile_kb(kb_root))
    markdown = handover_markdown(data, DUTCH)
    assert "- **Uitkomst:** Doorgezet naar **Workplace hardware**, prioriteit P3" in markdown
    assert "\nStappen:\n" in handover_text(data, DUTCH) and "\nVerzameld:\n" in handover_text(data, DUTCH)


def test_wiki_links_read_as_the_titles_they_point_to(bundled_kb: KnowledgeBase) -> None:
    text = wiki_titles("Restart ([[restart-computer]]) or see [[connect-vpn|the VPN page]] or [[gone]].",
                       bundled_kb)
    title = bundled_kb.articles["restart-computer"].title
    assert text == f"Restart (**{title}**) or see **the VPN page** or **gone**."


def test_every_terminal_and_console_text_has_a_dutch_translation() -> None:
    sources = ["kbengine/terminal.py", "kbengine/walk/forms.py", "kbengine/walk/handover.py",
               "kbengine/server/console/**.py"]
    templates = "kbengine/server/console/templates/**.html"
    wanted = {message if isinstance(message, str) else message[0]
              for _, _, message, _, _ in extract_from_dir(
                  LOCALES.parent.parent, method_map=[*((path, "python") for path in sources),
                                                     (templates, "jinja2")],
                  options_map={templates: {"extensions": "jinja2.ext.i18n"}})}
    with (LOCALES / "nl" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        dutch = read_po(handle)
    assert len(wanted) > 50
    untranslated = sorted(message for message in wanted
                          if dutch.get(message) is None or not all(_strings(dutch.get(message).string)))
    assert not untranslated


def _strings(translated: str | tuple[str, ...]) -> tuple[str, ...]:
    return (translated,) if isinstance(translated, str) else translated


# Scripted calls

def test_answers_may_be_numbers_and_a_note_is_kept_in_the_hand_over(kb_root: Path) -> None:
    result = walk(kb_root, "printer", "--answer", "1", "--answer", "Yes", "--note", "toner replaced",
                  "--json")
    state = json.loads(result.stdout)
    assert result.exit_code == 0 and state["outcome"] == "solved"
    assert [note["text"] for note in state["notes"]] == ["toner replaced"]
    assert [note["text"] for note in state["handover"]["notes"]] == ["toner replaced"]


def test_a_new_walk_whose_answer_does_not_fit_records_nothing(kb_root: Path) -> None:
    result = walk(kb_root, "printer", "--answer", "Yes", "--answer", "Maybe", "--json")
    state = json.loads(result.stdout)
    assert result.exit_code == 1 and "'Maybe' is not an answer" in state["error"]
    assert state["session"] is None and state["recorded"] is False
    assert state["waiting_for"]["answers"] == ["Yes", "No"]  # where it stopped, to correct the call
    assert records(kb_root) == []


def test_an_input_that_does_not_fit_records_nothing_either(kb_root: Path) -> None:
    result = walk(kb_root, "printer", "--answer", "No", "--input", "asset_tag=12345")
    assert result.exit_code == 1 and "does not match" in result.stderr
    assert "Nothing was recorded." in result.stdout
    assert records(kb_root) == []


def test_a_dry_run_shows_where_the_answers_lead_and_records_nothing(kb_root: Path) -> None:
    result = walk(kb_root, "printer", "--answer", "Yes", "--answer", "2", "--dry-run")
    assert result.exit_code == 0
    assert "Stopped at 'hardware' (printer): Asset tag" in result.stdout
    assert "Nothing was recorded." in result.stdout
    assert records(kb_root) == []


def test_a_dry_run_to_an_end_says_how_it_would_end(kb_root: Path) -> None:
    result = walk(kb_root, "printer", "--answer", "Yes", "--answer", "Yes", "--dry-run")
    assert result.exit_code == 0
    assert "The walk would end solved at 'fixed' (printer)" in result.stdout
    assert records(kb_root) == []


def test_a_dry_run_cannot_resume(kb_root: Path) -> None:
    result = walk(kb_root, "--resume", "20240501-143012-3fa9", "--dry-run")
    assert result.exit_code == 2 and "--dry-run" in result.stderr


def test_without_a_tree_or_a_terminal_the_hint_names_kb_list_trees(kb_root: Path) -> None:
    result = walk(kb_root)
    assert result.exit_code == 2 and "kb list trees" in result.stderr


def test_the_in_walk_search_lists_the_walks_language_first(bundled_kb: KnowledgeBase) -> None:
    from kbengine.cli.walk import _search_hits

    hits = _search_hits(bundled_kb)("printer queue", "article", "nl")
    languages = [hit.lang for hit in hits]
    assert "nl" in languages and "en" in languages
    assert languages == sorted(languages, key=lambda lang: lang != "nl")  # Dutch first, then the rest


def test_scripted_text_names_the_input_in_words_and_the_pattern_with_verbose(kb_root: Path) -> None:
    plain = walk(kb_root, "printer", "--answer", "No").stdout
    assert "Needs input asset_tag (two letters and five digits, like AB12345)" in plain
    verbose = walk(kb_root, "printer", "--answer", "No", "--verbose").stdout
    assert r"(two letters and five digits, like AB12345; pattern ^[A-Z]{2}\d{5}$)" in verbose


def test_a_scripted_walk_that_ends_prints_the_hand_over_as_plain_text(kb_root: Path) -> None:
    result = walk(kb_root, "printer", "--answer", "No", "--input", "asset_tag=PR04512",
                  "--input", "room=B2.14")
    assert result.exit_code == 0
    assert result.stdout.startswith("Printer does not print\n")
    assert "Outcome: Escalated to Workplace hardware, priority P3" in result.stdout
    assert "**" not in result.stdout
