"""Recurring problems (kbengine/report/recurring.py): the Poisson rule against values worked out by
hand, a planted spike that must be found, a flat series that must not, and the kb.yaml settings."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from kbengine.cli import cli
from kbengine.report import WalkFigures
from kbengine.report.recurring import find_recurring, poisson_tail
from kbengine.report.settings import RecurringRule, report_settings

END = datetime.fromisoformat("2024-05-29T00:00:00+02:00")
RULE = RecurringRule()  # 1d window, 28d baseline, at least 3, p < 0.001


def walk(started: datetime, *, tree: str = "printer", outcome: str = "solved", node: str = "fixed",
         asset: str = "", reason: str = "", number: int = 0) -> WalkFigures:
    return WalkFigures(tree, outcome, started, 10.0, 60.0, tree, node,
                       team="Workplace hardware" if outcome == "escalated" else "", reason=reason,
                       session=f"s{number:04d}", collected=(("asset_tag", asset),) if asset else ())


def flat(per_day: int, days: int = 29) -> list[WalkFigures]:
    """`per_day` solved printer walks every day for `days` days up to END, the window included."""
    return [walk(END - timedelta(days=day, hours=1 + slot), number=day * 10 + slot)
            for day in range(days) for slot in range(per_day)]


def poisson_upper(count: int, expected: float) -> float:
    """P(X >= count) the schoolbook way: one minus the first `count` terms."""
    return 1 - sum(math.exp(-expected) * expected ** k / math.factorial(k) for k in range(count))


@pytest.mark.parametrize(("count", "expected", "p"), [
    (5, 1.0, 1 - math.exp(-1) * (1 + 1 + 1 / 2 + 1 / 6 + 1 / 24)),  # 0.0036598...
    (2, 5.0, 1 - 6 * math.exp(-5)),
    (1, 0.5, 1 - math.exp(-0.5)),
    (0, 3.0, 1.0),
    (3, 0.0, 0.0),
])
def test_poisson_tail_matches_values_worked_out_by_hand(count: int, expected: float, p: float) -> None:
    assert poisson_tail(count, expected) == pytest.approx(p, rel=1e-9, abs=1e-15)


def test_poisson_tail_stays_accurate_far_in_the_tail() -> None:
    # 12 at 1/28: the first term (1/28)^12 / 12! e^(-1/28) dominates; one-minus-the-head would give 0
    first = math.exp(-1 / 28) * (1 / 28) ** 12 / math.factorial(12)
    assert poisson_tail(12, 1 / 28) == pytest.approx(first * (1 + (1 / 28) / 13), rel=1e-6)


def test_a_planted_spike_is_found_with_its_counts_since_and_sessions() -> None:
    walks = flat(1)  # one solved printer walk a day: 28 in the baseline, 1 in the window
    spike = [walk(END - timedelta(hours=6 - hour), outcome="escalated", node="hardware", asset=asset,
                  reason="Paper feed jammed", number=9000 + hour)
             for hour, asset in enumerate(["PR40404", "pr40404 ", *["PR40404"] * 4])]
    found = {(item.kind, item.what): item for item in find_recurring(walks + spike, RULE, END)}
    asset = found["collected value", "asset_tag: PR40404"]  # case and spaces do not split it
    assert (asset.window_count, asset.baseline_count) == (6, 0)
    assert asset.expected == pytest.approx(1 / 28)
    assert asset.p_value == pytest.approx(math.exp(-1 / 28) * (1 / 28) ** 6 / math.factorial(6), rel=1e-3)
    assert asset.since == END - timedelta(hours=6)
    assert asset.sessions == tuple(f"s{9000 + hour:04d}" for hour in range(6))
    assert ("escalation reason", "Paper feed jammed") in found
    assert ("end node", "printer#hardware") in found
    # the tree itself: 7 in the window (6 + the flat one) against 28 in 28 days: lambda = 29/28,
    # P(X >= 7) = 0.00079 < 0.001, so the tree is flagged as well, but after the sharper signals
    tree = found["tree", "printer"]
    assert (tree.window_count, tree.baseline_count) == (7, 28)
    assert tree.p_value == pytest.approx(poisson_upper(7, 29 / 28), rel=1e-6)
    ranked = [item.kind for item in find_recurring(walks + spike, RULE, END)]
    assert ranked.index("tree") > ranked.index("collected value")


def test_a_flat_series_is_not_a_recurring_problem() -> None:
    # 3 a day: 84 in the baseline, 3 in the window, lambda = 85/28 = 3.04, P(X >= 3) = 0.58
    assert find_recurring(flat(3), RULE, END) == []
    assert poisson_upper(3, 85 / 28) == pytest.approx(0.5848, abs=1e-4)


def test_a_busy_day_on_a_busy_tree_is_not_enough() -> None:
    # 10 a day and 16 today: lambda = 281/28 = 10.04, P(X >= 16) = 0.05, far above 0.001
    walks = flat(10) + [walk(END - timedelta(minutes=5 + m), number=8000 + m) for m in range(6)]
    assert find_recurring(walks, RULE, END) == []


def test_fewer_than_min_count_never_recur_however_new() -> None:
    walks = [walk(END - timedelta(hours=h), asset="NEW1", outcome="escalated", node="hw", number=h)
             for h in (1, 2)]  # two calls about a new asset: p = 0.0006, but fewer than 3
    assert find_recurring(walks, RULE, END) == []
    assert find_recurring(walks, RecurringRule(min_count=2), END) != []


def test_only_walks_in_the_baseline_and_window_count() -> None:
    old = [walk(END - timedelta(days=40, minutes=m), asset="PR1", outcome="escalated", number=m)
           for m in range(50)]  # before the baseline: left out, so PR1 is new again
    later = [walk(END + timedelta(hours=1), asset="PR1", outcome="escalated", number=99)]  # after the end
    recent = [walk(END - timedelta(hours=h), asset="PR1", outcome="escalated", number=100 + h)
              for h in (1, 2, 3)]
    found = {item.what: item for item in find_recurring(old + later + recent, RULE, END)}
    assert found["asset_tag: PR1"].window_count == 3 and found["asset_tag: PR1"].baseline_count == 0


def test_report_settings_come_from_kb_yaml_and_bad_values_fall_back_with_a_sentence() -> None:
    settings, problems = report_settings({"recurring": {"window": "12h", "baseline": "2w", "min_count": 5,
                                                        "p_value": 0.01, "inputs": ["room"]}})
    assert settings.recurring == RecurringRule(timedelta(hours=12), timedelta(weeks=2), 5, 0.01, ("room",))
    assert problems == []
    settings, problems = report_settings({"recurring": {"window": "soon", "min_count": 0, "p_value": "low"},
                                          "content": "yes"})
    assert settings.recurring == RULE
    assert len(problems) == 4
    assert "report.recurring.window in kb.yaml is 'soon', not an age like 1d, 36h or 4w; using 1d" in problems


def test_kb_report_lists_the_planted_spike_first_with_sessions_for_leads_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "sessions"
    monkeypatch.setenv("KB_SESSIONS", str(folder))
    for day in range(1, 29):  # a calm month on the VPN tree
        record(folder, f"calm{day:02d}", END - timedelta(days=day), "vpn", "solved", "fixed")
    for hour in range(4):  # then four escalations about the same printer in one morning
        record(folder, f"spike{hour}", END - timedelta(hours=4 - hour), "printer", "escalated", "hardware",
               {"asset_tag": "PR40404", "phone": "+31 6 12345678"})
    runner = CliRunner()
    data = json.loads(runner.invoke(cli, ["report", "--json", "--since", "2024-05-28"]).stdout)
    assert list(data)[:4] == ["period", "skipped_records", "recurring_rule", "recurring"]
    assert data["recurring_rule"]["as_of"] == (END - timedelta(hours=1)).isoformat()
    first = data["recurring"][0]
    assert first["what"] == "asset_tag: PR40404" and first["window_count"] == 4
    assert first["sessions"] == ["spike0", "spike1", "spike2", "spike3"]
    assert data["sessions"]["total"] == 4  # the period is only the last day; the baseline still counts
    text = runner.invoke(cli, ["report", "--since", "2024-05-28"]).stdout
    assert text.index("Recurring problems") < text.index("Sessions") and "spike0" in text
    markdown = runner.invoke(cli, ["report", "--format", "md"]).stdout
    assert "PR40404" in markdown and "spike0" not in markdown
    for output in (text, markdown, json.dumps(data)):
        assert "+31 6 12345678" not in output  # an input kb.yaml does not name is never shown


def record(folder: Path, session: str, started: datetime, tree: str, outcome: str, node: str,
           inputs: dict[str, str] | None = None) -> None:
    """A format 1 record: a start and one answer that ends the walk."""
    escalation = {"team": "Workplace hardware", "reason": "Hardware"} if outcome == "escalated" else None
    state = {"tree": tree, "node": node, "outcome": outcome, "inputs": inputs or {}, "path": [],
             "escalation": escalation}
    lines = [{"event": "start", "format": 1, "session": session, "at": started.isoformat(), "tree": tree,
              "agent": "ann"},
             {"event": "answer", "at": (started + timedelta(minutes=3)).isoformat(), "tree": tree,
              "node": "start", "answer": "Yes", "state": state}]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{session}.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
