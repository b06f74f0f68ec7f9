"""Search benchmarks: index build and query latency, kbengine (Whoosh) beside SQLite FTS5 (porter).

    python benchmarks/bench_search.py            # corpus + 10,000 synthetic articles (twice) + kb search
    python benchmarks/bench_search.py --quick    # 2,000 synthetic articles, fewer rounds
    python benchmarks/bench_search.py --build    # full index build on the corpus: wall and CPU, beside FTS5

Both engines index the same documents (title, summary, plain body) and answer the same ~50
queries with their top 10. kbengine's figure is a whole `search` call on an open index:
parsing, ranking, total count, highlighted snippets and "did you mean".

The synthetic KB is generated twice from the same seed: with the basic vocabulary (60 words,
each in nearly every article: a worst case) and with the realistic one (4,000 words by Zipf's
law, see benchmarks/generate.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from generate import generate  # noqa: E402

from kbengine.compiler import compile_kb  # noqa: E402
from kbengine.kb import KnowledgeBase  # noqa: E402
from kbengine.search.documents import plain_text  # noqa: E402
from kbengine.search.store import index_folder, open_index  # noqa: E402

CORPUS = Path(os.environ.get("KB_CORPUS") or REPO.parent / "shared" / "corpus" / "officedocs-support")
QUERIES = [
    "outlook crashes on startup", "outlook keeps asking for password", "cannot open attachment",
    "shared mailbox not showing", "calendar not syncing", "emails stuck in outbox",
    "mailbox full", "out of office reply", "teams meeting no audio", "teams camera not working",
    "cannot share screen in teams", "teams sign in error", "onedrive sync error",
    "onedrive files not uploading", "restore deleted file", "sharepoint access denied",
    "excel formulas not calculating", "excel file is corrupted", "word document won't open",
    "powerpoint crashes when presenting", "office activation failed", "product key not valid",
    "install office 365", "uninstall office", "office update failed", "printer offline",
    "print job stuck in queue", "password reset", "account locked", "multi-factor authentication",
    "new phone authenticator", "vpn not connecting", "wifi keeps disconnecting", "slow computer",
    "laptop battery drains fast", "blue screen error", "bitlocker recovery key",
    "external monitor not detected", "docking station", "license expired", "error code 0x80070005",
    "macro security warning", "add-in disabled", "proxy server settings", "dns resolution fails",
    "certificate error", "sync conflict", "permission denied folder", "browser cache",
    "firewall blocking connection",
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def corpus_kb(work: Path) -> Path:
    root = work / "corpus"
    shutil.copytree(CORPUS, root / "articles")
    (root / "kb.yaml").write_text("title: Office support corpus\nlanguages: [en]\n", "utf-8")
    return root


def bench_kbengine(kb: KnowledgeBase, rounds: int) -> dict[str, float]:
    shutil.rmtree(index_folder(kb.root), ignore_errors=True)
    started = time.perf_counter()
    index, _ = open_index(kb)  # no index yet: a full build
    build = time.perf_counter() - started
    with index.ix.searcher() as searcher:
        documents = searcher.doc_count()
    for query in QUERIES:  # warm-up: caches, first-use imports
        index.search(query)
    times = []
    for _ in range(rounds):
        for query in QUERIES:
            started = time.perf_counter()
            index.search(query, limit=10)
            times.append(time.perf_counter() - started)
    index.close()
    return {"docs": documents, "build_s": build, "docs_per_s": documents / build,
            "p50_ms": percentile(times, 0.5) * 1000, "p95_ms": percentile(times, 0.95) * 1000}


def bench_fts5(kb: KnowledgeBase, work: Path, rounds: int) -> dict[str, float]:
    path = work / "fts5.sqlite"
    path.unlink(missing_ok=True)
    started = time.perf_counter()
    db = sqlite3.connect(path)
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(key UNINDEXED, title, summary, body, "
               "tokenize='porter')")
    rows = [(f"article:{a.id}", a.title, a.summary, plain_text(a.body)) for a in kb.articles.values()]
    rows += [(f"tree:{t.id}", t.title, t.summary, " ".join(t.symptoms)) for t in kb.trees.values()]
    db.executemany("INSERT INTO docs VALUES (?, ?, ?, ?)", rows)
    db.commit()
    build = time.perf_counter() - started

    def run(query: str) -> None:
        words = " OR ".join(f'"{word}"' for word in query.replace('"', " ").split())
        db.execute("SELECT key, bm25(docs, 0, 4.0, 2.0, 1.0) AS rank, "
                   "snippet(docs, 3, '[[', ']]', ' … ', 12) FROM docs WHERE docs MATCH ? "
                   "ORDER BY rank LIMIT 10", (words,)).fetchall()
        db.execute("SELECT count(*) FROM docs WHERE docs MATCH ?", (words,)).fetchone()

    for query in QUERIES:
        run(query)
    times = []
    for _ in range(rounds):
        for query in QUERIES:
            started = time.perf_counter()
            run(query)
            times.append(time.perf_counter() - started)
    db.close()
    return {"docs": len(rows), "build_s": build, "docs_per_s": len(rows) / build,
            "p50_ms": percentile(times, 0.5) * 1000, "p95_ms": percentile(times, 0.95) * 1000}


def bench_whole_process(work: Path, runs: int) -> float:
    """Median wall time of `kb search printer says offline` on the bundled KB (index warm)."""
    root = work / "bundled"
    root.mkdir()
    shutil.copy2(REPO / "kb.yaml", root / "kb.yaml")
    for folder in ("articles", "trees"):
        shutil.copytree(REPO / folder, root / folder)
    command = [shutil.which("kb") or "kb", "search", "--root", str(root), "printer", "says", "offline"]
    subprocess.run(command, capture_output=True, check=False)  # compiles and builds the index
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


_FTS5_PROCESS = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
words = " OR ".join(f'"{word}"' for word in sys.argv[2:])
for row in db.execute("SELECT key, snippet(docs, 3, '[[', ']]', ' … ', 12) FROM docs WHERE docs MATCH ? "
                      "ORDER BY bm25(docs, 0, 4.0, 2.0, 1.0) LIMIT 10", (words,)):
    print(*row)
"""


def bench_corpus_processes(kb: KnowledgeBase, work: Path, runs: int) -> list[tuple[float, float]]:
    """Median (wall, CPU) seconds of a whole `kb search` process on `kb` (nothing changed since the
    last search) and of a minimal Python + SQLite FTS5 process over the same documents. CPU time
    (user + system) is steadier than wall time on a machine shared with other work."""
    query = ["outlook", "keeps", "asking", "for", "password"]
    command = [shutil.which("kb") or "kb", "search", "--root", str(kb.root), *query]
    subprocess.run(command, capture_output=True, check=False)  # compiles, indexes, notes the files
    database = work / "fts5-process.sqlite"
    if not database.exists():
        db = sqlite3.connect(database)
        db.execute("CREATE VIRTUAL TABLE docs USING fts5(key UNINDEXED, title, summary, body, "
                   "tokenize='porter')")
        db.executemany("INSERT INTO docs VALUES (?, ?, ?, ?)",
                       [(f"article:{a.id}", a.title, a.summary, plain_text(a.body))
                        for a in kb.articles.values()])
        db.commit()
        db.close()
    fts5 = [sys.executable, "-c", _FTS5_PROCESS, str(database), *query]
    medians = []
    for argv in (command, fts5):
        times, cpu = [], []
        for _ in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run(argv, capture_output=True, check=False)
            times.append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        medians.append((statistics.median(times), statistics.median(cpu)))
    return medians


_BUILD_PROCESS = """
import json, os, resource, sys, time
from pathlib import Path
from kbengine.compiler import compile_kb
from kbengine.search.store import open_index
kb = compile_kb(Path(sys.argv[1]))  # from the compile cache: only the index is timed
usage = lambda: [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
before, started = usage(), time.perf_counter()
index, update = open_index(kb)
wall = time.perf_counter() - started
after = usage()
cpu = sum(a.ru_utime - b.ru_utime + a.ru_stime - b.ru_stime for a, b in zip(after, before))
print(json.dumps({"rebuilt": update.rebuilt, "documents": index.ix.doc_count(), "wall": wall, "cpu": cpu,
                  "load": os.getloadavg()[0]}))
"""


def bench_build(root: Path, runs: int) -> list[dict[str, float]]:
    """A full index build of the KB at `root`, `runs` times, each in a fresh process (the KB
    compiled from its cache first): wall time, and CPU time of that process and its workers."""
    subprocess.run([sys.executable, "-c", _BUILD_PROCESS, str(root)], capture_output=True, check=True)
    measured = []
    for _ in range(runs):
        shutil.rmtree(index_folder(root), ignore_errors=True)
        done = subprocess.run([sys.executable, "-c", _BUILD_PROCESS, str(root)], capture_output=True,
                              check=True, text=True)
        measured.append(json.loads(done.stdout))
    return measured


def bench_fts5_build(kb: KnowledgeBase, work: Path, runs: int) -> list[dict[str, float]]:
    """SQLite FTS5 (porter) indexing the same texts: wall and CPU time of the inserts and commit."""
    rows = [(f"article:{a.id}", a.title, a.summary, plain_text(a.body)) for a in kb.articles.values()]
    rows += [(f"tree:{t.id}", t.title, t.summary, " ".join(t.symptoms)) for t in kb.trees.values()]
    measured = []
    for _ in range(runs):
        path = work / "fts5-build.sqlite"
        path.unlink(missing_ok=True)
        cpu, started = time.process_time(), time.perf_counter()
        db = sqlite3.connect(path)
        db.execute("CREATE VIRTUAL TABLE docs USING fts5(key UNINDEXED, title, summary, body, "
                   "tokenize='porter')")
        db.executemany("INSERT INTO docs VALUES (?, ?, ?, ?)", rows)
        db.commit()
        db.close()
        measured.append({"documents": len(rows), "wall": time.perf_counter() - started,
                         "cpu": time.process_time() - cpu, "load": os.getloadavg()[0]})
    return measured


def build_line(name: str, measured: list[dict[str, float]]) -> str:
    wall = statistics.median(run["wall"] for run in measured)
    cpu = statistics.median(run["cpu"] for run in measured)
    documents = measured[0]["documents"]
    loads = sorted(run["load"] for run in measured)
    return (f"| {name} | {documents:,} | {wall:.2f} s | {cpu:.2f} s | {documents / wall:,.0f} | "
            f"{documents / cpu:,.0f} | {loads[0]:.1f}-{loads[-1]:.1f} |")


def row(name: str, engine: str, figures: dict[str, float]) -> str:
    return (f"| {name} | {engine} | {figures['docs']:,} | {figures['build_s']:.1f} s | "
            f"{figures['docs_per_s']:,.0f} | {figures['p50_ms']:.1f} ms | {figures['p95_ms']:.1f} ms |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 synthetic articles, fewer rounds")
    parser.add_argument("--processes", action="store_true",
                        help="only the whole-process figures on the corpus: kb search beside FTS5")
    parser.add_argument("--build", action="store_true",
                        help="only the full index build on the corpus (medians of --runs), beside FTS5")
    parser.add_argument("--runs", type=int, default=5, help="runs of --build (default 5)")
    args = parser.parse_args()
    if args.build:
        with tempfile.TemporaryDirectory(prefix="kb-bench-") as folder:
            root = corpus_kb(Path(folder))
            kb = compile_kb(root)
            lines = ["| engine | documents | build wall | build CPU (all processes) | docs/s wall | "
                     "docs per CPU-second | load |", "|---|---:|---:|---:|---:|---:|---:|",
                     build_line("kbengine (Whoosh)", bench_build(root, args.runs)),
                     build_line("SQLite FTS5 porter", bench_fts5_build(kb, Path(folder), args.runs))]
        print(f"Full index build of the corpus, medians of {args.runs} ({os.cpu_count()} cores):\n")
        print("\n".join(lines))
        return
    if args.processes:
        with tempfile.TemporaryDirectory(prefix="kb-bench-") as folder:
            kb = compile_kb(corpus_kb(Path(folder)))
            (whole, whole_cpu), (fts5, fts5_cpu) = bench_corpus_processes(kb, Path(folder), 11)
        print(f"Whole process on the corpus, medians of 11: kb search {whole * 1000:.0f} ms wall, "
              f"{whole_cpu * 1000:.0f} ms CPU; python + FTS5 {fts5 * 1000:.0f} ms wall, "
              f"{fts5_cpu * 1000:.0f} ms CPU (load average {os.getloadavg()[0]:.1f})")
        return
    synthetic_size = 2_000 if args.quick else 10_000
    rounds = 2 if args.quick else 5
    lines = ["| KB | engine | documents | index build | docs/s | query p50 | query p95 |",
             "|---|---|---:|---:|---:|---:|---:|"]
    with tempfile.TemporaryDirectory(prefix="kb-bench-") as folder:
        work = Path(folder)
        kbs = [("officedocs-support corpus", corpus_kb(work))] if CORPUS.is_dir() else []
        for vocabulary, words in (("basic", "60 words"), ("realistic", "4,000 Zipf words")):
            kbs.append((f"synthetic {synthetic_size:,} ({words})",
                        generate(work / f"synthetic-{vocabulary}", synthetic_size, 200, seed=1,
                                 vocabulary=vocabulary)))
        for name, root in kbs:
            kb = compile_kb(root)
            print(f"{name}: {len(kb.articles):,} articles, {len(kb.trees)} trees compiled", file=sys.stderr)
            lines.append(row(name, "kbengine (Whoosh)", bench_kbengine(kb, rounds)))
            lines.append(row(name, "SQLite FTS5 porter", bench_fts5(kb, work, rounds)))
        whole = bench_whole_process(work, 5 if args.quick else 10)
    print(f"Measured {date.today()} on {platform.node() or 'this machine'} ({os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {platform.system()}); {len(QUERIES)} queries x "
          f"{rounds} rounds, top 10.\n")
    print("\n".join(lines))
    print(f"\nWhole-process `kb search printer says offline` on the bundled KB: median of "
          f"{5 if args.quick else 10} runs = {whole * 1000:.0f} ms")


if __name__ == "__main__":
    main()
