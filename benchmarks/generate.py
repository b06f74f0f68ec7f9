"""Seeded generator of synthetic KBs: N articles and M trees in kbengine's formats.

    python benchmarks/generate.py OUT --articles 10000 --trees 200 --seed 1
    python benchmarks/generate.py OUT --articles 10000 --vocabulary realistic

The basic vocabulary is 60 IT words drawn uniformly, so nearly every word is in nearly every
article: a worst case for search. The realistic one draws 4,000 words with Zipf's law, as
written text does: stop words most often, then the 60 IT words, then the words of everyday
support questions, then a long tail of rare (made-up) words.
"""

from __future__ import annotations

import argparse
import itertools
import random
from pathlib import Path

WORDS = [
    "account", "password", "printer", "queue", "network", "wifi", "vpn", "outlook", "mailbox",
    "calendar", "teams", "camera", "microphone", "speaker", "laptop", "monitor", "dock", "update",
    "install", "driver", "firmware", "certificate", "token", "phone", "authenticator", "sync",
    "folder", "share", "drive", "permission", "browser", "cache", "profile", "restart", "screen",
    "keyboard", "mouse", "battery", "charger", "adapter", "cable", "office", "license", "sign",
    "error", "code", "connection", "timeout", "server", "client", "proxy", "dns", "gateway",
    "firewall", "policy", "backup", "restore", "disk",
]
STOP_WORDS = [
    "the", "to", "and", "a", "of", "you", "is", "in", "for", "your", "it", "on", "that", "this",
    "with", "be", "if", "are", "can", "or", "not", "from", "as", "then", "do", "at", "when", "have",
    "by", "an", "will",
]
# Words of everyday support questions that the basic vocabulary lacks.
SUPPORT_WORDS = [
    "crashes", "startup", "asking", "attachment", "open", "shared", "showing", "syncing", "emails",
    "stuck", "outbox", "full", "reply", "meeting", "audio", "working", "screen", "sign", "onedrive",
    "files", "uploading", "deleted", "file", "sharepoint", "access", "denied", "excel", "formulas",
    "calculating", "corrupted", "word", "document", "powerpoint", "presenting", "activation",
    "failed", "product", "key", "valid", "office365", "uninstall", "offline", "print", "job",
    "reset", "locked", "multi", "factor", "authentication", "new", "keeps", "disconnecting", "slow",
    "computer", "drains", "fast", "blue", "bitlocker", "recovery", "external", "detected",
    "docking", "station", "expired", "0x80070005", "macro", "security", "warning", "add",
    "disabled", "settings", "resolution", "fails", "conflict", "sync", "home", "windows", "mac",
    "login", "message", "click", "select", "menu", "button", "tab", "window", "app", "user",
    "admin", "device", "version", "online", "cloud", "team", "site", "link", "email", "send",
    "receive", "contact", "storage", "space", "memory", "install", "restart", "check", "enable",
    "remove", "change", "choose", "save", "copy", "move", "delete", "view",
]
VOCABULARY_SIZE = 4_000
CATEGORIES = ["accounts", "network", "email", "meetings", "printing", "devices", "software", "files"]


def _made_up_words(count: int, known: set[str]) -> list[str]:
    """`count` pronounceable made-up words, the same on every run."""
    rng = random.Random("kbengine-vocabulary")
    syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
    words: list[str] = []
    while len(words) < count:
        word = "".join(rng.choices(syllables, k=rng.randint(2, 4)))
        if word not in known:
            known.add(word)
            words.append(word)
    return words


class Vocabulary:
    """Draws the words of a synthetic text: uniformly from WORDS, or by Zipf's law."""

    def __init__(self, kind: str = "basic") -> None:
        if kind not in ("basic", "realistic"):
            raise ValueError(f"vocabulary is 'basic' or 'realistic', not {kind!r}")
        self.kind = kind
        if kind == "basic":
            self.words, self.topics, self.weights = list(WORDS), list(WORDS), None
            return
        ranked = list(dict.fromkeys([*STOP_WORDS, *WORDS, *SUPPORT_WORDS]))
        ranked += _made_up_words(VOCABULARY_SIZE - len(ranked), set(ranked))
        self.words = ranked
        # tags and symptoms: frequent topic words, letters only so YAML reads them as text
        self.topics = [word for word in ranked[len(STOP_WORDS):400] if word.isalpha()]
        self.weights = list(itertools.accumulate(1 / rank for rank in range(1, len(ranked) + 1)))

    def choices(self, rng: random.Random, k: int) -> list[str]:
        if self.weights is None:
            return rng.choices(self.words, k=k)  # the exact draws of the original generator
        return rng.choices(self.words, cum_weights=self.weights, k=k)

    def sample(self, rng: random.Random, k: int) -> list[str]:
        return rng.sample(self.topics, k)


BASIC = Vocabulary()


def sentence(rng: random.Random, low: int = 6, high: int = 16, words: Vocabulary = BASIC) -> str:
    drawn = words.choices(rng, rng.randint(low, high))
    return " ".join(drawn).capitalize() + "."


def article_text(rng: random.Random, index: int, total: int, words: Vocabulary = BASIC) -> str:
    related = [f"article-{rng.randrange(total)}" for _ in range(2)]
    sections = []
    for number in range(rng.randint(2, 5)):
        body = " ".join(sentence(rng, words=words) for _ in range(rng.randint(3, 8)))
        link = f"See [[article-{rng.randrange(total)}]] for more." if number == 0 else ""
        steps = "\n".join(f"{i}. {sentence(rng, 4, 9, words)}" for i in range(1, rng.randint(3, 6)))
        sections.append(f"## {sentence(rng, 2, 5, words)[:-1]}\n\n{body} {link}\n\n{steps}\n")
    return (
        "---\n"
        f"title: {sentence(rng, 3, 7, words)[:-1]} {index}\n"
        f"summary: {sentence(rng, words=words)}\n"
        f"tags: [{', '.join(words.sample(rng, 3))}]\n"
        f"related: [{', '.join(related)}]\n"
        f"updated: 2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}\n"
        "---\n\n" + "\n".join(sections)
    )


def tree_text(rng: random.Random, index: int, articles: int, words: Vocabulary = BASIC) -> str:
    depth = rng.randint(3, 8)
    lines = [f"title: {sentence(rng, 3, 6, words)[:-1]} {index}", f"summary: {sentence(rng, words=words)}",
             f"symptoms: [{', '.join(' '.join(words.sample(rng, 3)) for _ in range(3))}]",
             "start: step-0", "nodes:"]
    for step in range(depth):
        lines += [f"  step-{step}:", f"    ask: {sentence(rng, 4, 10, words)[:-1]}?",
                  f"    article: article-{rng.randrange(articles)}", "    answers:",
                  "      Yes: solved" if step else "      Yes: fixed-first",
                  f"      No: {'step-' + str(step + 1) if step + 1 < depth else 'escalate'}"]
    lines += ["  fixed-first:", f"    solved: {sentence(rng, words=words)}",
              "  solved:", f"    solved: {sentence(rng, words=words)}",
              "  escalate:", "    escalate: {team: Second line, priority: P3}",
              "    collect:", "      - {name: asset_tag, prompt: Asset tag, pattern: '^[A-Z]{2}\\d{5}$'}"]
    return "\n".join(lines) + "\n"


def generate(out: Path, articles: int, trees: int, seed: int = 1, vocabulary: str = "basic") -> Path:
    """Write a KB with `articles` articles and `trees` trees into `out`; returns `out`."""
    rng = random.Random(seed)
    words = Vocabulary(vocabulary)
    out.mkdir(parents=True, exist_ok=True)
    (out / "kb.yaml").write_text(
        "title: Synthetic KB\nlanguages: [en]\ncategories:\n"
        + "".join(f"  {c}: {{title: {c.capitalize()}}}\n" for c in CATEGORIES), "utf-8")
    for index in range(articles):
        folder = out / "articles" / CATEGORIES[index % len(CATEGORIES)]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"article-{index}.md").write_text(article_text(rng, index, articles, words), "utf-8")
    (out / "trees").mkdir(exist_ok=True)
    for index in range(trees):
        (out / "trees" / f"tree-{index}.yaml").write_text(tree_text(rng, index, articles, words), "utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--trees", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--vocabulary", choices=["basic", "realistic"], default="basic",
                        help="basic: 60 words drawn uniformly; realistic: 4,000 words by Zipf's law")
    args = parser.parse_args()
    generate(args.out, args.articles, args.trees, args.seed, args.vocabulary)


if __name__ == "__main__":
    main()
