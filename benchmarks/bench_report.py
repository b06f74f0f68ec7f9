"""How long `kb report` takes over many session records, whole process (start-up included).

    python benchmarks/bench_report.py [--sessions 10000] [--runs 5]

Writes N synthetic records in the documented format (docs/walk.md: every event carries
the full state, so a record grows with its steps) to a temporary folder, then times
`kb report` and `kb report --json` as a team lead would run them. Figures are medians.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

TREES = [f"tree-{n}" for n in range(12)]
TEAMS = [("Workplace hardware", "P3", "Hardware fault"), ("Network", "P2", "Gateway down"),
         ("Identity", "P2", "Account locked"), ("Applications", "P4", "Needs a fix in the app")]
OUTCOMES = ["solved"] * 5 + ["escalated"] * 3 + ["abandoned"] * 1 + ["in_progress"] * 1


def walk_lines(number: int, rng: random.Random, first_day: datetime) -> list[str]:
    """One record: a start, 2 to 8 steps with the growing path, an input and a note, the end."""
    tree = rng.choice(TREES)
    outcome = rng.choice(OUTCOMES)
    at = first_day + timedelta(minutes=rng.randrange(90 * 24 * 60))
    session = f"{at:%Y%m%d-%H%M%S}-{number:05x}"
    path: list[dict[str, Any]] = []
    state: dict[str, Any] = {"tree": tree, "node": "start", "kind": "ask", "prompt": "Question?",
                             "outcome": "in_progress", "path": path, "facts": {}, "inputs": {},
                             "notes": [], "answers": ["Yes", "No"]}
    lines = [json.dumps({"event": "start", "format": 1, "session": session, "at": at.isoformat(),
                         "tree": tree, "tree_title": tree.title(), "tree_hash": "0" * 16,
                         "ticket": f"INC{number:07d}", "agent": f"agent{number % 20}",
                         "kb_root": "/kb", "kb_title": "Help", "state": state})]
    steps = rng.randint(2, 8)
    for step in range(steps):
        at += timedelta(seconds=rng.randint(5, 240))
        node = f"node-{step}"
        path = [*path, {"tree": tree, "node": node, "kind": "ask", "prompt": f"Question {step}?",
                        "answer": "Yes", "at": at.isoformat()}]
        last = step == steps - 1
        state = {**state, "node": "end" if last else f"node-{step + 1}", "path": path,
                 "outcome": outcome if last and outcome != "abandoned" else "in_progress"}
        if last and outcome == "escalated":
            team, priority, reason = rng.choice(TEAMS)
            state.update(kind="escalate", inputs={"asset_tag": "AB12345"},
                         escalation={"team": team, "priority": priority, "reason": reason})
        lines.append(json.dumps({"event": "answer", "at": at.isoformat(), "tree": tree, "node": node,
                                 "answer": "Yes", "state": state}))
        if step == 0:
            state = {**state, "notes": [{"text": "Caller on the phone", "tree": tree, "node": node,
                                         "at": at.isoformat()}]}
            lines.append(json.dumps({"event": "note", "at": at.isoformat(), "text": "Caller on the phone",
                                     "state": state}))
    if outcome == "abandoned":
        state = {**state, "outcome": "abandoned"}
        lines.append(json.dumps({"event": "abandon", "at": at.isoformat(), "state": state}))
    return lines


def write_records(folder: Path, count: int, seed: int = 1) -> int:
    """N records in `folder`; returns their total size in bytes."""
    rng = random.Random(seed)
    first_day = datetime.fromisoformat("2024-03-01T08:00:00+01:00")
    size = 0
    for number in range(count):
        text = "\n".join(walk_lines(number, rng, first_day)) + "\n"
        (folder / f"{number:06d}.jsonl").write_text(text, "utf-8")
        size += len(text)
    return size


def timed(args: list[str], folder: Path, runs: int) -> float:
    env = {**os.environ, "KB_SESSIONS": str(folder)}
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(["kb", "report", *args], env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        size = write_records(folder, options.sessions)
        print(f"{options.sessions:,} records, {size / 1e6:.1f} MB")
        for args in ([], ["--json"], ["--by", "day", "--format", "csv"]):
            seconds = timed(args, folder, options.runs)
            print(f"kb report {' '.join(args):<24} median of {options.runs}: {seconds:.2f} s")


if __name__ == "__main__":
    main()
