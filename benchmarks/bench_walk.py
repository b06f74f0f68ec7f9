"""How fast `kb walk` feels: command start to first step, and key press to next step (pexpect).

    python benchmarks/bench_walk.py [--runs 7] [--keys 30] [--articles 10000]

Runs on a copy of the bundled KB and on a synthetic KB (benchmarks/generate.py), each
compiled once beforehand (an agent's KB is compiled; the cache in .kb/ is warm). Every
figure is a median; the targets are 0.5 s to the first step and 50 ms per key.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pexpect

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

from generate import generate  # noqa: E402

from kbengine.compiler import compile_kb  # noqa: E402


def spawn(root: Path, sessions: Path, tree: str) -> pexpect.spawn:
    env = {**os.environ, "KB_SESSIONS": str(sessions)}
    child = pexpect.spawn("kb", ["walk", "--root", str(root), tree], env=env, encoding="utf-8",
                          dimensions=(60, 200), timeout=30)
    child.delaybeforesend = None
    return child


def first_step(root: Path, sessions: Path, tree: str, prompt: str, runs: int) -> list[float]:
    """Seconds from starting `kb walk TREE` to its first step on the screen."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        child = spawn(root, sessions, tree)
        child.expect(re.escape(prompt[:40]))
        times.append(time.perf_counter() - started)
        child.send("q")
        child.expect(pexpect.EOF)
        child.close()
    return times


def key_to_step(root: Path, sessions: Path, tree: str, first: str, second: str, key: str,
                presses: int) -> list[float]:
    """Seconds from a key press to the next step on the screen: `key` forward, then b back."""
    child = spawn(root, sessions, tree)
    child.expect(re.escape(first[:40]))
    child.expect("q quit")
    times = []
    for number in range(presses):
        press, prompt = (key, second) if number % 2 == 0 else ("b", first)
        started = time.perf_counter()
        child.send(press)
        child.expect(re.escape(prompt[:40]))
        child.expect("q quit")  # the whole screen, footer included
        times.append(time.perf_counter() - started)
    child.send("q")
    child.expect(pexpect.EOF)
    child.close()
    return times


def measure(name: str, root: Path, tree: str, key: str, runs: int, presses: int) -> dict[str, float]:
    kb = compile_kb(root)
    walked = kb.trees[tree]
    start = walked.nodes[walked.start]
    second = walked.nodes[next(a.next for a in start.answers if a.label == key_label(start, key))]
    with tempfile.TemporaryDirectory() as sessions:
        folder = Path(sessions)
        first_step(root, folder, tree, start.prompt, 1)  # warm the OS file cache
        starts = first_step(root, folder, tree, start.prompt, runs)
        keys = key_to_step(root, folder, tree, start.prompt, second.prompt, key, presses)
    result = {"start_median": statistics.median(starts), "start_max": max(starts),
              "key_median": statistics.median(keys), "key_p90": sorted(keys)[int(len(keys) * 0.9) - 1]}
    print(f"{name}: {len(kb.articles)} articles, {len(kb.trees)} trees; tree {tree}")
    print(f"  start to first step: median {result['start_median'] * 1000:.0f} ms "
          f"(max {result['start_max'] * 1000:.0f} ms, {runs} runs)")
    print(f"  key press to next step: median {result['key_median'] * 1000:.1f} ms "
          f"(p90 {result['key_p90'] * 1000:.1f} ms, {presses} presses)")
    return result


def key_label(node: object, key: str) -> str:
    return node.answers[int(key) - 1].label  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="starts to time per KB")
    parser.add_argument("--keys", type=int, default=30, help="key presses to time per KB")
    parser.add_argument("--articles", type=int, default=10000, help="size of the synthetic KB")
    parser.add_argument("--trees", type=int, default=200)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        bundled = Path(work) / "bundled"
        bundled.mkdir()
        shutil.copy2(REPO / "kb.yaml", bundled / "kb.yaml")
        for folder in ("articles", "trees"):
            shutil.copytree(REPO / folder, bundled / folder)
        measure("bundled KB", bundled, "printer-not-printing", "1", options.runs, options.keys)
        synthetic = generate(Path(work) / "synthetic", options.articles, options.trees, seed=1)
        measure("synthetic KB", synthetic, "tree-0", "2", options.runs, options.keys)


if __name__ == "__main__":
    main()
