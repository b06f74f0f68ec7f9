"""JSON Schemas for article front matter, trees and kb.yaml: validation with located messages.

The schema files in kbengine/schemas/ are the one source of truth; editors can use them too.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from kbengine.check.registry import diagnostic
from kbengine.check.suggest import did_you_mean
from kbengine.model import Diagnostic
from kbengine.read.yamlfile import YamlDocument

SCHEMA_NAMES = ("article", "tree", "kb")
_TYPE_WORDS = {
    "string": "text", "array": "a list", "object": "a mapping (key: value lines)",
    "integer": "a whole number", "number": "a number", "boolean": "true or false", "null": "empty",
}


@cache
def load_schema(name: str) -> dict[str, Any]:
    text = resources.files("kbengine.schemas").joinpath(f"{name}.json").read_text("utf-8")
    return json.loads(text)


@cache
def _validator(name: str) -> Any:
    from jsonschema import Draft202012Validator  # imported on first use: costs ~50 ms

    return Draft202012Validator(load_schema(name))


def validate(name: str, doc: YamlDocument, rel: str, code: str = "KB201") -> list[Diagnostic]:
    """Check `doc.data` against schema `name`; one located diagnostic per problem."""
    diagnostics = []
    for error in sorted(_validator(name).iter_errors(doc.data), key=lambda e: list(map(str, e.path))):
        for path, message, on_key, hint in _explain(error):
            line, col = doc.locate(path, key=on_key)
            diagnostics.append(diagnostic(code, rel, line, col, message, hint))
    return diagnostics


def error_fields(name: str, data: Any) -> set[str]:
    """Top-level keys whose values break the schema (for lenient loaders that fall back)."""
    return {str(e.path[0]) for e in _validator(name).iter_errors(data) if e.path}


def _explain(error: Any) -> list[tuple[tuple[Any, ...], str, bool, str]]:
    """(where, message, whether the key is meant, hint) for each problem the error stands for."""
    return [(path, message, on_key, _hint(source, path))
            for path, message, on_key, source in _problems(error)]


def _problems(error: Any) -> list[tuple[tuple[Any, ...], str, bool, Any]]:
    path = tuple(error.path)
    field = _field_name(path)
    validator = error.validator
    if validator in ("oneOf", "anyOf") and error.context:
        # a misspelt field ("nxt") explains a missing one ("next") better than the other way round
        deepest = max(error.context, key=lambda e: (len(e.path), e.validator != "type",
                                                     e.validator == "additionalProperties"))
        if deepest.validator != "type" or len(deepest.path):
            deepest.path.extendleft(reversed(path))  # context paths are relative
            return _problems(deepest)
        wanted = " or ".join(sorted({_TYPE_WORDS.get(str(e.validator_value), str(e.validator_value))
                                     for e in error.context if e.validator == "type"}))
        return [(path, f"{field} should be {wanted}, not {_describe(error.instance)}", False, error)]
    if validator == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        extras = [k for k in error.instance if k not in known]
        return [((*path, k), f"unknown field '{k}'" + (f" in {field}" if path else ""), True, error)
                for k in extras]
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else str(error.validator_value)
        where = f" in {field}" if path else ""
        return [(path, f"missing required field '{missing}'{where}", True, error)]
    if validator == "type":
        types = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        wanted = " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in types)
        return [(path, f"{field} should be {wanted}, not {_describe(error.instance)}", False, error)]
    if validator == "enum":
        options = ", ".join(str(v) for v in error.validator_value)
        return [(path, f"{field} must be one of {options} (found '{error.instance}')", False, error)]
    if validator == "pattern":
        return [(path, f"{field} '{error.instance}' does not match the pattern {error.validator_value}",
                 False, error)]
    if validator in ("minItems", "minProperties", "minLength"):
        return [(path, f"{field} must not be empty", False, error)]
    return [(path, f"{field}: {error.message}", False, error)]


def _field_name(path: tuple[Any, ...]) -> str:
    names = [str(p) for p in path]
    return "'" + ".".join(names) + "'" if names else "the file"


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "empty"
    return "a number"


def _hint(error: Any, path: tuple[Any, ...]) -> str:
    if error.validator == "additionalProperties":
        known = sorted(error.schema.get("properties", {}))
        guess = did_you_mean(str(path[-1]), known) if path else ""
        return guess or "check the spelling; the fields are listed in docs/formats.md"
    if error.validator == "type" and error.validator_value == "array":
        return "write a list as [a, b] or as lines starting with '- '"
    return ""
