"""Time `compile + check` cold (no .kb/), warm (cached) and with one article edited, on synthetic
KBs and on the DocFX corpus; print a Markdown table of medians and peak memory.

    python benchmarks/bench_compile.py                 # 1,000 and 10,000 articles + the corpus
    python benchmarks/bench_compile.py --sizes 1000 --runs 5 --no-corpus

Every run is a fresh Python process, so the peak memory (ru_maxrss) is that run's alone and no
module cache from an earlier run helps a later one. The runs import a snapshot of kbengine/: the
cache in .kb/ is keyed by the code's version, so edits to the working tree during a benchmark
would otherwise turn warm runs cold.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import generate  # noqa: E402

CORPUS = HERE.parent.parent / "shared" / "corpus" / "officedocs-support"

# Runs in the child: what `kb check` does, minus printing to a terminal.
CHILD = """
import json, resource, sys, time
from pathlib import Path
started = time.perf_counter()
from kbengine.compiler import compile_outline
from kbengine.cli.output import format_text
from kbengine.services.check import check_report
report = check_report(compile_outline(Path(sys.argv[1])))
text = format_text(report.diagnostics, report.files)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "articles": report.articles, "trees": report.trees, "errors": report.errors,
                  "warnings": report.warnings}))
"""


def run_once(root: Path, code: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(code)}
    done = subprocess.run([sys.executable, "-c", CHILD, str(root)], capture_output=True, text=True,
                          check=True, env=env)
    return json.loads(done.stdout)


def edit_one_article(root: Path, run: int) -> None:
    article = next((root / "articles").rglob("*.md"))
    with article.open("a", encoding="utf-8") as handle:
        handle.write(f"\nEdited in benchmark run {run}.\n")
    stat = article.stat()  # a new mtime even on a coarse file-system clock
    os.utime(article, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000 * (run + 1)))


def measure(root: Path, code: Path, runs: int) -> dict[str, list[dict[str, float]]]:
    results: dict[str, list[dict[str, float]]] = {"cold": [], "warm": [], "one file edited": []}
    for _ in range(runs):
        shutil.rmtree(root / ".kb", ignore_errors=True)
        results["cold"].append(run_once(root, code))
    for _ in range(runs):
        results["warm"].append(run_once(root, code))
    for run in range(runs):
        edit_one_article(root, run)
        results["one file edited"].append(run_once(root, code))
    return results


def summarise(name: str, results: dict[str, list[dict[str, float]]]) -> list[str]:
    rows = []
    for mode, samples in results.items():
        seconds = [s["seconds"] for s in samples]
        peak = max(s["peak_mb"] for s in samples)
        first = samples[0]
        rows.append(f"| {name} | {int(first['articles']):,} / {int(first['trees'])} | {mode} | "
                    f"{statistics.median(seconds):.2f} s | {min(seconds):.2f}-{max(seconds):.2f} s | "
                    f"{peak:.0f} MB | {int(first['errors'])} / {int(first['warnings'])} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-corpus", action="store_true")
    args = parser.parse_args()
    lines = ["| KB | articles / trees | compile + check | median | range | peak memory | errors / warnings |",
             "|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="kb-bench-") as scratch:
        code = Path(scratch) / "code"
        shutil.copytree(HERE.parent / "kbengine", code / "kbengine",
                        ignore=shutil.ignore_patterns("__pycache__"))
        for size in args.sizes:
            root = generate(Path(scratch) / f"synthetic-{size}", size, max(10, size // 50), seed=1)
            started = time.perf_counter()
            lines += summarise(f"synthetic {size:,}", measure(root, code, args.runs))
            print(f"synthetic {size}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
        if not args.no_corpus:
            root = Path(scratch) / "corpus"
            shutil.copytree(CORPUS, root / "articles")
            lines += summarise("officedocs-support", measure(root, code, args.runs))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
