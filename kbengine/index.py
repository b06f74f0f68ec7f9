"""The search index in .kb/index: the one module that talks to Whoosh.

Each document (an article or a tree) fills the analysed fields of its own language
(`title_en`, `body_nl`, ...); a query is parsed over the fields of the KB's languages.
The index follows the KB incrementally by a content hash stored with every document; a
full rebuild is written aside and swapped in, so a killed run never leaves half an index.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoosh import fields, highlight, qparser
from whoosh import query as wq
from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    IDTokenizer,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.filedb.filestore import RamStorage
from whoosh.index import FileIndex, LockError, create_in, open_dir
from whoosh.lang import NoStemmer, NoStopWords, stopwords_for_language
from whoosh.qparser import syntax
from whoosh.support.charset import accent_map

from kbengine.build import CACHE_DIR, KnowledgeBase
from kbengine.model import Article, Tree
from kbengine.search import KINDS, MARK_END, MARK_START, QueryError

log = logging.getLogger("kbengine")

INDEX_DIR = "index"
_META = "kbengine-index.json"
_SCHEMA_VERSION = 1  # bump when the fields or the analysis change: forces a full rebuild
_LOCK_WAIT = 5.0  # seconds to wait for another kb that is updating the same index
_LEFTOVER_AGE = 600  # seconds after which an aside folder is a killed run's leftover

# Analysed per-language fields and their weight: the words people type are in titles,
# tree symptoms and tags far more often than deep in a body.
FIELD_BOOSTS = {"title": 4.0, "symptoms": 4.0, "keywords": 2.5, "summary": 2.0,
                "headings": 1.5, "body": 1.0, "internal": 1.0}
_PUBLIC_FIELDS = tuple(name for name in FIELD_BOOSTS if name != "internal")
# Fields a query may name (`title:vpn`), in the users' words -> the field they mean.
FIELD_NAMES = {
    "title": "title", "summary": "summary", "symptom": "symptoms", "symptoms": "symptoms",
    "heading": "headings", "headings": "headings", "body": "body", "text": "body",
    "tag": "tag", "tags": "tag", "kind": "kind", "lang": "lang", "language": "lang",
    "category": "category", "id": "id",
}
# Short fields first: a matched symptom or summary reads best, and long bodies cost the most.
_SNIPPET_FIELDS = ("symptoms", "summary", "body", "headings", "internal", "title")
_SNIPPET_CHARS = 200
_HIGHLIGHT_CHARS = 4000  # highlighting analyses the text again: bound the cost per hit
_SHORT_FIELDS = {"symptoms", "summary", "title"}  # shown whole, not as fragments
_WHOLE = highlight.WholeFragmenter()
_AROUND = highlight.ContextFragmenter(maxchars=_SNIPPET_CHARS // 2, surround=40)


@dataclass(frozen=True, slots=True)
class Match:
    """One ranked document: `kind:id` key, score and a snippet with [[marked]] words."""

    key: str
    score: float
    snippet: str


@dataclass(frozen=True, slots=True)
class Found:
    matches: list[Match]
    total: int
    suggestion: str | None


# --- turning content into plain text and index documents ---------------------------------

_INCLUDE = re.compile(r"\[!INCLUDE\s*\[[^\]]*\]\([^)]*\)\]", re.IGNORECASE)
_ALERT = re.compile(r"\[!(?:NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]", re.IGNORECASE)
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_WIKI = re.compile(r"\[\[([^\]|#]+)(?:#[^\]|]*)?(?:\|([^\]]*))?\]\]")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_DOCFX_BLOCK = re.compile(r"^\s*:::.*$", re.MULTILINE)
_FENCE = re.compile(r"^\s*(?:`{3,}|~{3,}).*$", re.MULTILINE)
_HTML = re.compile(r"<[^>\n]+>")
_MARKUP = re.compile(r"[*_`~#>|\[\]{}]+")
_SPACE = re.compile(r"\s+")


def plain_text(markdown: str) -> str:
    """The words of a Markdown text without its markup (no `[[`/`]]` left, so marks are unambiguous)."""
    text = _INCLUDE.sub(" ", markdown)
    text = _ALERT.sub(" ", text)
    text = _IMAGE.sub(r" \1 ", text)
    text = _WIKI.sub(lambda m: f" {m.group(2) or m.group(1)} ", text)
    text = _LINK.sub(r" \1 ", text)
    text = _DOCFX_BLOCK.sub(" ", text)
    text = _FENCE.sub(" ", text)
    text = _HTML.sub(" ", text)
    text = _MARKUP.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def _analyzer(lang: str) -> Analyzer:
    """Words, lower case, accents folded, the language's stop words and stemmer when it has them."""
    chain = RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)
    with contextlib.suppress(NoStopWords):
        chain = chain | StopFilter(lang=lang)
    with contextlib.suppress(NoStemmer):
        chain = chain | StemFilter(lang=lang)
    return chain


_WORDS = RegexTokenizer() | LowercaseFilter()


def _lower_id() -> fields.ID:
    """A whole-value field matched without regard to case (`kind:Tree` finds trees)."""
    return fields.ID(analyzer=IDTokenizer() | LowercaseFilter())


def _schema(languages: list[str]) -> fields.Schema:
    schema = fields.Schema(
        key=fields.ID(unique=True, stored=True),
        hash=fields.STORED(),
        kind=_lower_id(),
        id=_lower_id(),
        lang=_lower_id(),
        audience=_lower_id(),
        status=_lower_id(),
        category=_lower_id(),
        tag=fields.KEYWORD(commas=True, lowercase=True),
        # unstemmed words for "did you mean": public content apart, so the public is never
        # offered a word that only internal content has
        words_public=fields.TEXT(analyzer=_WORDS, phrase=False),
        words_other=fields.TEXT(analyzer=_WORDS, phrase=False),
    )
    for lang in languages:
        analyzer = _analyzer(lang)
        for name in FIELD_BOOSTS:
            schema.add(f"{name}_{lang}", fields.TEXT(analyzer=analyzer))
    return schema


def kb_languages(kb: KnowledgeBase) -> list[str]:
    """The languages the index has fields for: kb.yaml's plus any a document is written in."""
    found = {*kb.config.languages, *(a.lang for a in kb.articles.values()),
             *(t.lang for t in kb.trees.values())}
    return sorted(lang for lang in found if re.fullmatch(r"[a-z]{2,3}(?:_[a-z0-9]+)?", lang))


def _schema_id(languages: list[str]) -> str:
    return f"{_SCHEMA_VERSION}:{','.join(languages)}"


def _indexed(item: Article | Tree) -> bool:
    return item.status != "archived"  # archived content is never found


def _doc_hash(kind: str, item: Article | Tree) -> str:
    """Changes when anything that goes into the document changes (its file, id, path or language)."""
    basis = repr((_SCHEMA_VERSION, kind, item.id, item.path, item.lang, item.content_hash))
    return hashlib.blake2b(basis.encode(), digest_size=12).hexdigest()


def _tree_texts(tree: Tree) -> tuple[str, str]:
    """(public, internal) text of a tree's steps: prompts, Markdown texts and answer labels."""
    public: list[str] = []
    internal: list[str] = []
    for node in tree.nodes.values():
        parts = [node.prompt, plain_text(node.text), *(answer.label for answer in node.answers)]
        (internal if node.audience == "internal" else public).extend(p for p in parts if p)
    return "\n".join(public), "\n".join(internal)


def _document_texts(kind: str, item: Article | Tree) -> dict[str, str]:
    """The text of each analysed field (without the language suffix)."""
    if isinstance(item, Tree):
        body, internal = _tree_texts(item)
        symptoms, headings = "; ".join(item.symptoms), ""
    else:
        body, internal = plain_text(item.body), ""
        symptoms, headings = "", "; ".join(h.text for h in item.headings)
    keywords = " ".join([*item.tags, item.category, item.id.replace("-", " ").replace("/", " ")])
    return {"title": item.title, "summary": item.summary, "symptoms": symptoms,
            "headings": headings, "body": body, "internal": internal, "keywords": keywords}


def _document(kind: str, item: Article | Tree, languages: list[str]) -> dict[str, Any]:
    texts = _document_texts(kind, item)
    lang = item.lang if item.lang in languages else languages[0]
    document: dict[str, Any] = {
        "key": f"{kind}:{item.id}", "hash": _doc_hash(kind, item), "kind": kind,
        "id": item.id, "lang": item.lang, "audience": item.audience, "status": item.status,
        "category": item.category, "tag": ",".join(t.replace(",", " ") for t in item.tags),
    }
    if item.status == "published":  # draft words are never suggested
        public = "\n".join(text for name, text in texts.items() if name != "internal")
        if item.is_public:
            document["words_public"], document["words_other"] = public, texts["internal"]
        else:
            document["words_other"] = "\n".join(texts.values())
    for name, text in texts.items():
        if text:
            document[f"{name}_{lang}"] = text
    return document


def _items(kb: KnowledgeBase) -> Iterator[tuple[str, Article | Tree]]:
    for article in kb.articles.values():
        if _indexed(article):
            yield "article", article
    for tree in kb.trees.values():
        if _indexed(tree):
            yield "tree", tree


# --- keeping .kb/index in step with the KB ------------------------------------------------

def index_folder(root: Path) -> Path:
    return root / CACHE_DIR / INDEX_DIR


def _read_meta(folder: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads((folder / _META).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def _write_meta(folder: Path, schema_id: str, fingerprint: str) -> None:
    aside = folder / f"{_META}.{os.getpid()}.tmp"
    aside.write_text(json.dumps({"schema": schema_id, "fingerprint": fingerprint}), "utf-8")
    os.replace(aside, folder / _META)


@dataclass(frozen=True, slots=True)
class IndexUpdate:
    """What opening the index had to do to catch up with the KB."""

    rebuilt: bool = False
    added: int = 0
    changed: int = 0
    removed: int = 0


def _fill(writer: Any, documents: Iterable[dict[str, Any]]) -> int:
    count = 0
    for document in documents:
        writer.update_document(**document)
        count += 1
    return count


def _sweep_leftovers(base: Path) -> None:
    """Remove aside folders that a killed rebuild or swap left behind."""
    now = time.time()
    for leftover in base.glob("index-*"):
        try:
            if leftover.is_dir() and now - leftover.stat().st_mtime > _LEFTOVER_AGE:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            continue


def _rebuild(kb: KnowledgeBase, languages: list[str]) -> FileIndex:
    """Write a whole new index aside, then swap it in; in memory when .kb/ cannot be written."""
    schema = _schema(languages)
    documents = (_document(kind, item, languages) for kind, item in _items(kb))
    folder = index_folder(kb.root)
    try:
        folder.parent.mkdir(exist_ok=True)
        _sweep_leftovers(folder.parent)
        aside = Path(tempfile.mkdtemp(prefix="index-new-", dir=folder.parent))
    except OSError as error:
        log.warning("kb: cannot write the search index in %s (%s); searching from memory",
                    folder, error.strerror or error)
        ix = RamStorage().create_index(schema)
        writer = ix.writer()
        _fill(writer, documents)
        writer.commit()
        return ix
    try:
        ix = create_in(str(aside), schema)
        writer = ix.writer(limitmb=128)
        _fill(writer, documents)
        writer.commit()
        _write_meta(aside, _schema_id(languages), kb.fingerprint)
        _swap_in(aside, folder)
    finally:
        if aside.exists():
            shutil.rmtree(aside, ignore_errors=True)
    return open_dir(str(folder))


def _swap_in(aside: Path, folder: Path) -> None:
    """Rename the new index into place; the old one is moved away first, then deleted."""
    old = folder.parent / f"index-old-{uuid.uuid4().hex[:8]}"
    with contextlib.suppress(FileNotFoundError):
        os.rename(folder, old)
    try:
        os.rename(aside, folder)
    except OSError:
        if not folder.is_dir():  # nobody else swapped one in: put the old one back
            os.rename(old, folder)
            raise
    shutil.rmtree(old, ignore_errors=True)


def _catch_up(ix: FileIndex, kb: KnowledgeBase, languages: list[str]) -> IndexUpdate:
    """Re-index the documents whose hash changed, add new ones and delete removed ones."""
    wanted = {f"{kind}:{item.id}": (kind, item) for kind, item in _items(kb)}
    writer = ix.writer(timeout=_LOCK_WAIT)
    try:
        stored = {fields_["key"]: fields_.get("hash") for _, fields_ in writer.reader().iter_docs()}
        removed = [key for key in stored if key not in wanted]
        changed = [key for key, (kind, item) in wanted.items()
                   if key in stored and stored[key] != _doc_hash(kind, item)]
        added = [key for key in wanted if key not in stored]
        for key in removed:
            writer.delete_by_term("key", key)
        _fill(writer, (_document(*wanted[key], languages) for key in (*changed, *added)))
    except BaseException:
        writer.cancel()
        raise
    if removed or changed or added:
        writer.commit()
    else:
        writer.cancel()
    return IndexUpdate(False, len(added), len(changed), len(removed))


def open_index(kb: KnowledgeBase) -> tuple[SearchIndex, IndexUpdate]:
    """The KB's index, brought up to date first (rebuilt with a warning when it is damaged)."""
    languages = kb_languages(kb) or [kb.config.default_language]
    schema_id = _schema_id(languages)
    folder = index_folder(kb.root)
    meta = _read_meta(folder)
    if meta is None or meta.get("schema") != schema_id:
        if meta is None and folder.exists():
            log.warning("kb: the search index in %s is incomplete; rebuilding it", folder)
        return SearchIndex(_rebuild(kb, languages), kb, languages), IndexUpdate(rebuilt=True)
    try:
        ix = open_dir(str(folder))
        update = IndexUpdate()
        if meta.get("fingerprint") != kb.fingerprint:
            update = _catch_up(ix, kb, languages)
            _write_meta(folder, schema_id, kb.fingerprint)
        return SearchIndex(ix, kb, languages), update
    except LockError:
        log.warning("kb: another kb is updating the search index; results may be a little out of date")
        return SearchIndex(open_dir(str(folder)), kb, languages), IndexUpdate()
    except Exception as error:  # whoosh raises many kinds on damaged files
        log.warning("kb: the search index in %s is damaged (%s); rebuilding it",
                    folder, type(error).__name__)
        return SearchIndex(_rebuild(kb, languages), kb, languages), IndexUpdate(rebuilt=True)


def update_index(kb: KnowledgeBase) -> IndexUpdate:
    """Bring .kb/index up to date with the KB (for `kb build` and other writers)."""
    index, update = open_index(kb)
    index.close()
    return update


# --- queries ------------------------------------------------------------------------------

class _FriendlyFieldsPlugin(qparser.FieldsPlugin):
    """`title:`, `tag:`, `kind:`... in the users' words; an unknown `word:` stays plain text."""

    def __init__(self) -> None:
        super().__init__(remove_unknown=False)

    def do_fieldnames(self, parser: qparser.QueryParser, group: syntax.GroupNode) -> syntax.GroupNode:
        cleaned = group.empty_copy()
        pending = None
        for node in group:
            if isinstance(node, syntax.FieldnameNode):
                name = FIELD_NAMES.get(node.fieldname.lower())
                if name is None:
                    pending = node  # "Error: ..." is text, not a field
                    continue
                node.fieldname = name
            elif pending is not None:
                if node.has_text:
                    node.text = pending.original + node.text
                else:
                    cleaned.append(syntax.to_word(pending))
                pending = None
            cleaned.append(node)
        if pending is not None:
            cleaned.append(syntax.to_word(pending))
        return super().do_fieldnames(parser, cleaned)


class _LanguageFieldsPlugin(qparser.Plugin):
    """Expands `title:x` into the title fields of every language searched."""

    def __init__(self, languages: list[str]) -> None:
        self.languages = languages

    def filters(self, parser: qparser.QueryParser) -> list[tuple[Callable[..., Any], int]]:
        return [(self.expand, 105)]  # after field names (100), before the multifield step (110)

    def expand(self, parser: qparser.QueryParser, group: syntax.GroupNode) -> syntax.GroupNode:
        for position, node in enumerate(group):
            if isinstance(node, syntax.GroupNode):
                group[position] = self.expand(parser, node)
            elif node.has_fieldname and node.fieldname in FIELD_BOOSTS:
                copies = []
                for lang in self.languages:
                    each = copy.copy(node)
                    each.set_fieldname(f"{node.fieldname}_{lang}", override=True)
                    copies.append(each)
                group[position] = syntax.OrGroup(copies)
        return group


class _Marker(highlight.Formatter):
    between = " … "

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        return f"{MARK_START}{highlight.get_text(text, token, replace)}{MARK_END}"


_QUOTED = re.compile(r'"[^"]*"')
_OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"}
_BINARY = _OPERATORS - {"NOT"}
_QUERY_WORD = re.compile(r"(?<![\w:])(?:(\w+):)?([^\W_]+)")


def check_syntax(query: str) -> None:
    """Raise QueryError for what the parser would silently drop: an open quote, a lone AND, ..."""
    if not query.strip():
        raise QueryError("the query is empty: type one or more words to search for")
    if query.count('"') % 2:
        raise QueryError('a phrase is not closed: add the closing double quote (")')
    unquoted = _QUOTED.sub(" x ", query)
    depth = 0
    for char in unquoted:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            raise QueryError("a ')' has no '(' before it")
    if depth:
        raise QueryError("a '(' is not closed: add the ')'")
    tokens = re.sub(r"([()])", r" \1 ", unquoted).split()
    for position, token in enumerate(tokens):
        before = tokens[position - 1] if position else "("
        after = tokens[position + 1] if position + 1 < len(tokens) else ")"
        if token in _BINARY and (before in _OPERATORS or before == "(" or after in _BINARY
                                 or after == ")"):
            raise QueryError(f"'{token}' needs a word on both sides, e.g. vpn {token} wifi")
        if token == "NOT" and (after in _OPERATORS or after == ")"):
            raise QueryError("'NOT' needs a word after it, e.g. printer NOT scanner")
        name = token[:-1].lower() if token.endswith(":") else None
        if name in FIELD_NAMES and after == ")":
            raise QueryError(f"'{token}' needs a word after it, e.g. {name}:vpn")


_LANGUAGE_PREFERENCE = 2.0  # weight of the fields in the language a query appears to be written in


def query_language_weights(query: str, languages: list[str]) -> dict[str, float]:
    """Weigh up the language whose stop words the query uses most ("ik ben mijn ..." is Dutch)."""
    words = [word.lower() for word in re.findall(r"[^\W\d_]+", query)]
    counts = {lang: sum(word in _stop_words(lang) for word in words) for lang in languages}
    best = max(counts.values(), default=0)
    leaders = [lang for lang, count in counts.items() if count == best]
    if best == 0 or len(leaders) > 1:
        return dict.fromkeys(languages, 1.0)
    return {lang: _LANGUAGE_PREFERENCE if lang == leaders[0] else 1.0 for lang in languages}


@functools.cache
def _stop_words(lang: str) -> frozenset[str]:
    try:
        return frozenset(stopwords_for_language(lang))
    except NoStopWords:
        return frozenset()


class SearchIndex:
    """An open index of one compiled KB; `search` runs one query with filters."""

    def __init__(self, ix: Any, kb: KnowledgeBase, languages: list[str]) -> None:
        self.ix = ix
        self.kb = kb
        self.languages = languages

    def close(self) -> None:
        self.ix.close()

    def parse(self, query: str, languages: list[str], internal: bool) -> wq.Query:
        check_syntax(query)
        names = FIELD_BOOSTS if internal else _PUBLIC_FIELDS
        search_fields = [f"{name}_{lang}" for lang in languages for name in names]
        weights = query_language_weights(query, languages)
        boosts = {f"{name}_{lang}": FIELD_BOOSTS[name] * weights[lang]
                  for lang in languages for name in names}
        # Plain OrGroup, not OrGroup.factory(): whoosh 2.7's coordination bonus scores a query with
        # one matching term 0, and BM25F already sums the evidence of every word and field.
        parser = qparser.MultifieldParser(search_fields, self.ix.schema, fieldboosts=boosts,
                                          group=qparser.OrGroup)
        parser.remove_plugin_class(qparser.FieldsPlugin)
        parser.add_plugin(_FriendlyFieldsPlugin())
        parser.add_plugin(_LanguageFieldsPlugin(languages))
        try:
            parsed = parser.parse(query)
        except Exception as error:
            raise QueryError(f"the query cannot be read ({error})") from None
        self._check_values(parsed)
        return _narrowing(parsed)

    def _check_values(self, parsed: wq.Query) -> None:
        for leaf in parsed.leaves():
            error = getattr(leaf, "error", None)
            if error:
                raise QueryError(f"the query cannot be read ({error})")
            field, text = getattr(leaf, "fieldname", None), getattr(leaf, "text", None)
            if not isinstance(text, str) or not isinstance(leaf, wq.Term):
                continue
            if field == "kind" and text not in KINDS:
                raise QueryError(f"kind:{text} - a kind is 'article' or 'tree'")
            if field == "lang" and text not in self.languages:
                raise QueryError(f"lang:{text} - this KB's languages are {', '.join(self.languages)}")

    def search(self, query: str, *, kind: str | None = None, lang: str | None = None,
               tags: Iterable[str] = (), audience: str | None = None, drafts: bool = False,
               limit: int = 10) -> Found:
        """Rank the documents that match `query` and pass the filters (see kbengine.search)."""
        if lang is not None and lang not in self.languages:
            raise QueryError(f"there is no content in '{lang}': this KB's languages are "
                             f"{', '.join(self.languages)}")
        parsed = self.parse(query, [lang] if lang else self.languages, internal=audience != "public")
        only = _filter(kind, lang, tags, audience, drafts)
        with self.ix.searcher() as searcher:
            try:
                # optimize=False: whoosh 2.7's block-quality skipping loses matches of NOT queries,
                # and without it the collector counts every filtered match in the same pass
                collector = searcher.collector(limit=max(1, limit), filter=only, optimize=False)
                searcher.search_with_collector(parsed, collector)
                results = collector.results()
                results.formatter = _Marker()
                matches = [Match(hit["key"], float(hit.score), self._snippet(hit, audience))
                           for hit in results]
                total = collector.count()
            except Exception as error:  # whoosh fails on a few odd query shapes: say which
                if _healthy(searcher):
                    raise QueryError(f"this query cannot be run ({type(error).__name__}); "
                                     "try simpler words") from None
                raise
            suggestion = self.suggest(searcher, query, public_only=audience == "public")
        return Found(matches, total, suggestion)

    def _snippet(self, hit: Any, audience: str | None) -> str:
        kind, _, item_id = hit["key"].partition(":")
        item = (self.kb.articles if kind == "article" else self.kb.trees).get(item_id)
        if item is None:
            return ""
        lang = item.lang if item.lang in self.languages else self.languages[0]
        texts = _document_texts(kind, item)
        for name in _SNIPPET_FIELDS:
            if not texts[name] or (name == "internal" and audience == "public"):
                continue
            hit.results.fragmenter = _WHOLE if name in _SHORT_FIELDS else _AROUND
            marked = hit.highlights(f"{name}_{lang}", text=texts[name][:_HIGHLIGHT_CHARS], top=2)
            if marked:
                return shorten(marked, _SNIPPET_CHARS + 60)
        return shorten(item.summary or texts["body"])

    def suggest(self, searcher: Any, query: str, *, public_only: bool) -> str | None:
        """The query with each unknown word replaced by the closest frequent word of the KB."""
        reader = searcher.reader()
        sources = ["words_public"] if public_only else ["words_public", "words_other"]
        changed = False

        def replace(match: re.Match[str]) -> str:
            nonlocal changed
            field, word = match.group(1), match.group(2)
            lower = word.lower()
            if (field and field.lower() in FIELD_NAMES) or len(lower) < 4 or word in _OPERATORS \
                    or any(c.isdigit() for c in lower) \
                    or any((source, lower) in reader for source in sources):
                return match.group(0)
            best = _closest(reader, sources, lower)
            if best is None:
                return match.group(0)
            changed = True
            best = best.capitalize() if word[:1].isupper() else best
            return match.group(0)[: match.start(2) - match.start(0)] + best

        corrected = _QUERY_WORD.sub(replace, query)
        return corrected if changed else None


_NARROWING_FIELDS = {"kind", "lang", "category", "tag", "id"}


def _narrowing(parsed: wq.Query) -> wq.Query:
    """Words rank; `kind:tree`-style filters and `NOT word` narrow instead of being one more option."""
    if isinstance(parsed, wq.And | wq.AndNot | wq.Not):
        return parsed.apply(_narrowing)
    if not isinstance(parsed, wq.Or):
        return parsed
    filters: list[wq.Query] = []
    excluded: list[wq.Query] = []
    words: list[wq.Query] = []
    for subquery in parsed.subqueries:
        if isinstance(subquery, wq.Not):
            excluded.append(subquery.query)
        elif getattr(subquery, "fieldname", None) in _NARROWING_FIELDS:
            filters.append(subquery)
        else:
            words.append(_narrowing(subquery))
    if not words:  # only filters, or only NOT: nothing to rank, keep the query as written
        return parsed
    narrowed = words[0] if len(words) == 1 else wq.Or(words, boost=parsed.boost, scale=parsed.scale)
    if filters:
        narrowed = wq.And([*filters, narrowed])
    if excluded:
        narrowed = wq.AndNot(narrowed, excluded[0] if len(excluded) == 1 else wq.Or(excluded))
    return narrowed


def _closest(reader: Any, sources: list[str], word: str) -> str | None:
    """The most frequent known word one edit away (two for longer words), first letter kept."""
    for distance in (1, 2) if len(word) > 5 else (1,):
        candidates = {candidate: sum(reader.doc_frequency(source, candidate) for source in sources)
                      for source in sources
                      for candidate in reader.terms_within(source, word, distance, prefix=1)}
        if candidates:
            return max(sorted(candidates), key=lambda candidate: candidates[candidate])
    return None


def _healthy(searcher: Any) -> bool:
    try:
        searcher.search(wq.Every(), limit=1)
        return True
    except Exception:
        return False


def _filter(kind: str | None, lang: str | None, tags: Iterable[str], audience: str | None,
            drafts: bool) -> wq.Query:
    statuses = ["published", "draft"] if drafts else ["published"]
    parts: list[wq.Query] = [wq.Or([wq.Term("status", status) for status in statuses])]
    if kind:
        parts.append(wq.Term("kind", kind))
    if lang:
        parts.append(wq.Term("lang", lang))
    if audience:
        parts.append(wq.Term("audience", audience))
    parts.extend(wq.Term("tag", tag.strip().lower()) for tag in tags if tag.strip())
    return wq.And(parts)


def shorten(text: str, limit: int = _SNIPPET_CHARS) -> str:
    """The first words of `text`, at most about `limit` characters, with … when cut; never cuts a mark."""
    text = _SPACE.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    if cut.count(MARK_START) > cut.count(MARK_END):
        cut = cut[: cut.rindex(MARK_START)].rstrip()
    return cut + " …"
