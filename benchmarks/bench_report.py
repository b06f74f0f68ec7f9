"""How long `kb report` takes over many session records, whole process (start-up included),
and how much memory it peaks at.

    python benchmarks/bench_report.py [--sessions 10000 | --events 1000000] [--runs 5]
    python benchmarks/bench_report.py --events 1000000 --database sqlite|postgresql|URL
    python benchmarks/bench_report.py --events 20000 --write FOLDER   # records only, to look at

Writes synthetic records in record format 1 (docs/walk.md: every event carries the full state,
so a record grows with its steps) over 90 days, plus a planted recurring problem on the last day
(one printer's asset tag escalated again and again), then times `kb report` as a team lead runs
it. Figures are medians; peak memory is the child process's ru_maxrss. With --database the same
records are loaded into a fresh SQLite file or PostgreSQL database (bench_server.py's choice) and
`kb report --database URL` is timed.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

TREES = [f"tree-{n}" for n in range(12)]
TEAMS = [("Workplace hardware", "P3", "Hardware fault"), ("Network", "P2", "Gateway down"),
         ("Identity", "P2", "Account locked"), ("Applications", "P4", "Needs a fix in the app")]
OUTCOMES = ["solved"] * 5 + ["escalated"] * 3 + ["abandoned"] * 1 + ["in_progress"] * 1
FIRST_DAY = datetime.fromisoformat("2024-03-01T08:00:00+01:00")
DAYS = 90
SPIKE = {"tree": "tree-3", "team": "Workplace hardware", "reason": "Paper feed jammed",
         "asset_tag": "PR40404"}


def walk_lines(number: int, rng: random.Random, at: datetime, tree: str, outcome: str,
               escalation: tuple[str, str, str] | None = None, asset_tag: str | None = None) -> list[str]:
    """One record: a start, 2 to 8 steps with the growing path, an input and a note, the end."""
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
            team, priority, reason = escalation or rng.choice(TEAMS)
            state.update(kind="escalate", inputs={"asset_tag": asset_tag or f"AB{rng.randrange(10**5):05d}"},
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


def write_records(folder: Path, sessions: int | None = None, events: int | None = None,
                  seed: int = 1, spike: int = 12) -> tuple[int, int, int]:
    """Records in `folder` until `sessions` or `events` is reached, plus `spike` planted ones on the
    last day; returns (sessions, events, bytes)."""
    rng = random.Random(seed)
    written = lines_written = size = 0

    def write(lines: list[str]) -> None:
        nonlocal written, lines_written, size
        text = "\n".join(lines) + "\n"
        (folder / f"{written:07d}.jsonl").write_text(text, "utf-8")
        written, lines_written, size = written + 1, lines_written + len(lines), size + len(text)

    while (sessions is None or written < sessions) and (events is None or lines_written < events):
        at = FIRST_DAY + timedelta(minutes=rng.randrange(DAYS * 24 * 60))
        write(walk_lines(written, rng, at, rng.choice(TREES), rng.choice(OUTCOMES)))
    last_day = FIRST_DAY + timedelta(days=DAYS - 1)
    for _ in range(spike):
        at = last_day + timedelta(minutes=rng.randrange(10 * 60))
        write(walk_lines(written, rng, at, SPIKE["tree"], "escalated",
                         (SPIKE["team"], "P3", SPIKE["reason"]), SPIKE["asset_tag"]))
    return written, lines_written, size


def load_database(folder: Path, url: str) -> None:
    """The records of `folder` as rows of the session database at `url`, in bulk."""
    from kbengine.walk.database import EVENTS, SESSIONS, open_engine
    from kbengine.walk.store import moment_of

    engine = open_engine(url)
    sessions: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []

    def flush() -> None:
        with engine.begin() as connection:
            if sessions:
                connection.execute(SESSIONS.insert(), sessions)
            if events:
                connection.execute(EVENTS.insert(), events)
        sessions.clear()
        events.clear()

    for path in sorted(folder.glob("*.jsonl")):
        lines = path.read_text("utf-8").splitlines()
        parsed = [json.loads(line) for line in lines]
        start = parsed[0]
        last = moment_of(parsed[-1]["at"]).astimezone(UTC).replace(tzinfo=None)
        sessions.append({"id": path.stem, "tree": start["tree"], "ticket": start["ticket"],
                         "agent": start["agent"], "started": start["at"], "last_utc": last})
        events.extend({"session_id": path.stem, "seq": seq, "event": data["event"], "at": data["at"],
                       "data": line} for seq, (line, data) in enumerate(zip(lines, parsed, strict=True)))
        if len(events) > 20_000:
            flush()
    flush()
    engine.dispose()


def timed(args: list[str], folder: Path, runs: int) -> tuple[float, float, float]:
    """Median wall seconds, median CPU seconds and peak memory (MB) of `kb report ARGS`.

    CPU time is given too because the machine is shared: wall time waits for other jobs."""
    env = {**os.environ, "KB_SESSIONS": str(folder)}  # --database in `args` wins
    times, cpu, peaks = [], [], []
    for _ in range(runs):
        started = time.perf_counter()
        process = subprocess.Popen(["kb", "report", *args], env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        times.append(time.perf_counter() - started)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"kb report {' '.join(args)} failed")
        cpu.append(usage.ru_utime + usage.ru_stime)
        peaks.append(usage.ru_maxrss / 1024)
    return statistics.median(times), statistics.median(cpu), max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int)
    parser.add_argument("--events", type=int)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", type=Path, help="only write the records into this folder")
    parser.add_argument("--records", type=Path, help="time over the records already in this folder")
    parser.add_argument("--database", help="sqlite, postgresql or a URL: time kb report over a database")
    options = parser.parse_args()
    sessions = options.sessions if options.sessions or options.events else 10_000
    if options.write:
        options.write.mkdir(parents=True, exist_ok=True)
        count, events, size = write_records(options.write, sessions, options.events)
        print(f"{count:,} records, {events:,} events, {size / 1e6:.1f} MB in {options.write}")
        return
    with tempfile.TemporaryDirectory() as temp:
        folder = options.records or Path(temp)
        if not options.records:
            count, events, size = write_records(folder, sessions, options.events)
            print(f"{count:,} records, {events:,} events, {size / 1e6:.1f} MB")
        if options.database:
            from bench_server import database_url

            with database_url(options.database, Path(temp)) as url:
                started = time.perf_counter()
                load_database(folder, url)
                print(f"loaded into {options.database} in {time.perf_counter() - started:.0f} s")
                report(["--database", url], folder, options.runs)
        else:
            report([], folder, options.runs)


def report(base: list[str], folder: Path, runs: int) -> None:
    for args in ([], ["--json"], ["--by", "day", "--format", "csv"]):
        seconds, cpu, peak = timed([*base, *args], folder, runs)
        print(f"kb report {' '.join(args):<24} median of {runs}: {seconds:.2f} s "
              f"(CPU {cpu:.2f} s), peak {peak:.0f} MB")


if __name__ == "__main__":
    main()
