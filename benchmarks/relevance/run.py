"""Relevance benchmark: kbengine beside plain Whoosh BM25F and SQLite FTS5 on real content.

    python benchmarks/relevance/run.py                 # the held-back half (what the docs report)
    python benchmarks/relevance/run.py --half tune     # the half ranking changes may be tuned on
    python benchmarks/relevance/run.py --half all --misses

English: the questions in questions-en.tsv over ../shared/corpus/officedocs-support (2,448
Microsoft support articles, CC BY 4.0). Dutch: questions-nl.tsv over LibreOffice's Dutch help
(libreoffice-help-nl, MPL-2.0), imported by import_libreoffice.py. Each question goes to one half
by a fixed hash of its text; only the tune half may be looked at while changing the ranking.

All three engines index the same documents: title, summary (the corpus's `description`) and the
plain body. Plain Whoosh: BM25F over title x3, summary x2, body, with whoosh's stemming analyser
(English) or its Dutch language analyser. FTS5: bm25 with the same weights, the porter tokenizer
(English) or unicode61 without diacritics (Dutch: FTS5 has no Dutch stemmer). Each question is
asked as typed; a query of words is an OR of the words for the baselines.

Figures: top-1 and top-5 (share of questions with an expected document first / in the first
five), MRR@10 and nDCG@10 (binary relevance). KB_CORPUS names another corpus folder. The work
folder (--work) keeps the copied corpus, the imported help and the indexes between runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

from import_libreoffice import IMPORT_MARK, import_help, unpack_package  # noqa: E402

from kbengine.compiler import compile_kb  # noqa: E402
from kbengine.kb import KnowledgeBase  # noqa: E402
from kbengine.search import search  # noqa: E402
from kbengine.search.documents import plain_text  # noqa: E402

CORPUS = Path(os.environ.get("KB_CORPUS") or REPO.parent / "shared" / "corpus" / "officedocs-support")
DEPTH = 10
Ranker = Callable[[str], list[str]]  # question -> document paths, best first


@dataclass(frozen=True)
class Question:
    text: str
    expected: frozenset[str]  # document paths relative to the KB root

    @property
    def half(self) -> str:
        """'tune' or 'held', fixed by the question's text alone."""
        return "tune" if hashlib.sha256(self.text.encode()).digest()[0] % 2 == 0 else "held"


def read_questions(path: Path, prefix: str = "articles/") -> list[Question]:
    questions = []
    for line in path.read_text("utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, _, expected = line.partition("\t")
        questions.append(Question(text.strip(), frozenset(prefix + p.strip() for p in expected.split(";"))))
    return questions


# --- the KBs ------------------------------------------------------------------------------

def english_kb(work: Path) -> Path:
    root = work / "en"
    if not (root / "kb.yaml").is_file():
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(CORPUS, root / "articles")
        (root / "kb.yaml").write_text("title: Office support corpus\nlanguages: [en]\n", "utf-8")
    return root


def dutch_kb(work: Path, help_dir: Path | None) -> Path:
    root = work / "nl"
    config = root / "kb.yaml"
    if not config.is_file() or IMPORT_MARK not in config.read_text("utf-8"):
        shutil.rmtree(root, ignore_errors=True)  # (an older import: the baselines' indexes go too)
        shutil.rmtree(work / "whoosh-nl", ignore_errors=True)
        (work / "fts5-nl.sqlite").unlink(missing_ok=True)
        if help_dir is None:
            unpacked = work / "libreoffice-help-nl"
            unpacked.mkdir(exist_ok=True)
            help_dir = unpack_package(unpacked)
        import_help(help_dir, root)
    return root


# --- the engines --------------------------------------------------------------------------

def kbengine_ranker(kb: KnowledgeBase) -> Ranker:
    def rank(question: str) -> list[str]:
        return [hit.path for hit in search(kb, question, kind="article", limit=DEPTH).hits]
    return rank


def _rows(kb: KnowledgeBase) -> list[tuple[str, str, str, str]]:
    """(path, title, summary, body) of each article: an article's tags (the Dutch help's index
    keywords) go with its summary, so every engine has the same words."""
    return [(a.path, a.title, " ".join([a.summary, *a.tags]).strip(), plain_text(a.body))
            for a in kb.articles.values()]


_WORD = re.compile(r"\w+", re.UNICODE)


def whoosh_ranker(kb: KnowledgeBase, lang: str, folder: Path) -> Ranker:
    from whoosh import fields, qparser
    from whoosh.analysis import LanguageAnalyzer, StemmingAnalyzer
    from whoosh.index import create_in, exists_in, open_dir

    if not exists_in(str(folder)):
        analyzer = StemmingAnalyzer() if lang == "en" else LanguageAnalyzer(lang)
        schema = fields.Schema(path=fields.ID(stored=True, unique=True),
                               title=fields.TEXT(analyzer=analyzer),
                               summary=fields.TEXT(analyzer=analyzer),
                               body=fields.TEXT(analyzer=analyzer))
        folder.mkdir(parents=True, exist_ok=True)
        writer = create_in(str(folder), schema).writer(limitmb=256)
        for path, title, summary, body in _rows(kb):
            writer.add_document(path=path, title=title, summary=summary, body=body)
        writer.commit()
    index = open_dir(str(folder))
    parser = qparser.MultifieldParser(["title", "summary", "body"], index.schema,
                                      fieldboosts={"title": 3.0, "summary": 2.0, "body": 1.0},
                                      group=qparser.OrGroup)
    searcher = index.searcher()

    def rank(question: str) -> list[str]:
        words = " ".join(_WORD.findall(question))
        return [hit["path"] for hit in searcher.search(parser.parse(words), limit=DEPTH)]
    return rank


def fts5_ranker(kb: KnowledgeBase, lang: str, path: Path) -> Ranker:
    fresh = not path.is_file()
    db = sqlite3.connect(path)
    if fresh:
        tokenizer = "porter" if lang == "en" else "unicode61 remove_diacritics 2"
        db.execute(f"CREATE VIRTUAL TABLE docs USING fts5(path UNINDEXED, title, summary, body, "
                   f"tokenize='{tokenizer}')")
        db.executemany("INSERT INTO docs VALUES (?, ?, ?, ?)", _rows(kb))
        db.commit()

    def rank(question: str) -> list[str]:
        words = " OR ".join(f'"{word}"' for word in _WORD.findall(question))
        if not words:
            return []
        rows = db.execute("SELECT path FROM docs WHERE docs MATCH ? ORDER BY bm25(docs, 0, 3.0, 2.0, 1.0) "
                          "LIMIT ?", (words, DEPTH)).fetchall()
        return [row[0] for row in rows]
    return rank


# --- the figures --------------------------------------------------------------------------

@dataclass
class Figures:
    top1: float
    top5: float
    mrr: float
    ndcg: float


def measure(rank: Ranker, questions: list[Question]) -> tuple[Figures, list[tuple[Question, list[str]]]]:
    top1 = top5 = mrr = ndcg = 0.0
    misses = []
    for question in questions:
        found = rank(question.text)[:DEPTH]
        hits = [path in question.expected for path in found]
        first = hits.index(True) + 1 if True in hits else None
        top1 += first == 1
        top5 += first is not None and first <= 5
        mrr += 1 / first if first else 0.0
        dcg = sum(1 / math.log2(position + 2) for position, hit in enumerate(hits) if hit)
        ideal = sum(1 / math.log2(position + 2) for position in range(min(len(question.expected), DEPTH)))
        ndcg += dcg / ideal
        if first is None or first > 1:
            misses.append((question, found))
    count = max(1, len(questions))
    return Figures(top1 / count, top5 / count, mrr / count, ndcg / count), misses


def print_misses(lang: str, misses: list[tuple[Question, list[str]]]) -> None:
    for question, found in misses:
        print(f"  [{lang}] {question.text!r}: want {sorted(question.expected)[0]}, got {found[:3]}",
              file=sys.stderr)


def print_report(half: str, report: dict[str, dict[str, dict[str, float]]], *, as_json: bool) -> None:
    """The figures by language and engine, as a table or as JSON."""
    if as_json:
        print(json.dumps(report, indent=2))
        return
    print(f"half: {half}")
    print(f"{'lang':<5}{'engine':<10}{'n':>5}{'top-1':>8}{'top-5':>8}{'MRR@10':>9}{'nDCG@10':>9}{'ms/q':>8}")
    for lang, engines_figures in report.items():
        for engine, f in engines_figures.items():
            print(f"{lang:<5}{engine:<10}{f['questions']:>5.0f}{f['top1']:>8.3f}{f['top5']:>8.3f}"
                  f"{f['mrr10']:>9.3f}{f['ndcg10']:>9.3f}{f['ms_per_question']:>8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=("tune", "held", "all"), default="held")
    parser.add_argument("--lang", choices=("en", "nl", "all"), default="all")
    parser.add_argument("--engines", default="kbengine,whoosh,fts5",
                        help="comma-separated: kbengine, whoosh, fts5")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "kbengine-relevance",
                        help="folder kept between runs (copied corpus, imported help, indexes)")
    parser.add_argument("--help-dir", type=Path, help="an unpacked libreoffice-help-nl text/ folder")
    parser.add_argument("--misses", action="store_true", help="list kbengine's questions not ranked first")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    arguments = parser.parse_args()
    if arguments.misses and arguments.half == "held":
        parser.error("--misses shows questions: only for --half tune (never tune on the held-back half)")
    arguments.work.mkdir(parents=True, exist_ok=True)
    work: Path = arguments.work
    engines = [name.strip() for name in arguments.engines.split(",") if name.strip()]
    report: dict[str, dict[str, dict[str, float]]] = {}
    for lang in ("en", "nl") if arguments.lang == "all" else (arguments.lang,):
        if lang == "en" and not CORPUS.is_dir():
            print(f"skipping English: the corpus is missing ({CORPUS})", file=sys.stderr)
            continue
        root = english_kb(arguments.work) if lang == "en" else dutch_kb(arguments.work, arguments.help_dir)
        questions = [q for q in read_questions(HERE / f"questions-{lang}.tsv")
                     if arguments.half in ("all", q.half)]
        kb = compile_kb(root)
        missing = sorted(p for q in questions for p in q.expected if not any(
            a.path == p for a in kb.articles.values()))
        if missing:
            raise SystemExit(f"{lang}: expected documents not in the KB: {', '.join(missing[:5])}")
        rankers = {"kbengine": lambda kb=kb: kbengine_ranker(kb),
                   "whoosh": lambda kb=kb, lang=lang: whoosh_ranker(kb, lang, work / f"whoosh-{lang}"),
                   "fts5": lambda kb=kb, lang=lang: fts5_ranker(kb, lang, work / f"fts5-{lang}.sqlite")}
        report[lang] = {}
        for engine in engines:
            rank = rankers[engine]()
            rank(questions[0].text)  # builds or opens the index before the clock starts
            started = time.perf_counter()
            figures, misses = measure(rank, questions)
            elapsed = time.perf_counter() - started
            report[lang][engine] = {"questions": len(questions), "top1": figures.top1, "top5": figures.top5,
                                    "mrr10": figures.mrr, "ndcg10": figures.ndcg,
                                    "ms_per_question": 1000 * elapsed / max(1, len(questions))}
            if arguments.misses and engine == "kbengine":
                print_misses(lang, misses)
    print_report(arguments.half, report, as_json=arguments.json)


if __name__ == "__main__":
    main()
