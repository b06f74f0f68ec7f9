"""Which pages the public site has, and their URLs. Only public content gets a page.

URL scheme (below the path of `base_url`):
`/` (sends to the default language), `/<lang>/` home, `/<lang>/articles/<id>/`,
`/<lang>/fix/<tree>/` (the first step), `/<lang>/fix/<tree>/<node>/`,
`/<lang>/fix/<tree>/<node>/<facts>/` (the step as reached with facts set, e.g. `os-windows`),
`/<lang>/fix/<tree>/<node>/contact-<n>/` (hand-over when answer n leads to an internal step),
`/<lang>/categories/<id>/`, `/<lang>/tags/<tag>/`, `/<lang>/search/`, `/<lang>/a-z/`, `/404.html`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from kbengine.check.guards import Facts
from kbengine.graph import article_key, tree_key
from kbengine.kb import KnowledgeBase
from kbengine.model import Article, Category, Node, Tree, goto_entry
from kbengine.read.slugs import slugify
from kbengine.site.states import TreeStates, plan_states

_GOTO_LIMIT = 20  # goto chains longer than this are cut (kb check reports real cycles)


@dataclass(frozen=True)
class Urls:
    """Every URL of the site, as a path below `base` (e.g. `/help/`), plus the absolute form."""

    base: str = "/"
    origin: str = ""  # "https://example.org" when base_url is absolute, else ""

    @classmethod
    def from_base_url(cls, base_url: str) -> Urls:
        parts = urlsplit(base_url or "/")
        path = "/" + parts.path.strip("/") + "/" if parts.path.strip("/") else "/"
        origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
        return cls(path, origin)

    def home(self, lang: str) -> str:
        return f"{self.base}{lang}/"

    def article(self, lang: str, article_id: str) -> str:
        return f"{self.base}{lang}/articles/{quote(article_id)}/"

    def tree(self, lang: str, tree_id: str) -> str:
        return f"{self.base}{lang}/fix/{quote(tree_id)}/"

    def node(self, lang: str, tree: Tree, node_id: str, state: str = "") -> str:
        """A step's page; with `state` (a facts sub-path), its page for those facts."""
        if state:
            return f"{self.tree(lang, tree.id)}{quote(node_id)}/{state}/"
        if node_id == tree.start:
            return self.tree(lang, tree.id)
        return f"{self.tree(lang, tree.id)}{quote(node_id)}/"

    def handoff(self, lang: str, tree: Tree, node_id: str, number: int) -> str:
        return f"{self.tree(lang, tree.id)}{quote(node_id)}/contact-{number}/"

    def category(self, lang: str, category_id: str) -> str:
        return f"{self.base}{lang}/categories/{quote(category_id)}/"

    def tag(self, lang: str, tag: str) -> str:
        return f"{self.base}{lang}/tags/{tag_slug(tag)}/"

    def search(self, lang: str) -> str:
        return f"{self.base}{lang}/search/"

    def a_z(self, lang: str) -> str:
        return f"{self.base}{lang}/a-z/"

    def asset(self, name: str) -> str:
        return f"{self.base}assets/{name}"

    def file(self, path: str) -> str:
        """URL of a KB file (an image) copied into the site, by its KB-relative path."""
        return f"{self.base}files/{quote(path)}"

    def absolute(self, url: str) -> str:
        return self.origin + url

    def output_path(self, url: str) -> str:
        """Path of the file that serves `url`, relative to the site folder."""
        rel = unquote(url[len(self.base):])
        return rel + "index.html" if rel.endswith("/") or not rel else rel


def tag_slug(tag: str) -> str:
    return slugify(tag) or "tag"


def index_letter(title: str) -> str:
    """The A-Z group of a title: its first letter without accents, or '#'."""
    for char in unicodedata.normalize("NFKD", title):
        if char.isalpha():
            return char.upper() if char.isascii() else "#"
        if char.isdigit():
            return "#"
    return "#"


@dataclass
class Page:
    """One page to write: where it goes, which template renders it, and what it shows."""

    url: str
    template: str
    lang: str
    kind: str
    title: str = ""
    subject: Any = None  # the Article, Tree, Category or tag the page is about
    node: Node | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    alternates: dict[str, str] = field(default_factory=dict)  # lang -> url of the same page
    listed: bool = True  # in sitemap.xml


@dataclass
class StepLink:
    """Where an answer leads on the public site: a step page, or a hand-over to the desk."""

    url: str
    handoff: bool = False


@dataclass
class SitePlan:
    kb: KnowledgeBase
    urls: Urls
    languages: list[str]
    articles: dict[str, Article]  # public only
    trees: dict[str, Tree]  # public only
    states: TreeStates = field(default_factory=TreeStates)
    pages: list[Page] = field(default_factory=list)

    # --- what the site shows ------------------------------------------------------------------

    def articles_in(self, lang: str) -> list[Article]:
        return sorted((a for a in self.articles.values() if a.lang == lang), key=_title_key)

    def trees_in(self, lang: str) -> list[Tree]:
        return sorted((t for t in self.trees.values() if t.lang == lang), key=_title_key)

    def categories_in(self, lang: str) -> list[Category]:
        """Categories with public content in `lang`: kb.yaml order first, then unlisted ones."""
        used = {item.category for item in [*self.articles_in(lang), *self.trees_in(lang)] if item.category}
        known = self.kb.config.categories
        listed = sorted((c for c in known.values() if c.id in used), key=lambda c: (c.order, c.title))
        extra = [Category(cid, cid.replace("-", " ").capitalize()) for cid in sorted(used - set(known))]
        return listed + extra

    def tags_in(self, lang: str) -> dict[str, list[Article | Tree]]:
        """{tag slug: items}; the first spelling of a tag names it."""
        found: dict[str, list[Article | Tree]] = {}
        items: list[Article | Tree] = [*self.articles_in(lang), *self.trees_in(lang)]
        for item in items:
            for tag in dict.fromkeys(item.tags):
                found.setdefault(tag_slug(tag), []).append(item)
        return dict(sorted(found.items()))

    def tag_name(self, slug: str, lang: str) -> str:
        for item in [*self.articles_in(lang), *self.trees_in(lang)]:
            for tag in item.tags:
                if tag_slug(tag) == slug:
                    return tag
        return slug

    def article_url(self, article_id: str) -> str | None:
        article = self.articles.get(article_id)
        return self.urls.article(article.lang, article.id) if article else None

    def tree_url(self, tree_id: str) -> str | None:
        tree = self.trees.get(tree_id)
        if tree is None:
            return None
        link = self.step_link(tree, tree.start)
        return None if link is None or link.handoff else link.url

    def step_link(self, tree: Tree, node_id: str, facts: Facts | None = None,
                  depth: int = 0) -> StepLink | None:
        """Where a link to `node_id` reached with `facts` goes: its page for those facts, the end
        of a goto chain (facts carry on, as in `kb walk`), or None (no such node)."""
        node = tree.nodes.get(node_id)
        if node is None or tree.id not in self.trees or depth > _GOTO_LIMIT:
            return None
        if node.audience != "public":
            return StepLink("", handoff=True)
        if node.kind == "goto":
            entry = goto_entry(node, self.trees)
            if entry is None:
                return StepLink("", handoff=True)
            return self.step_link(self.trees[entry[0]], entry[1], facts, depth + 1)
        state = self.states.slug(tree.id, node_id, facts or {})
        return StepLink(self.urls.node(tree.lang, tree, node_id, state))

    def translations(self, key: str) -> dict[str, str]:
        """{lang: id} of the public versions of an article or tree (graph key `article:<id>`)."""
        pool: dict[str, Any] = self.articles if key.startswith("article:") else self.trees
        found = {}
        for lang, other in self.kb.graph.translations(key).items():
            other_id = other.split(":", 1)[1]
            if other_id in pool:
                found[lang] = other_id
        return found


def _title_key(item: Article | Tree) -> tuple[str, str]:
    return (item.title.casefold(), item.id)


def public_languages(kb: KnowledgeBase, articles: dict[str, Article], trees: dict[str, Tree]) -> list[str]:
    """The configured languages, then any other language public content is written in."""
    langs = list(dict.fromkeys([kb.config.default_language, *kb.config.languages]))
    extra = sorted({a.lang for a in articles.values()} | {t.lang for t in trees.values()})
    return langs + [lang for lang in extra if lang not in langs]


def plan_site(kb: KnowledgeBase, *, drafts: bool = False) -> SitePlan:
    """Every page of the public site, with its URL and the language versions of it. With `drafts`
    (a writer's preview, never published), draft, archived and internal articles and trees too."""
    articles = {i: a for i, a in kb.articles.items() if a.is_public or drafts}
    trees = {i: t for i, t in kb.trees.items() if t.is_public or drafts}
    urls = Urls.from_base_url(kb.config.base_url)
    plan = SitePlan(kb, urls, public_languages(kb, articles, trees), articles, trees, plan_states(trees))
    pages = plan.pages
    every_lang = {lang: urls.home(lang) for lang in plan.languages}
    default = plan.languages[0]
    pages.append(Page(urls.base, "root.html", default, "root", listed=False))
    pages.append(Page(f"{urls.base}404.html", "404.html", default, "not-found", listed=False))
    for lang in plan.languages:
        pages.append(Page(urls.home(lang), "home.html", lang, "home", alternates=every_lang))
        pages.append(Page(urls.search(lang), "search.html", lang, "search", listed=False,
                          alternates={x: urls.search(x) for x in plan.languages}))
        pages.append(Page(urls.a_z(lang), "a-z.html", lang, "a-z",
                          alternates={x: urls.a_z(x) for x in plan.languages}))
        for category in plan.categories_in(lang):
            pages.append(Page(urls.category(lang, category.id), "category.html", lang, "category",
                              category.title_in(lang), category))
        for slug in plan.tags_in(lang):
            pages.append(Page(urls.tag(lang, slug), "tag.html", lang, "tag",
                              plan.tag_name(slug, lang), slug))
    for article in articles.values():
        alternates = {lang: urls.article(lang, other)
                      for lang, other in plan.translations(article_key(article.id)).items()}
        pages.append(Page(urls.article(article.lang, article.id), "article.html", article.lang,
                          "article", article.title, article, alternates=alternates))
    for tree in trees.values():
        pages.extend(_tree_pages(plan, tree))
    return plan


def _tree_pages(plan: SitePlan, tree: Tree) -> list[Page]:
    urls = plan.urls
    translated = {lang: plan.trees[other]
                  for lang, other in plan.translations(tree_key(tree.id)).items()}
    pages = []
    for node in tree.nodes.values():
        if node.audience != "public" or node.kind == "goto":
            continue  # internal steps never reach the site; gotos link straight to their target
        others = [other for other in translated.values()
                  if node.id in other.nodes and other.nodes[node.id].audience == "public"]
        # the page without facts keeps the step's plain address; state pages are reached by answering
        for facts, state in [({}, ""), *plan.states.pages(tree.id, node.id)]:
            alternates = {other.lang: urls.node(other.lang, other, node.id,
                                                plan.states.slug(other.id, node.id, facts))
                          for other in others}
            pages.append(Page(urls.node(tree.lang, tree, node.id, state), "step.html", tree.lang, "step",
                              tree.title, tree, node, extra={"facts": facts}, alternates=alternates,
                              listed=node.id == tree.start and not state))
        for number, answer in enumerate(node.exits(), start=1):
            link = plan.step_link(tree, answer.next)
            if link is not None and link.handoff:
                pages.append(Page(urls.handoff(tree.lang, tree, node.id, number), "step.html",
                                  tree.lang, "handoff", tree.title, tree, node,
                                  extra={"answer": answer.label}, listed=False))
    return pages
