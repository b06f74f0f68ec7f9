"""How fast the help site builds and how much a reader downloads, beside MkDocs.

    python benchmarks/bench_site.py [--runs 3] [--corpus-runs 3] [--no-corpus] [--mkdocs PATH]

Builds the bundled KB and the shared corpus (copied into a temporary KB as articles/) with
`kb build` (everything: pages, assets, sitemap, Pagefind index) and with `mkdocs build`
(mkdocs-material with navigation.prune, its built-in search index, docs_dir on the same
article files), each a whole command run, medians of several runs side by side. Then the
bytes of an article page with its CSS and JS, and the bytes a browser fetches for one
search (Playwright's network events, on the site served on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "officedocs-support"
sys.path.insert(0, str(REPO))

from kbengine.compiler import compile_kb  # noqa: E402
from kbengine.site.server import make_server, serve_in_thread  # noqa: E402
from tests.conftest import copy_bundled  # noqa: E402

MKDOCS_YML = """\
site_name: {name}
docs_dir: {docs}
site_dir: {out}
theme:
  name: material
  features: [navigation.prune]
"""


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def _edit(root: Path, run: int) -> None:
    """Change one article's body, a different line each run (as a writer saving a file)."""
    article = sorted((root / "articles").rglob("*.md"))[run * 7 % 50]
    with article.open("a", encoding="utf-8") as handle:
        handle.write(f"\nEdited for run {run}.\n")


def compare(name: str, root: Path, work: Path, runs: int, mkdocs: str) -> dict[str, object]:
    """Median seconds, run alternately as whole commands on the same articles: a cold `kb build`
    (no site yet), a no-op `kb build`, `kb build` after one article changed, and `mkdocs build`
    followed by Pagefind on MkDocs' site (MkDocs' own search index is left as it is)."""
    compile_kb(root)  # both tools then start from the files; kb's parse cache is warm, as in use
    (work / "mkdocs.yml").write_text(MKDOCS_YML.format(name=name, docs=root / "articles", out=work / "mk"))
    pagefind = [sys.executable, "-m", "pagefind", "--site", str(work / "mk"), "--silent"]
    kb = [str(Path(sys.executable).parent / "kb"), "build", "--root", str(root)]
    times: dict[str, list[float]] = {"cold": [], "no-op": [], "one edit": [], "mkdocs": []}
    for run in range(runs):
        shutil.rmtree(root / "site", ignore_errors=True)
        times["cold"].append(timed(kb, root))
        times["no-op"].append(timed(kb, root))
        _edit(root, run)
        times["one edit"].append(timed(kb, root))
        times["mkdocs"].append(timed([mkdocs, "build", "-q", "-f", str(work / "mkdocs.yml")], work)
                               + timed(pagefind, work))
    summary = json.loads(subprocess.run([*kb, "--json"], check=True, capture_output=True,
                                        text=True).stdout)
    medians = {how: statistics.median(values) for how, values in times.items()}
    return {"name": name, "articles": len(list((root / "articles").rglob("*.md"))),
            "kb_pages": summary["pages"], "medians": medians, "runs": times}


def page_weight(site: Path, article: str) -> dict[str, int]:
    """Bytes of one article page plus the CSS and JS it loads (search assets load on demand)."""
    files = [site / "en" / "articles" / article / "index.html", site / "assets" / "site.css",
             site / "assets" / "site.js"]
    raw = sum(f.stat().st_size for f in files)
    packed = sum(len(gzip.compress(f.read_bytes())) for f in files)
    return {"raw": raw, "gzip": packed}


def search_bytes(site: Path, start: str, query: str) -> dict[str, int]:
    """Bytes fetched from pagefind/ for one query: from the header box, and on the search page."""
    from playwright.sync_api import sync_playwright

    server = make_server(site, "/", port=0)
    serve_in_thread(server)
    base = "http://{}:{}/".format(*server.server_address[:2])
    result = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        for how, url, box in (("header box", start, "#q"),
                              ("search page", "en/search/", ".pagefind-ui__search-input")):
            page = browser.new_context().new_page()
            fetched: list[int] = []
            page.on("response", lambda r, fetched=fetched: fetched.append(len(r.body()))
                    if "/pagefind/" in r.url and r.ok else None)
            page.goto(base + url)
            page.wait_for_load_state("networkidle")
            page.locator(box).fill(query)
            page.locator("#q-results a, .pagefind-ui__result-link").first.wait_for(timeout=15_000)
            page.wait_for_load_state("networkidle")
            time.sleep(0.5)
            result[how] = sum(fetched)
            page.context.close()
        browser.close()
    server.shutdown()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs on the bundled KB")
    parser.add_argument("--corpus-runs", type=int, default=3, help="runs on the corpus")
    parser.add_argument("--no-corpus", action="store_true")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="officedocs-support folder")
    parser.add_argument("--mkdocs", default="mkdocs",
                        help="the mkdocs command (mkdocs-material installed beside it)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        bundled = copy_bundled(work / "bundled")
        rows = [compare("bundled KB", bundled, work, options.runs, options.mkdocs)]
        weight = page_weight(bundled / "site", "connect-vpn")
        searches = {"bundled KB": search_bytes(bundled / "site", "en/articles/connect-vpn/", "printer")}
        if not options.no_corpus and options.corpus.is_dir():
            corpus = work / "corpus"
            corpus.mkdir()
            shutil.copytree(options.corpus, corpus / "articles")
            (corpus / "kb.yaml").write_text("title: Office support\nlanguages: [en]\n")
            rows.append(compare("corpus", corpus, work, options.corpus_runs, options.mkdocs))
            first = sorted((corpus / "site" / "en" / "articles").iterdir())[0].name
            searches["corpus"] = search_bytes(corpus / "site", f"en/articles/{first}/", "outlook")
    print(json.dumps({"builds": rows, "article_page": weight, "search": searches}, indent=2))
    print()
    print("| KB | articles | kb pages | cold kb build | no-op | one article edited | "
          "mkdocs-material + Pagefind | cold / MkDocs | edit / cold |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        m = row["medians"]
        assert isinstance(m, dict)
        print(f"| {row['name']} | {row['articles']} | {row['kb_pages']} | {m['cold']:.2f} s | "
              f"{m['no-op']:.2f} s | {m['one edit']:.2f} s | {m['mkdocs']:.2f} s | "
              f"{m['cold'] / m['mkdocs']:.2f} | {m['one edit'] / m['cold']:.2f} |")
    print(f"\nArticle page with CSS and JS: {weight['raw'] / 1024:.1f} KiB "
          f"({weight['gzip'] / 1024:.1f} KiB gzipped)")
    for name, fetched in searches.items():
        for how, size in fetched.items():
            print(f"One search, {name}, {how}: {size / 1024:.0f} KiB fetched")


if __name__ == "__main__":
    main()
