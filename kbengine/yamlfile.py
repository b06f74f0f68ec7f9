"""YAML with line numbers: parse text into plain data plus the position of every value.

Writers type answer labels as they speak, so `Yes`, `No`, `On` and `Off` stay text
(YAML 1.1's booleans never reach them), mapping keys are always text, and dates stay
text. Only `true`/`false`, `null`, integers and floats are typed. Problems come back as
diagnostics, never as exceptions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kbengine.model import Diagnostic

Path = tuple[str | int, ...]

_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULLS = {"", "~", "null", "Null", "NULL"}
_INT = re.compile(r"[-+]?(0|[1-9][0-9_]*)")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+\.[0-9]*)([eE][-+]?[0-9]+)?")
# A document bigger than this is an alias bomb or a mistake, not content.
MAX_VALUES = 200_000


@dataclass(slots=True)
class YamlDocument:
    data: Any
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: Path, *, key: bool = False) -> tuple[int, int]:
        """Line and column of the value at `path` (or of its key), else of its nearest parent."""
        path = tuple(path)
        while path:
            found = (self.keys if key else self.values).get(path) or self.values.get(path)
            if found:
                return found
            path = path[:-1]
        return self.values.get((), (1, 1))


class _TooBig(Exception):
    pass


class _Builder:
    def __init__(self, rel: str, line_offset: int) -> None:
        self.rel = rel
        self.offset = line_offset
        self.doc = YamlDocument(None)
        self.diagnostics: list[Diagnostic] = []
        self.count = 0
        self.active: set[int] = set()

    def pos(self, node: Node) -> tuple[int, int]:
        return node.start_mark.line + 1 + self.offset, node.start_mark.column + 1

    def build(self, node: Node, path: Path) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            raise _TooBig
        self.doc.values[path] = self.pos(node)
        if id(node) in self.active:
            line, col = self.pos(node)
            self.diagnostics.append(
                Diagnostic(self.rel, line, col, "KB105", "error",
                           "a YAML alias refers to the value that contains it",
                           "replace the alias with the values it should repeat"))
            return None
        if isinstance(node, ScalarNode):
            return scalar(node)
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            assert isinstance(node, MappingNode)
            return self.mapping(node, path)
        finally:
            self.active.discard(id(node))

    def mapping(self, node: MappingNode, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                line, col = self.pos(key_node)
                self.diagnostics.append(
                    Diagnostic(self.rel, line, col, "KB103", "error",
                               "a key must be plain text, not a list or mapping",
                               "write the key as text followed by a colon"))
                continue
            key = key_node.value
            if key in result:
                line, col = self.pos(key_node)
                first = self.doc.keys.get((*path, key), (0, 0))[0]
                self.diagnostics.append(
                    Diagnostic(self.rel, line, col, "KB104", "error",
                               f"duplicate key '{key}' (first written on line {first})",
                               "YAML keeps only the last of two equal keys; remove or rename one"))
                continue
            self.doc.keys[(*path, key)] = self.pos(key_node)
            result[key] = self.build(value_node, (*path, key))
        return result


def scalar(node: ScalarNode) -> Any:
    """Type a scalar the way writers expect: quoted is text, plain `true`/`3` are typed."""
    text = node.value
    if node.style is not None:  # quoted or block scalars are always text
        return text
    if text in _BOOLS:
        return _BOOLS[text]
    if text in _NULLS:
        return None
    if _INT.fullmatch(text):
        return int(text.replace("_", ""))
    if _FLOAT.fullmatch(text):
        return float(text)
    return text


def parse_yaml(text: str, rel: str, line_offset: int = 0) -> tuple[YamlDocument | None, list[Diagnostic]]:
    """Parse one YAML document; `line_offset` shifts lines for front matter inside a file."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = (mark.line + 1 + line_offset) if mark else 1 + line_offset
        col = (mark.column + 1) if mark else 1
        problem = error.problem or error.context or "the YAML could not be read"
        return None, [Diagnostic(rel, line, col, "KB103", "error",
                                 f"YAML syntax error: {problem}",
                                 _syntax_hint(problem))]
    except yaml.YAMLError as error:  # reader errors such as control characters
        return None, [Diagnostic(rel, 1 + line_offset, 1, "KB103", "error",
                                 f"YAML syntax error: {error}", "")]
    except RecursionError:  # PyYAML composes recursively: '[[[[...' thousands deep
        return None, [_too_deep(rel, line_offset)]
    builder = _Builder(rel, line_offset)
    if root is None:
        builder.doc.data = None
        return builder.doc, []
    try:
        builder.doc.data = builder.build(root, ())
    except _TooBig:
        return None, [Diagnostic(rel, 1 + line_offset, 1, "KB105", "error",
                                 f"the YAML expands to more than {MAX_VALUES} values",
                                 "aliases that repeat aliases multiply; write the values out")]
    except RecursionError:
        return None, [_too_deep(rel, line_offset)]
    return builder.doc, builder.diagnostics


def _too_deep(rel: str, line_offset: int) -> Diagnostic:
    return Diagnostic(rel, 1 + line_offset, 1, "KB105", "error", "the YAML is nested too deeply to read",
                      "flatten the lists and mappings; content is never nested this deep")


def _syntax_hint(problem: str) -> str:
    if "mapping values are not allowed" in problem:
        return "put text that contains ': ' in quotes"
    if "tab" in problem:
        return "indent with spaces, not tabs"
    if "indentation" in problem or "block end" in problem:
        return "check the indentation: items of one list or mapping line up"
    return "check the line above for a missing quote, colon or indentation"
