"""The help site's search (Pagefind, in the browser) beside kbengine's, on the relevance benchmark.

    python benchmarks/relevance/pagefind.py                 # the held-back half (what the docs report)
    python benchmarks/relevance/pagefind.py --half tune     # the half the site's weights may be tuned on
    python benchmarks/relevance/pagefind.py --half tune --misses

Builds the help site of the English corpus KB and of the Dutch help KB (as `kb build` does; an
unchanged site is left as it is) into the work folder, serves each on 127.0.0.1 and, in headless
chromium (Playwright, /usr/bin/chromium), asks every benchmark question whose expected article is
on the public site two ways: "site", the help site's own search (site.js's kbSearch: Pagefind asked
word by word, as the search box and the search page do) and "pagefind", Pagefind's JS API asked the
whole question (what its default UI does). Result URLs are mapped back to article paths; the
figures (top-1, top-5, MRR@10, nDCG@10) are shown beside kbengine's own for the same questions. The Dutch
KB is copied from run.py's work folder (never written there), or imported as run.py does.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.relevance.run import (  # noqa: E402
    CORPUS,
    DEPTH,
    Figures,
    Question,
    dutch_kb,
    english_kb,
    kbengine_ranker,
    measure,
    print_misses,
    print_report,
    read_questions,
)
from kbengine.compiler import compile_kb  # noqa: E402
from kbengine.kb import KnowledgeBase  # noqa: E402
from kbengine.site import build_site  # noqa: E402
from kbengine.site.pages import plan_site  # noqa: E402
from kbengine.site.server import make_server, serve_in_thread  # noqa: E402

CHROMIUM = Path(os.environ.get("KB_CHROMIUM") or "/usr/bin/chromium")
RELEVANCE_WORK = Path(tempfile.gettempdir()) / "kbengine-relevance"  # run.py's work folder

# Asks each question in turn, in the page's language; the URLs of the first results. "site" is the
# help site's own search (window.kbSearch of site.js: Pagefind asked word by word); "pagefind" is
# Pagefind's JS API asked the whole question, as its default UI does.
_ASK = """async ([questions, depth, engine]) => {
  const pf = await import(document.body.dataset.base + 'pagefind/pagefind.js');
  const answers = [];
  for (const question of questions) {
    if (engine === 'site') {
      answers.push((await window.kbSearch(question, depth)).map((d) => d.url));
      continue;
    }
    const found = await pf.search(question);
    const data = await Promise.all(found.results.slice(0, depth).map((r) => r.data()));
    answers.push(data.map((d) => d.url));
  }
  return answers;
}"""
ENGINES = ("site", "pagefind")


def ask_site(page: Any, questions: Sequence[str], engine: str = "site",
             depth: int = DEPTH) -> list[list[str]]:
    """The result URLs, best first, for each question; `page` is a Playwright page already on a
    page of the site in the questions' language (Pagefind picks its index by `<html lang>`)."""
    page.wait_for_function("typeof window.kbSearch === 'function'")
    answers: list[list[str]] = page.evaluate(_ASK, [list(questions), depth, engine])
    return answers


def public_article_urls(kb: KnowledgeBase) -> dict[str, str]:
    """URL on the site -> article path, for every article on the public site."""
    plan = plan_site(kb)
    return {plan.urls.article(a.lang, a.id): a.path for a in plan.articles.values()}


@contextmanager
def serving(site: Path, base: str = "/") -> Iterator[str]:
    """The built site served on a free port of 127.0.0.1; yields its URL."""
    server = make_server(site, base, port=0)
    serve_in_thread(server)
    host, port = server.server_address[:2]
    try:
        yield f"http://{host}:{port}{base}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Language:
    lang: str
    kb: KnowledgeBase
    site: Path
    questions: list[Question]  # only those whose expected article is public on the site
    urls: dict[str, str]  # site URL -> article path


def prepare(lang: str, root: Path, half: str) -> Language:
    kb = compile_kb(root)
    urls = public_article_urls(kb)
    public = set(urls.values())
    questions = [q for q in read_questions(HERE / f"questions-{lang}.tsv")
                 if half in ("all", q.half) and q.expected & public]
    site = root / "site"
    summary = build_site(kb, site)
    print(f"{lang}: site built in {summary.seconds:.1f} s", file=sys.stderr)
    return Language(lang, kb, site, questions, urls)


def figures_of(figures: Figures, questions: int, elapsed: float) -> dict[str, float]:
    return {"questions": questions, "top1": figures.top1, "top5": figures.top5, "mrr10": figures.mrr,
            "ndcg10": figures.ndcg, "ms_per_question": 1000 * elapsed / max(1, questions)}


def site_figures(browser: Any, language: Language, engine: str) -> tuple[dict[str, float], list[Any]]:
    with serving(language.site) as url:
        page = browser.new_page()
        page.goto(f"{url}{language.lang}/")
        started = time.perf_counter()
        answers = ask_site(page, [q.text for q in language.questions], engine)
        elapsed = time.perf_counter() - started
        page.close()
    found = {question.text: [language.urls.get(url, url) for url in links]
             for question, links in zip(language.questions, answers, strict=True)}
    figures, misses = measure(lambda text: found[text], language.questions)
    return figures_of(figures, len(language.questions), elapsed), misses


def kbengine_figures(language: Language) -> dict[str, float]:
    rank = kbengine_ranker(language.kb)
    rank(language.questions[0].text)  # opens (or builds) the index before the clock starts
    started = time.perf_counter()
    figures, _ = measure(rank, language.questions)
    return figures_of(figures, len(language.questions), time.perf_counter() - started)


def copy_dutch(work: Path, help_dir: Path | None) -> Path:
    """The Dutch help KB: imported from `help_dir`, else a copy of run.py's import (never written
    there), else imported from the package as run.py does."""
    root = work / "nl"
    source = RELEVANCE_WORK / "nl"
    if help_dir is None and not (root / "kb.yaml").is_file() and (source / "kb.yaml").is_file():
        shutil.copytree(source, root, ignore=shutil.ignore_patterns(".kb", "site"))
    return dutch_kb(work, help_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=("tune", "held", "all"), default="held")
    parser.add_argument("--lang", choices=("en", "nl", "all"), default="all")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "kbengine-pagefind",
                        help="folder kept between runs (the KBs and their built sites)")
    parser.add_argument("--help-dir", type=Path, help="an unpacked libreoffice-help-nl text/ folder")
    parser.add_argument("--misses", action="store_true",
                        help="list the site search's questions not ranked first")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    arguments = parser.parse_args()
    if arguments.misses and arguments.half == "held":
        parser.error("--misses shows questions: only for --half tune (never tune on the held-back half)")
    work: Path = arguments.work
    work.mkdir(parents=True, exist_ok=True)
    report: dict[str, dict[str, dict[str, float]]] = {}
    with chromium() as browser:
        for lang in ("en", "nl") if arguments.lang == "all" else (arguments.lang,):
            if lang == "en" and not CORPUS.is_dir() and not (work / "en" / "kb.yaml").is_file():
                print(f"skipping English: the corpus is missing ({CORPUS})", file=sys.stderr)
                continue
            root = english_kb(work) if lang == "en" else copy_dutch(work, arguments.help_dir)
            language = prepare(lang, root, arguments.half)
            report[lang] = {}
            misses = {}
            for engine in ENGINES:
                report[lang][engine], misses[engine] = site_figures(browser, language, engine)
            report[lang]["kbengine"] = kbengine_figures(language)
            if arguments.misses:
                print_misses(lang, misses["site"])
    print_report(arguments.half, report, as_json=arguments.json)

if __name__ == "__main__":
    main()
