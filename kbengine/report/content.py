"""Content health for writers (`kb report content`): which articles walks use (reuse, link rate,
last used), which are never used or stale, which tree steps lose walks, what the help site's
readers said and searched for without result (docs/report.md#content). Pure: values in, data out.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from kbengine.model import Article
from kbengine.report.figures import WalkFigures, ranked, share
from kbengine.report.settings import ContentLimits

NO_OWNER = "(no owner)"


def article_use(walks: Sequence[WalkFigures]) -> dict[str, dict[str, Any]]:
    """Per article: walks that used it, solved walks that used it (reuse), its link rate (the share
    of all walks that used it) and when it was last used."""
    used: Counter[str] = Counter()
    solved: Counter[str] = Counter()
    last: dict[str, datetime] = {}
    for walk in walks:
        for article in walk.articles:
            used[article] += 1
            solved[article] += walk.outcome == "solved"
            if article not in last or walk.started > last[article]:
                last[article] = walk.started
    return {article: {"walks": count, "solved_walks": solved[article], "link_rate": share(count, len(walks)),
                      "last_used": last[article].isoformat()}
            for article, count in ranked(used.elements())}


def stale_articles(articles: Iterable[Article], limits: ContentLimits, today: date) -> list[dict[str, Any]]:
    """Articles not updated within `stale_after` (or with no `updated` date), grouped by owner."""
    cutoff = today - timedelta(days=limits.stale_after.days)
    by_owner: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for article in articles:
        if article.status == "archived":
            continue
        updated = _date(article.updated)
        if updated is not None and updated >= cutoff:
            continue
        by_owner[article.owner or NO_OWNER].append({
            "id": article.id, "title": article.title, "path": article.path,
            "updated": updated.isoformat() if updated else None,
            "age_days": (today - updated).days if updated else None})
    return [{"owner": owner, "articles": sorted(rows, key=lambda row: (row["updated"] or "", row["id"]))}
            for owner, rows in sorted(by_owner.items())]


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def abandonment(walks: Sequence[WalkFigures], limits: ContentLimits) -> list[dict[str, Any]]:
    """Tree steps where at least `abandonment` of a tree's walks (and `min_walks` walks) were given up."""
    per_tree: Counter[str] = Counter(walk.tree for walk in walks)
    stops = Counter((walk.tree, walk.end_tree, walk.end_node)
                    for walk in walks if walk.outcome == "abandoned")
    found = [{"tree": tree, "node_tree": end_tree, "node": node, "abandoned": count, "walks": per_tree[tree],
              "share": share(count, per_tree[tree])}
             for (tree, end_tree, node), count in stops.items()
             if per_tree[tree] >= limits.min_walks and share(count, per_tree[tree]) >= limits.abandonment]
    return sorted(found, key=lambda row: (-row["share"], -row["abandoned"], row["tree"], row["node"]))


def content_health(articles: Mapping[str, Article], walks: Sequence[WalkFigures], votes: Mapping[str, Any],
                   limits: ContentLimits, today: date) -> dict[str, Any]:
    """Every figure of `kb report content` as plain data (the --json output)."""
    use = article_use(walks)
    feedback = votes.get("articles", {})
    rows = []
    for article_id, article in sorted(articles.items()):
        figures = use.get(article_id, {"walks": 0, "solved_walks": 0, "link_rate": 0.0, "last_used": None})
        said = feedback.get(article_id)
        rows.append({"id": article_id, "title": article.title, "owner": article.owner,
                     "archived": article.status == "archived", **figures,
                     "feedback": said.as_dict() if said else None})
    rows.sort(key=lambda row: (-row["walks"], row["id"]))
    linked = sum(1 for walk in walks if walk.articles)
    return {
        "walks": len(walks),
        "link_rate": share(linked, len(walks)) if walks else None,
        "articles": rows,
        "never_used": [{"id": row["id"], "title": row["title"], "owner": row["owner"] or NO_OWNER}
                       for row in sorted(rows, key=lambda row: row["id"])
                       if not row["walks"] and not row["archived"]],
        "unknown_articles": sorted(set(use) - set(articles)),
        "stale": stale_articles(articles.values(), limits, today),
        "abandonment": abandonment(walks, limits),
        "tree_ends": {end: said.as_dict() for end, said in sorted(votes.get("ends", {}).items())},
        "searches_without_results": list(votes.get("searches", [])),
    }
