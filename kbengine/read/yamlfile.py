"""YAML with line numbers: parse text into plain data plus the position of every value.

Writers type answer labels as they speak, so `Yes`, `No`, `On` and `Off` stay text
(YAML 1.1's booleans never reach them), mapping keys are always text, and dates stay
text. Only `true`/`false`, `null`, integers and floats are typed. Problems come back as
diagnostics, never as exceptions.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from kbengine.check.registry import diagnostic
from kbengine.model import Diagnostic

Path = tuple[str | int, ...]

_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULLS = {"", "~", "null", "Null", "NULL"}
_INT = re.compile(r"[-+]?(0|[1-9][0-9_]*)")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+\.[0-9]*)([eE][-+]?[0-9]+)?")
# A document bigger than this is an alias bomb or a mistake, not content.
MAX_VALUES = 200_000
# Nothing a writer means is nested this deep, and what reads the data later recurses.
MAX_DEPTH = 100


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


class _TooDeep(Exception):
    def __init__(self, line: int = 1, col: int = 1) -> None:
        super().__init__(line, col)
        self.line, self.col = line, col


# libyaml's event parser is about 25 times faster than PyYAML's and, unlike its composer,
# keeps no C recursion, so deep nesting cannot crash the process.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(slots=True)
class _Open:
    """A mapping or sequence being built, with where it goes and what its anchor is."""

    value: dict[str, Any] | list[Any]
    path: Path
    anchor: str | None
    count_at_start: int
    key: tuple[str, tuple[int, int]] | None = None  # a mapping's key waiting for its value
    skip: bool = False  # building a value that will be dropped (duplicate or non-text key)


class _Builder:
    """Plain data and positions from a stream of YAML events, with an explicit stack."""

    def __init__(self, rel: str, line_offset: int) -> None:
        self.rel = rel
        self.offset = line_offset
        self.doc = YamlDocument(None)
        self.diagnostics: list[Diagnostic] = []
        self.count = 0
        self.stack: list[_Open] = []
        self.anchors: dict[str, tuple[Any, int]] = {}  # name -> (value, how many values it holds)
        self.documents = 0

    def pos(self, event: Any) -> tuple[int, int]:
        return event.start_mark.line + 1 + self.offset, event.start_mark.column + 1

    def error(self, event: Any, code: str, message: str, hint: str) -> None:
        line, col = self.pos(event)
        self.diagnostics.append(diagnostic(code, self.rel, line, col, message, hint))

    def feed(self, event: Any) -> None:
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise yaml.MarkedYAMLError(None, None, "expected a single document in the stream",
                                           event.start_mark)
        elif isinstance(event, yaml.ScalarEvent | yaml.AliasEvent | yaml.CollectionStartEvent):
            self.node(event)
        elif isinstance(event, yaml.CollectionEndEvent):
            done = self.stack.pop()
            if done.anchor:
                self.anchors[done.anchor] = (done.value, self.count - done.count_at_start)

    def node(self, event: Any) -> None:
        parent = self.stack[-1] if self.stack else None
        if parent is not None and isinstance(parent.value, dict) and parent.key is None:
            self.key(parent, event)
            return
        path, skip = self.place(parent)
        self.grow(1)
        if not skip:
            self.doc.values[path] = self.pos(event)
        if isinstance(event, yaml.AliasEvent):
            value = self.alias(event)
        elif isinstance(event, yaml.ScalarEvent):
            value = scalar(event)
        else:
            value = {} if isinstance(event, yaml.MappingStartEvent) else []
            if len(self.stack) >= MAX_DEPTH:
                raise _TooDeep(*self.pos(event))
            self.stack.append(_Open(value, path, event.anchor, self.count, skip=skip))
        if isinstance(event, yaml.ScalarEvent) and event.anchor:
            self.anchors[event.anchor] = (value, 1)
        if skip or parent is None:
            if parent is None:
                self.doc.data = value
            return
        if isinstance(parent.value, list):
            parent.value.append(value)
        else:
            assert parent.key is not None
            parent.value[parent.key[0]] = value
            parent.key = None

    def place(self, parent: _Open | None) -> tuple[Path, bool]:
        """The path of the next value, and whether it is to be dropped."""
        if parent is None:
            return (), False
        if isinstance(parent.value, list):
            return (*parent.path, len(parent.value)), parent.skip
        assert parent.key is not None
        skip = parent.skip or parent.key[0] == _DROPPED
        if skip:
            parent.key = None
        return (*parent.path, parent.key[0] if parent.key else _DROPPED), skip

    def key(self, parent: _Open, event: Any) -> None:
        if not isinstance(event, yaml.ScalarEvent):
            self.error(event, "KB103", "a key must be plain text, not a list or mapping",
                       "write the key as text followed by a colon")
            parent.key = (_DROPPED, self.pos(event))
            if isinstance(event, yaml.CollectionStartEvent):  # the key itself is dropped too
                self.stack.append(_Open({} if isinstance(event, yaml.MappingStartEvent) else [],
                                        parent.path, None, self.count, key=None, skip=True))
                self.stack[-1].key = None
            return
        name = event.value
        where = self.pos(event)
        if name in parent.value and not parent.skip:
            first = self.doc.keys.get((*parent.path, name), (0, 0))[0]
            self.error(event, "KB104", f"duplicate key '{name}' (first written on line {first})",
                       "YAML keeps only the last of two equal keys; remove or rename one")
            parent.key = (_DROPPED, where)
            return
        if not parent.skip:
            self.doc.keys[(*parent.path, name)] = where
        parent.key = (name, where)

    def alias(self, event: Any) -> Any:
        found = self.anchors.get(event.anchor)
        if found is None:
            if any(frame.anchor == event.anchor for frame in self.stack):
                self.error(event, "KB105", "a YAML alias refers to the value that contains it",
                           "replace the alias with the values it should repeat")
                return None
            raise yaml.MarkedYAMLError(None, None, f"found undefined alias '{event.anchor}'",
                                       event.start_mark)
        value, size = found
        self.grow(size)  # what the alias repeats counts, so alias bombs are caught
        return copy.deepcopy(value)  # a copy, as PyYAML's composer gives: edits stay local

    def grow(self, values: int) -> None:
        self.count += values
        if self.count > MAX_VALUES:
            raise _TooBig


_DROPPED = "\x00dropped"  # stands for a key whose value is read but not kept


def scalar(event: Any) -> Any:
    """Type a scalar the way writers expect: quoted is text, plain `true`/`3` are typed."""
    text = event.value
    if event.style:  # quoted or block scalars are always text (plain is None, or "" from libyaml)
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
    builder = _Builder(rel, line_offset)
    try:
        for event in yaml.parse(text, Loader=_LOADER):
            builder.feed(event)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = (mark.line + 1 + line_offset) if mark else 1 + line_offset
        col = (mark.column + 1) if mark else 1
        problem = error.problem or error.context or "the YAML could not be read"
        if "nesting depth" in problem:  # newer libyaml stops at 1,000 levels by itself
            return None, [_too_deep(rel, line, col)]
        if mark and _tab_in_indent(text, mark.line, mark.column):
            # libyaml only says "found character that cannot start any token"
            return None, [diagnostic("KB103", rel, line, col,
                                     "YAML syntax error: a tab character indents this line; "
                                     "YAML indents with spaces only",
                                     "replace the tab with spaces (let your editor insert spaces for Tab)")]
        return None, [diagnostic("KB103", rel, line, col, f"YAML syntax error: {problem}",
                                 _syntax_hint(problem))]
    except yaml.YAMLError as error:  # reader errors such as control characters
        return None, [diagnostic("KB103", rel, 1 + line_offset, 1, f"YAML syntax error: {error}", "")]
    except _TooBig:
        return None, [diagnostic("KB105", rel, 1 + line_offset, 1,
                                 f"the YAML expands to more than {MAX_VALUES} values",
                                 "aliases that repeat aliases multiply; write the values out")]
    except _TooDeep as deep:
        return None, [_too_deep(rel, deep.line, deep.col)]
    except RecursionError:  # PyYAML's own parser, where libyaml is missing
        return None, [_too_deep(rel, 1 + line_offset, 1)]
    return builder.doc, builder.diagnostics


def _too_deep(rel: str, line: int, col: int) -> Diagnostic:
    return diagnostic("KB105", rel, line, col, f"the YAML is nested more than {MAX_DEPTH} levels deep",
                      "flatten the lists and mappings; content is never nested this deep")


def _tab_in_indent(text: str, line: int, column: int) -> bool:
    lines = text.split("\n")
    if line >= len(lines):
        return False
    source = lines[line]
    indent = source[: len(source) - len(source.lstrip(" \t"))]
    return "\t" in indent or source[column:column + 1] == "\t"


def _syntax_hint(problem: str) -> str:
    if "mapping values are not allowed" in problem:
        return "put text that contains ': ' in quotes"
    if "tab" in problem:
        return "indent with spaces, not tabs"
    if "indentation" in problem or "block end" in problem:
        return "check the indentation: items of one list or mapping line up"
    return "check the line above for a missing quote, colon or indentation"
