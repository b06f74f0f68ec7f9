"""The `report:` settings of kb.yaml: the recurring-problem rule and the content-health limits
(docs/report.md#settings). A value out of shape falls back to its default with a warning."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from kbengine.walk.store import SessionError, parse_age


@dataclass(frozen=True, slots=True)
class RecurringRule:
    """A thing recurs when its count in the window is at least `min_count` and a Poisson count at
    the baseline's rate would reach it with a probability below `p_value`."""

    window: timedelta = timedelta(days=1)
    baseline: timedelta = timedelta(days=28)
    min_count: int = 3
    p_value: float = 0.001
    inputs: tuple[str, ...] = ("asset_tag", "printer", "location")  # collected values worth comparing


@dataclass(frozen=True, slots=True)
class ContentLimits:
    """When an article is stale, and when one node's abandoned walks make a tree worth a look."""

    stale_after: timedelta = timedelta(days=365)
    abandonment: float = 0.25  # share of a tree's walks abandoned at one node
    min_walks: int = 5  # a tree needs this many walks before its abandonment counts


@dataclass(frozen=True, slots=True)
class ReportSettings:
    recurring: RecurringRule = RecurringRule()
    content: ContentLimits = ContentLimits()


def report_settings(section: Mapping[str, Any] | None) -> tuple[ReportSettings, list[str]]:
    """Settings from kb.yaml's `report:` section, and a sentence per value that was not usable."""
    problems: list[str] = []
    section = section if isinstance(section, Mapping) else {}
    recurring = _part(section, "recurring", problems)
    content = _part(section, "content", problems)
    rule, limits = RecurringRule(), ContentLimits()
    names = recurring.get("inputs", list(rule.inputs))
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        problems.append("report.recurring.inputs in kb.yaml is not a list of input names; "
                        f"using {', '.join(rule.inputs)}")
        names = list(rule.inputs)
    rule = RecurringRule(
        _age(recurring, "window", rule.window, "recurring", problems),
        _age(recurring, "baseline", rule.baseline, "recurring", problems),
        _number(recurring, "min_count", rule.min_count, "recurring", problems, whole=True, low=1),
        _number(recurring, "p_value", rule.p_value, "recurring", problems, low=1e-300, high=1),
        tuple(names))
    limits = ContentLimits(
        _age(content, "stale_after", limits.stale_after, "content", problems),
        _number(content, "abandonment", limits.abandonment, "content", problems, low=0, high=1),
        _number(content, "min_walks", limits.min_walks, "content", problems, whole=True, low=1))
    return ReportSettings(rule, limits), problems


def _part(section: Mapping[str, Any], name: str, problems: list[str]) -> Mapping[str, Any]:
    part = section.get(name) or {}
    if not isinstance(part, Mapping):
        problems.append(f"report.{name} in kb.yaml is not a set of key: value lines; using the defaults")
        return {}
    return part


def _age(part: Mapping[str, Any], key: str, default: timedelta, where: str, problems: list[str]) -> timedelta:
    if key not in part:
        return default
    try:
        age = parse_age(str(part[key]))
    except SessionError:
        age = timedelta(0)
    if age > timedelta(0):
        return age
    problems.append(f"report.{where}.{key} in kb.yaml is '{part[key]}', not an age like 1d, 36h or 4w; "
                    f"using {age_text(default)}")
    return default


def _number(part: Mapping[str, Any], key: str, default: Any, where: str, problems: list[str], *,
            whole: bool = False, low: float = 0, high: float | None = None) -> Any:
    if key not in part:
        return default
    value = part[key]
    kinds = (int,) if whole else (int, float)
    usable = isinstance(value, kinds) and not isinstance(value, bool)
    if usable and value >= low and (high is None or value <= high):
        return value
    wanted = "a whole number" if whole else "a number"
    limits = f" from {low:g}" + (f" to {high:g}" if high is not None else "")
    problems.append(f"report.{where}.{key} in kb.yaml is '{value}', not {wanted}{limits}; using {default}")
    return default


def age_text(age: timedelta) -> str:
    """`28d` or `36h`: an age as kb.yaml writes it."""
    hours = int(age.total_seconds() // 3600)
    return f"{hours // 24}d" if hours % 24 == 0 else f"{hours}h"
