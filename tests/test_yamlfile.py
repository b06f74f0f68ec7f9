"""YAML with line numbers: writers' labels stay text, problems are located diagnostics."""

from __future__ import annotations

import pytest

from kbengine.read.yamlfile import MAX_VALUES, parse_yaml


def codes(text: str) -> list[str]:
    return [d.code for d in parse_yaml(text, "t.yaml")[1]]


@pytest.mark.parametrize("label", ["Yes", "No", "On", "Off", "y", "n", "1", "3.5", "true", "null", "~"])
def test_mapping_keys_are_always_text(label: str) -> None:
    doc, problems = parse_yaml(f"{label}: next\n", "t.yaml")
    assert problems == []
    assert doc is not None and doc.data == {label: "next"}


@pytest.mark.parametrize(("text", "value"), [
    ("Yes", "Yes"), ("No", "No"), ("On", "On"), ("off", "off"),
    ("true", True), ("False", False), ("null", None), ("~", None), ("", None),
    ("3", 3), ("-12", -12), ("1_000", 1000), ("3.5", 3.5), ("1e3", "1e3"), ("2026-01-31", "2026-01-31"),
    ("'3'", "3"), ('"true"', "true"), ("0x1F", "0x1F"), ("010", "010"),
])
def test_plain_values_are_typed_only_for_true_false_null_and_numbers(text: str, value: object) -> None:
    doc, _ = parse_yaml(f"key: {text}\n", "t.yaml")
    assert doc is not None
    assert doc.data["key"] == value
    assert type(doc.data["key"]) is type(value)


def test_every_value_and_key_has_its_line_and_column() -> None:
    doc, _ = parse_yaml("title: Printer\nnodes:\n  power:\n    ask: On?\n", "t.yaml")
    assert doc is not None
    assert doc.locate(("nodes", "power", "ask")) == (4, 10)
    assert doc.locate(("nodes", "power"), key=True) == (3, 3)
    assert doc.locate(("nodes", "missing", "deeper")) == doc.locate(("nodes",))


def test_line_offset_shifts_lines_for_front_matter() -> None:
    doc, _ = parse_yaml("title: x\n", "a.md", line_offset=1)
    assert doc is not None and doc.locate(("title",)) == (2, 8)


def test_syntax_error_is_located_with_a_hint() -> None:
    doc, problems = parse_yaml("title: a\nsummary: Note: this breaks\n", "t.yaml")
    assert doc is None
    [problem] = problems
    assert (problem.line, problem.col, problem.code, problem.severity) == (2, 14, "KB103", "error")
    assert "quotes" in problem.hint


def test_duplicate_key_names_the_first_line() -> None:
    doc, problems = parse_yaml("title: a\nstart: x\ntitle: b\n", "t.yaml")
    assert doc is not None and doc.data["title"] == "a"
    [problem] = problems
    assert (problem.line, problem.col, problem.code) == (3, 1, "KB104")
    assert "line 1" in problem.message


def test_a_list_as_key_is_an_error_not_a_crash() -> None:
    assert codes("? [a, b]\n: c\n") == ["KB103"]


def test_alias_bomb_is_stopped() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for name, previous in zip("bcdefgh", "abcdefg", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    doc, problems = parse_yaml("\n".join(lines) + "\n", "t.yaml")
    assert doc is None
    assert [p.code for p in problems] == ["KB105"]
    assert str(MAX_VALUES) in problems[0].message


def test_recursive_alias_is_reported_where_it_is_written() -> None:
    doc, problems = parse_yaml("title: x\nnodes: &n {a: *n}\n", "t.yaml")
    assert doc is not None
    assert [(p.line, p.code) for p in problems] == [(2, "KB105")]


def test_nesting_too_deep_for_the_parser_is_a_diagnostic() -> None:
    assert codes("title: " + "[" * 5000 + "]" * 5000 + "\n") == ["KB105"]


def test_empty_document_is_none_without_problems() -> None:
    doc, problems = parse_yaml("# just a comment\n", "t.yaml")
    assert doc is not None and doc.data is None and problems == []
