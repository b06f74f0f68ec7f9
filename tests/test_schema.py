"""The JSON Schemas: valid schemas, the one source of validation, plain-language located messages."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from jsonschema import Draft202012Validator

from kbengine.read import schema
from kbengine.read.yamlfile import parse_yaml
from tests.conftest import REPO


def problems(name: str, text: str) -> list[tuple[int, int, str]]:
    doc, syntax = parse_yaml(text, "x.yaml")
    assert doc is not None and syntax == []
    return [(d.line, d.col, d.message) for d in schema.validate(name, doc, "x.yaml")]


@pytest.mark.parametrize("name", schema.SCHEMA_NAMES)
def test_each_schema_is_valid_json_schema_shipped_in_the_package(name: str) -> None:
    text = resources.files("kbengine.schemas").joinpath(f"{name}.json").read_text("utf-8")
    Draft202012Validator.check_schema(json.loads(text))
    # relative: it resolves beside wherever the file is read from (the package, a KB's schemas/)
    assert schema.load_schema(name)["$id"] == f"{name}.json"


def test_unknown_field_is_named_at_its_key() -> None:
    assert problems("tree", "title: T\nstart: a\nstrat: a\nnodes: {a: {solved: S}}\n") == [
        (3, 1, "unknown field 'strat'")]


def test_missing_required_field() -> None:
    assert problems("tree", "title: T\nnodes: {a: {solved: S}}\n") == [
        (1, 1, "missing required field 'start'")]


def test_wrong_type_says_what_was_expected_in_words() -> None:
    assert problems("tree", "title: T\nstart: a\nsymptoms: printer offline\nnodes: {a: {solved: S}}\n") == [
        (3, 11, "'symptoms' should be a list, not text")]


def test_enum_lists_the_options() -> None:
    [(line, _, message)] = problems("article", "audience: ITPro\n")
    assert line == 1 and message == "'audience' must be one of public, internal (found 'ITPro')"


def test_answer_in_neither_short_nor_long_form_names_the_misspelt_field() -> None:
    found = problems("tree", "title: T\nstart: a\nnodes:\n  a:\n    ask: Q\n    answers:\n"
                             "      Yes: {nxt: b}\n  b: {solved: S}\n")
    assert found == [(7, 13, "unknown field 'nxt' in 'nodes.a.answers.Yes'")]


def test_escalation_priority_pattern() -> None:
    [(line, _, message)] = problems("tree", "title: T\nstart: a\nnodes:\n  a:\n"
                                            "    escalate: {team: L2, priority: urgent}\n")
    assert line == 5 and "priority" in message and "urgent" in message


def test_error_fields_are_the_top_level_keys_with_bad_values() -> None:
    assert schema.error_fields("article", {"title": "T", "status": "live", "tags": "x", "foo": 1}) == {
        "status", "tags"}


def test_bundled_kb_yaml_matches_the_schema() -> None:
    doc, syntax = parse_yaml((REPO / "kb.yaml").read_text("utf-8"), "kb.yaml")
    assert doc is not None and syntax == []
    assert schema.validate("kb", doc, "kb.yaml") == []

