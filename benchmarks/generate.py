"""Seeded generator of synthetic KBs: N articles and M trees in kbengine's formats.

    python benchmarks/generate.py OUT --articles 10000 --trees 200 --seed 1
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

WORDS = (
    "account password printer queue network wifi vpn outlook mailbox calendar teams camera "
    "microphone speaker laptop monitor dock update install driver firmware certificate token "
    "phone authenticator sync folder share drive permission browser cache profile restart "
    "screen keyboard mouse battery charger adapter cable office license sign error code "
    "connection timeout server client proxy dns gateway firewall policy backup restore disk"
).split()
CATEGORIES = ["accounts", "network", "email", "meetings", "printing", "devices", "software", "files"]


def sentence(rng: random.Random, low: int = 6, high: int = 16) -> str:
    words = rng.choices(WORDS, k=rng.randint(low, high))
    return " ".join(words).capitalize() + "."


def article_text(rng: random.Random, index: int, total: int) -> str:
    related = [f"article-{rng.randrange(total)}" for _ in range(2)]
    sections = []
    for number in range(rng.randint(2, 5)):
        body = " ".join(sentence(rng) for _ in range(rng.randint(3, 8)))
        link = f"See [[article-{rng.randrange(total)}]] for more." if number == 0 else ""
        steps = "\n".join(f"{i}. {sentence(rng, 4, 9)}" for i in range(1, rng.randint(3, 6)))
        sections.append(f"## {sentence(rng, 2, 5)[:-1]}\n\n{body} {link}\n\n{steps}\n")
    return (
        "---\n"
        f"title: {sentence(rng, 3, 7)[:-1]} {index}\n"
        f"summary: {sentence(rng)}\n"
        f"tags: [{', '.join(rng.sample(WORDS, 3))}]\n"
        f"related: [{', '.join(related)}]\n"
        f"updated: 2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}\n"
        "---\n\n" + "\n".join(sections)
    )


def tree_text(rng: random.Random, index: int, articles: int) -> str:
    depth = rng.randint(3, 8)
    lines = [f"title: {sentence(rng, 3, 6)[:-1]} {index}", f"summary: {sentence(rng)}",
             f"symptoms: [{', '.join(' '.join(rng.sample(WORDS, 3)) for _ in range(3))}]",
             "start: step-0", "nodes:"]
    for step in range(depth):
        lines += [f"  step-{step}:", f"    ask: {sentence(rng, 4, 10)[:-1]}?",
                  f"    article: article-{rng.randrange(articles)}", "    answers:",
                  "      Yes: solved" if step else "      Yes: fixed-first",
                  f"      No: {'step-' + str(step + 1) if step + 1 < depth else 'escalate'}"]
    lines += ["  fixed-first:", f"    solved: {sentence(rng)}",
              "  solved:", f"    solved: {sentence(rng)}",
              "  escalate:", "    escalate: {team: Second line, priority: P3}",
              "    collect:", "      - {name: asset_tag, prompt: Asset tag, pattern: '^[A-Z]{2}\\d{5}$'}"]
    return "\n".join(lines) + "\n"


def generate(out: Path, articles: int, trees: int, seed: int = 1) -> Path:
    """Write a KB with `articles` articles and `trees` trees into `out`; returns `out`."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    (out / "kb.yaml").write_text(
        "title: Synthetic KB\nlanguages: [en]\ncategories:\n"
        + "".join(f"  {c}: {{title: {c.capitalize()}}}\n" for c in CATEGORIES), "utf-8")
    for index in range(articles):
        folder = out / "articles" / CATEGORIES[index % len(CATEGORIES)]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"article-{index}.md").write_text(article_text(rng, index, articles), "utf-8")
    (out / "trees").mkdir(exist_ok=True)
    for index in range(trees):
        (out / "trees" / f"tree-{index}.yaml").write_text(tree_text(rng, index, articles), "utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--trees", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generate(args.out, args.articles, args.trees, args.seed)


if __name__ == "__main__":
    main()
