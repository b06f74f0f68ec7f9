"""Render the planned pages with Jinja2: one environment per language, templates a KB can override."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

import kbengine
from kbengine.graph import article_key
from kbengine.links import LinkResolver
from kbengine.model import Article, Diagnostic, Node, Tree
from kbengine.read.sources import contained
from kbengine.site.contact import ContactLinks, contact_links
from kbengine.site.i18n import language_name, long_date, translations
from kbengine.site.markdown import CALLOUT_KINDS, ArticleRenderer, RenderedBody
from kbengine.site.pages import Page, SitePlan, index_letter, tag_slug


def _default_templates() -> Path:
    """The repository's site_templates/ (an editable install), else the copy a wheel installed."""
    beside = Path(kbengine.__file__).resolve().parent.parent / "site_templates"
    return beside if beside.is_dir() else Path(sys.prefix) / "share" / "kbengine" / "site_templates"


DEFAULT_TEMPLATES = _default_templates()
TOC_MIN_HEADINGS = 3  # a table of contents only for articles with this many sections


def N_(message: str) -> str:
    """Mark text for the catalogue; it is translated where it is shown."""
    return message


CALLOUT_TITLES = {"note": N_("Note"), "tip": N_("Tip"), "important": N_("Important"),
                  "warning": N_("Warning"), "caution": N_("Caution")}


def template_folders(root: Path) -> list[Path]:
    """Where templates are looked up: the KB's own site_templates/ first, then the defaults."""
    own = root / "site_templates"
    inside = contained(root, "site_templates") is not None  # a link out of the KB is not its own
    return [own, DEFAULT_TEMPLATES] if own.is_dir() and inside else [DEFAULT_TEMPLATES]


@dataclass
class Entry:
    """An article or troubleshooter as a list item: title, link, summary."""

    title: str
    url: str
    summary: str
    kind: str  # "article" or "tree"


@dataclass
class Answer:
    label: str
    url: str
    handoff: bool


class _Resolver:
    """Link targets in Markdown, as the public site knows them."""

    def __init__(self, plan: SitePlan) -> None:
        self.plan = plan
        self.links = LinkResolver(plan.articles, plan.trees, [a.path for a in plan.articles.values()])

    def wiki(self, target: str) -> tuple[str, str] | None:
        if target in self.plan.articles:
            return self.plan.article_url(target) or "", self.plan.articles[target].title
        url = self.plan.tree_url(target)
        return (url, self.plan.trees[target].title) if url else None

    def page(self, path: str) -> str | None:
        found = self.links.article_at(path)
        return self.plan.article_url(found) if found else None

    def file(self, path: str) -> str | None:
        inside = path.startswith(("articles/", "trees/")) and ".." not in path.split("/")
        found = contained(self.plan.kb.root, path) if inside else None
        if found is None or not found.is_file():
            return None  # missing, or a link out of the KB (KB107): never published
        return self.plan.urls.file(path)


class _ContainedLoader(jinja2.BaseLoader):
    """Templates from the template folders, the first that has one; a symlink out of its folder is
    not a template (the next folder's is used)."""

    def __init__(self, folders: list[Path]) -> None:
        self.folders = [(folder.resolve(), jinja2.FileSystemLoader(str(folder))) for folder in folders]

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        for folder, loader in self.folders:
            try:
                source, filename, uptodate = loader.get_source(environment, template)
            except jinja2.TemplateNotFound:
                continue
            if Path(filename).resolve().is_relative_to(folder):
                return source, filename, uptodate
        raise jinja2.TemplateNotFound(template)


class SiteRenderer:
    """Turns a Page into HTML; collects the KB files (images) the rendered pages use."""

    def __init__(self, plan: SitePlan, asset_urls: dict[str, str]) -> None:
        self.plan = plan
        self.asset_urls = asset_urls
        self.files: set[str] = set()
        self.diagnostics: list[Diagnostic] = []  # articles shown as plain text, and why
        self.loader = _ContainedLoader(template_folders(plan.kb.root))
        self._environments: dict[str, jinja2.Environment] = {}
        self._markdown: dict[str, ArticleRenderer] = {}
        self._resolver = _Resolver(plan)

    def environment(self, lang: str) -> jinja2.Environment:
        if lang not in self._environments:
            env = jinja2.Environment(loader=self.loader, autoescape=True, trim_blocks=True,
                                     lstrip_blocks=True, extensions=["jinja2.ext.i18n"],
                                     undefined=jinja2.StrictUndefined)
            env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
            env.filters["long_date"] = lambda value: long_date(value, lang)
            self._environments[lang] = env
        return self._environments[lang]

    def markdown(self, body: str, source: str, lang: str, article: Article | None = None) -> RenderedBody:
        if lang not in self._markdown:
            gettext = translations(lang).gettext
            labels = {kind: gettext(CALLOUT_TITLES[kind]) for kind in CALLOUT_KINDS}
            self._markdown[lang] = ArticleRenderer(self.plan.kb.root, self._resolver, labels)
        rendered = self._markdown[lang].render(body, source, article.headings if article else None,
                                               article.body_line if article else 1)
        self.files |= rendered.files
        self.diagnostics.extend(rendered.diagnostics)
        return rendered

    def render(self, page: Page) -> str:
        env = self.environment(page.lang)
        context = self.common(page)
        builder = getattr(self, "_" + page.kind.replace("-", "_"), None)
        if builder is not None:
            context.update(builder(page))
        return env.get_template(page.template).render(context)

    # --- shared by every page --------------------------------------------------------------------

    def common(self, page: Page) -> dict[str, Any]:
        plan, urls, lang = self.plan, self.plan.urls, page.lang
        gettext = translations(lang).gettext
        title = page.title or plan.kb.config.title_in(lang)
        return {
            "page": page,
            "lang": lang,
            "site_title": plan.kb.config.title_in(lang),
            "title": title,
            "urls": urls,
            "asset": self.asset_urls,
            "home_url": urls.home(lang),
            "search_url": urls.search(lang),
            "a_z_url": urls.a_z(lang),
            "canonical": urls.absolute(page.url),
            "alternates": [{"lang": other, "name": language_name(other), "url": url,
                            "absolute": urls.absolute(url)}
                           for other, url in sorted(page.alternates.items())],
            "language_links": [{"lang": other, "name": language_name(other),
                                "url": page.alternates.get(other) or urls.home(other)}
                               for other in plan.languages if other != lang],
            "support": plan.kb.config.support.in_language(lang),
            "contact": self.contact(title, gettext("I read this page and still need help."), [], page),
            "search_base": urls.base,
            "feedback_url": _feedback_url(plan.kb.config.server_url),
        }

    def contact(self, subject: str, summary: str, path: list[str], page: Page) -> ContactLinks:
        gettext = translations(page.lang).gettext
        support = self.plan.kb.config.support.in_language(page.lang)
        return contact_links(support, subject, summary, gettext("Steps taken"),
                             path, self.plan.urls.absolute(page.url))

    def entry(self, item: Article | Tree) -> Entry:
        if isinstance(item, Article):
            return Entry(item.title, self.plan.article_url(item.id) or "", item.summary, "article")
        return Entry(item.title, self.plan.tree_url(item.id) or "", item.summary, "tree")

    def entries(self, items: Sequence[Article | Tree]) -> list[Entry]:
        return [e for e in map(self.entry, items) if e.url]

    # --- one builder per page kind -----------------------------------------------------------------

    def _home(self, page: Page) -> dict[str, Any]:
        lang = page.lang
        cards = []
        for category in self.plan.categories_in(lang):
            count = sum(1 for a in self.plan.articles_in(lang) if a.category == category.id)
            cards.append({"title": category.title_in(lang), "description": category.description_in(lang),
                          "url": self.plan.urls.category(lang, category.id), "count": count})
        return {"categories": cards, "trees": self.entries(self.plan.trees_in(lang))}

    def _category(self, page: Page) -> dict[str, Any]:
        category, lang = page.subject, page.lang
        return {"description": category.description_in(lang),
                "articles": self.entries([a for a in self.plan.articles_in(lang)
                                          if a.category == category.id]),
                "trees": self.entries([t for t in self.plan.trees_in(lang) if t.category == category.id])}

    def _tag(self, page: Page) -> dict[str, Any]:
        items = self.plan.tags_in(page.lang).get(page.subject, [])
        return {"entries": [self.entry(item) for item in items]}

    def _a_z(self, page: Page) -> dict[str, Any]:
        groups: dict[str, list[Entry]] = {}
        items: list[Article | Tree] = [*self.plan.articles_in(page.lang), *self.plan.trees_in(page.lang)]
        for entry in sorted(self.entries(items), key=lambda e: e.title.casefold()):
            groups.setdefault(index_letter(entry.title), []).append(entry)
        return {"groups": sorted(groups.items(), key=lambda g: (g[0] == "#", g[0]))}

    def _article(self, page: Page) -> dict[str, Any]:
        article: Article = page.subject
        plan, lang = self.plan, page.lang
        body = self.markdown(article.body, article.path, lang, article)
        category = plan.kb.config.categories.get(article.category)
        related = [plan.articles[i] for i in plan.kb.graph.related(article.id) if i in plan.articles]
        used_in = [plan.trees[i] for i in plan.kb.graph.used_in_trees(article.id) if i in plan.trees]
        translations_ = plan.translations(article_key(article.id))
        return {
            "article": article,
            "body": body.html,
            "toc": body.toc if sum(e.level == 2 for e in body.toc) >= TOC_MIN_HEADINGS else [],
            "category": ({"title": category.title_in(lang) if category else article.category,
                          "url": plan.urls.category(lang, article.category)} if article.category else None),
            "related": self.entries(related),
            "used_in": self.entries([t for t in used_in if t.lang == lang]),
            "tags": [{"name": tag, "url": plan.urls.tag(lang, tag_slug(tag))}
                     for tag in dict.fromkeys(article.tags)],
            "translated": len(translations_) > 1,
        }

    def _step(self, page: Page) -> dict[str, Any]:
        tree: Tree = page.subject
        node: Node = page.node  # type: ignore[assignment]
        plan, lang = self.plan, page.lang
        gettext = translations(lang).gettext
        facts = page.extra.get("facts", {})
        answers = []
        for number, answer in enumerate(node.exits(), start=1):
            if not answer.allowed(facts):
                continue  # hidden by its `when` guard, as in `kb walk`
            link = plan.step_link(tree, answer.next, {**facts, **answer.set})
            if link is None:
                continue
            url = plan.urls.handoff(lang, tree, node.id, number) if link.handoff else link.url
            answers.append(Answer(answer.label, url, link.handoff))
        article_id = node.article if node.article in plan.articles else None
        text = self.markdown(node.text, tree.path, lang).html if node.text else ""
        path = [self._step_line(node, page.extra["answer"])] if page.kind == "handoff" else []
        summary = (gettext("I used the troubleshooter “%(title)s” and need help.") % {"title": tree.title})
        return {
            "tree": tree,
            "node": node,
            "step_text": text,
            "answers": answers,
            "is_start": node.id == tree.start and page.kind == "step" and not facts,
            "handoff": page.kind == "handoff",
            "answer": page.extra.get("answer", ""),
            "more_info": self.entry(plan.articles[article_id]) if article_id else None,
            "tree_url": plan.tree_url(tree.id) or page.url,
            "step_id": f"{tree.id}#{node.id}",
            "step_prompt": node.prompt,
            "contact": self.contact(tree.title, summary, path, page),
            "contact_summary": summary,
            "collect": [field.prompt for field in node.collect] if page.kind != "handoff" else [],
        }

    _handoff = _step

    @staticmethod
    def _step_line(node: Node, answer: str) -> str:
        return f"{node.prompt} - {answer}" if answer else node.prompt

    def _not_found(self, page: Page) -> dict[str, Any]:
        return {"homes": [{"lang": lang, "name": language_name(lang), "url": self.plan.urls.home(lang)}
                          for lang in self.plan.languages]}

    _root = _not_found


def _feedback_url(server_url: str | None) -> str | None:
    """Where "Was this helpful?" posts: kb server's feedback endpoint, or no form without a server
    (kb check refuses a server_url that is not a link, KB702; a mailto: one is no server either)."""
    if not server_url or not server_url.lower().startswith(("http://", "https://")):
        return None
    return f"{server_url.rstrip('/')}/api/v1/feedback"
