"""The search index in .kb/index: the one module that talks to Whoosh.

Each document (an article or a tree) fills the analysed fields of its own language
(`lead_en`, `body_nl`, ...); a query is parsed over the fields of the KB's languages.
The index follows the KB incrementally by a content hash stored with every document; a
full rebuild is written aside and swapped in, so a killed run never leaves half an index.
Queries of plain words (nearly all of them) are ranked here from whoosh's posting blocks,
with whoosh's own BM25F formula; other queries are ranked by whoosh's matchers.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import heapq
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoosh import fields, qparser
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
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher
from whoosh.filedb.filestore import RamStorage
from whoosh.index import FileIndex, LockError, create_in, open_dir
from whoosh.lang import NoStemmer, NoStopWords, stopwords_for_language
from whoosh.matching.wrappers import FilterMatcher
from whoosh.qparser import syntax
from whoosh.support.charset import accent_map
from whoosh.util.numeric import byte_to_length

from kbengine.kb import CACHE_DIR, KnowledgeBase
from kbengine.model import Article, Tree
from kbengine.search import KINDS, MARK_END, MARK_START, QueryError

log = logging.getLogger("kbengine")

INDEX_DIR = "index"
_META = "kbengine-index.json"
_SCHEMA_VERSION = 2  # bump when the fields or the analysis change: forces a full rebuild
_LOCK_WAIT = 5.0  # seconds to wait for another kb that is updating the same index
_LEFTOVER_AGE = 600  # seconds after which an aside folder is a killed run's leftover

# Ranked per-language fields, their texts and weight: the words people type are in titles,
# tree symptoms and tags far more often than deep in a body. A plain word is looked up in each,
# so the texts share a few fields; and they keep no word positions, which makes their postings
# four times faster to read.
RANKED_FIELDS = {"lead": ("title", "symptoms"), "about": ("summary", "keywords", "headings"),
                 "content": ("body",), "agent": ("internal",)}
FIELD_BOOSTS = {"lead": 3.0, "about": 2.5, "content": 1.0, "agent": 1.0}  # tuned on tests/test_relevance.py
_PUBLIC_FIELDS = ("lead", "about", "content")
# Each text on its own, with word positions: for `title:vpn`-style queries and for phrases.
NAMED_FIELDS = ("title", "summary", "symptoms", "headings", "body", "internal")
_QUERY_FIELDS = set(NAMED_FIELDS) - {"internal"}  # the ones a `field:` query may name
# Where a phrase in a ranked field is looked for instead (tags, category and id: not phrases).
_PHRASE_FIELDS = {"lead": ("title", "symptoms"), "about": ("summary", "headings"),
                  "content": ("body",), "agent": ("internal",)}
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
_SHORT_FIELDS = {"symptoms", "summary", "title"}  # shown whole, not as passages
_PASSAGE_CHARS, _CONTEXT_CHARS = _SNIPPET_CHARS // 2, 40  # a passage of a long text, and its context


@dataclass(frozen=True, slots=True)
class Match:
    """One ranked document: `kind:id` key, score and a snippet with [[marked]] words."""

    key: str
    score: float
    snippet: str


Ranked = list[tuple[int, float]]  # (document number, score), best first


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
        for name in RANKED_FIELDS:
            schema.add(f"{name}_{lang}", fields.TEXT(analyzer=analyzer, phrase=False))
        for name in NAMED_FIELDS:
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
    """Each searchable text of a document: title, summary, symptoms, headings, body, ..."""
    return {**_short_texts(item), **_long_texts(item)}


def _short_texts(item: Article | Tree) -> dict[str, str]:
    symptoms = "; ".join(item.symptoms) if isinstance(item, Tree) else ""
    headings = "" if isinstance(item, Tree) else "; ".join(h.text for h in item.headings)
    keywords = " ".join([*item.tags, item.category, item.id.replace("-", " ").replace("/", " ")])
    return {"title": item.title, "summary": item.summary, "symptoms": symptoms,
            "headings": headings, "keywords": keywords}


def _long_texts(item: Article | Tree, markdown_chars: int | None = None) -> dict[str, str]:
    """Body and internal text; an article's body from its first `markdown_chars` only, if given."""
    if isinstance(item, Tree):
        body, internal = _tree_texts(item)
    else:
        body, internal = plain_text(item.body[:markdown_chars]), ""
    return {"body": body, "internal": internal}


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
    for name, parts in RANKED_FIELDS.items():
        text = "\n".join(texts[part] for part in parts if texts[part])
        if text:
            document[f"{name}_{lang}"] = text
    for name in NAMED_FIELDS:
        if texts[name]:
            document[f"{name}_{lang}"] = texts[name]
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


def index_is_current(kb: KnowledgeBase) -> bool:
    """True when .kb/index was last brought up to date with exactly this KB (a cheap check)."""
    meta = _read_meta(index_folder(kb.root))
    return (meta is not None and meta.get("fingerprint") == kb.fingerprint
            and str(meta.get("schema", "")).startswith(f"{_SCHEMA_VERSION}:"))


def update_index(kb: KnowledgeBase) -> IndexUpdate:
    """Bring .kb/index up to date with the KB (for `kb build` and other writers)."""
    index, update = open_index(kb)
    index.close()
    return update


_KEPT_OPEN = 4  # open indexes a process keeps (one per KB folder)
_kept: dict[Path, tuple[tuple[str, tuple[int, int, int]], SearchIndex]] = {}
_kept_lock = threading.Lock()


def _stamp(folder: Path) -> tuple[int, int, int] | None:
    """Changes whenever the index in `folder` is updated or replaced (its record is rewritten)."""
    try:
        status = (folder / _META).stat()
    except OSError:
        return None
    return status.st_ino, status.st_mtime_ns, status.st_size


def shared_index(kb: KnowledgeBase) -> SearchIndex:
    """The KB's index, up to date and kept open for the next search while neither KB nor index change."""
    folder = index_folder(kb.root)
    with _kept_lock:
        kept = _kept.pop(folder, None)
        stamp = _stamp(folder)
        if kept is not None and stamp is not None and kept[0] == (kb.fingerprint, stamp):
            index = kept[1]
            index.kb = kb  # the same content (same fingerprint); the caller's objects
        else:
            if kept is not None:
                kept[1].close()
            index, _ = open_index(kb)
            stamp = _stamp(folder)
            if stamp is None:  # searching from memory: nothing on disk tells when it is stale
                return index
        _kept[folder] = ((kb.fingerprint, stamp), index)  # newest last
        while len(_kept) > _KEPT_OPEN:
            _kept.pop(next(iter(_kept)))[1].close()
        return index


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
            elif node.has_fieldname and node.fieldname in _QUERY_FIELDS:
                copies = []
                for lang in self.languages:
                    each = copy.copy(node)
                    each.set_fieldname(f"{node.fieldname}_{lang}", override=True)
                    copies.append(each)
                group[position] = syntax.OrGroup(copies)
        return group


@functools.lru_cache(maxsize=256)
def _candidates(beginnings: frozenset[str]) -> re.Pattern[str]:
    """The words (as whoosh's RegexTokenizer finds them) that begin with one of `beginnings`,
    or with a letter that accent folding may turn into one."""
    starts = "|".join(re.escape(beginning) for beginning in sorted(beginnings, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?<!\w\.)(?:{starts}|[^\W\x00-\x7f])\w*(?:\.?\w+)*", re.IGNORECASE)


def _matched_spans(text: str, words: frozenset[str], analyzer: Analyzer) -> list[tuple[int, int]]:
    """Where in `text` the words are whose analysed form is one of `words` (start, end).

    Only words that begin like one of `words` go through the (slow) analyser: stemming
    keeps the beginning of a word, so the others cannot match.
    """
    beginnings = frozenset(word[:2] for word in words)
    seen: dict[str, bool] = {}
    spans = []
    for found in _candidates(beginnings).finditer(text):
        word = found.group().lower().translate(accent_map)
        matched = seen.get(word)
        if matched is None:
            matched = seen[word] = word[:2] in beginnings and any(
                token.text in words for token in analyzer(word))
        if matched:
            spans.append(found.span())
    return spans


def _passages(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The two passages of about _PASSAGE_CHARS with the most matched words, in text order."""
    passages: list[tuple[int, int, int]] = []  # start, end, matched words
    first = 0
    while first < len(spans):
        last = first
        while last + 1 < len(spans) and spans[last + 1][1] - spans[first][0] <= _PASSAGE_CHARS:
            last += 1
        start = max(0, spans[first][0] - _CONTEXT_CHARS)
        end = min(len(text), spans[last][1] + _CONTEXT_CHARS)
        while start < spans[first][0] and text[start - 1:start].isalnum():  # whole words only
            start += 1
        while end > spans[last][1] and text[end:end + 1].isalnum():
            end -= 1
        passages.append((start, end, last - first + 1))
        first = last + 1
    best = sorted(passages, key=lambda passage: -passage[2])[:2]
    return sorted((start, end) for start, end, _ in best)


def _mark(text: str, spans: list[tuple[int, int]], start: int, end: int) -> str:
    """text[start:end] with each matched word between the marks."""
    pieces = []
    for span_start, span_end in spans:
        if start <= span_start and span_end <= end:
            pieces += [text[start:span_start], MARK_START, text[span_start:span_end], MARK_END]
            start = span_end
    pieces.append(text[start:end])
    return "".join(pieces).strip()


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
        self._searcher: Any = None  # opened on the first search, kept for the next ones
        self._parsers: dict[tuple[Any, ...], qparser.QueryParser] = {}
        self._allowed: dict[tuple[Any, ...], set[int]] = {}  # never changed once made
        self._field_norms: dict[tuple[int, str], list[float]] = {}
        self._lock = threading.Lock()  # one whoosh searcher reads files: one query at a time

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None
            self.ix.close()

    def _parser(self, languages: list[str], internal: bool,
                weights: dict[str, float]) -> qparser.QueryParser:
        key = (tuple(languages), internal, tuple(sorted(weights.items())))
        parser = self._parsers.get(key)
        if parser is None:
            names = FIELD_BOOSTS if internal else _PUBLIC_FIELDS
            search_fields = [f"{name}_{lang}" for lang in languages for name in names]
            boosts = {f"{name}_{lang}": FIELD_BOOSTS[name] * weights[lang]
                      for lang in languages for name in names}
            # Plain OrGroup, not OrGroup.factory(): whoosh 2.7's coordination bonus scores a query
            # with one matching term 0, and BM25F already sums the evidence of every word and field.
            parser = qparser.MultifieldParser(search_fields, self.ix.schema, fieldboosts=boosts,
                                              group=qparser.OrGroup)
            parser.remove_plugin_class(qparser.FieldsPlugin)
            parser.add_plugin(_FriendlyFieldsPlugin())
            parser.add_plugin(_LanguageFieldsPlugin(languages))
            self._parsers[key] = parser
        return parser

    def parse(self, query: str, languages: list[str], internal: bool) -> wq.Query:
        check_syntax(query)
        parser = self._parser(languages, internal, query_language_weights(query, languages))
        try:
            parsed = parser.parse(query)
        except Exception as error:
            raise QueryError(f"the query cannot be read ({error})") from None
        self._check_values(parsed)
        return _narrowing(_phrases_in_named_fields(parsed))

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
        with self._lock:
            if self._searcher is None:
                self._searcher = self.ix.searcher()
            searcher = self._searcher
            try:
                allowed = self._allowed_documents(searcher, (kind, lang, tuple(tags), audience, drafts))
                if not allowed:  # (whoosh reads an empty filter as no filter at all)
                    return Found([], 0, self.suggest(searcher, query, public_only=audience == "public"))
                words = _word_terms(parsed, searcher.schema)
                if words is not None:  # plain words, by far the most common query
                    ranked, total = _rank_words(searcher, words, allowed, max(1, limit), self._norms)
                else:
                    ranked, total = _rank_query(searcher, parsed, allowed, max(1, limit))
                matches = self._matches(searcher, parsed, ranked, audience)
            except Exception as error:  # whoosh fails on a few odd query shapes: say which
                if _healthy(searcher):
                    raise QueryError(f"this query cannot be run ({type(error).__name__}); "
                                     "try simpler words") from None
                raise
            suggestion = self.suggest(searcher, query, public_only=audience == "public")
        return Found(matches, total, suggestion)

    def _norms(self, searcher: Any, reader: Any, offset: int, field: str) -> list[float]:
        """BM25's length part of `field` for each document of a segment; made once per searcher."""
        norms = self._field_norms.get((offset, field)) if searcher is self._searcher else None
        if norms is None:
            weighting = searcher.weighting
            k1, b = weighting.K1, weighting._field_B.get(field, weighting.B)
            average = searcher.avg_field_length(field) or 1
            norms = [k1 * ((1 - b) + b * length / average) for length in _field_lengths(reader, field)]
            if searcher is self._searcher:
                self._field_norms[(offset, field)] = norms
        return norms

    def _allowed_documents(self, searcher: Any, filters: tuple[Any, ...]) -> set[int]:
        """The document numbers that pass the filters; kept, as every query of a filter needs them."""
        allowed = self._allowed.get(filters)
        if allowed is None:
            if len(self._allowed) >= 64:
                self._allowed.clear()
            allowed = self._allowed[filters] = _documents(searcher, _filter(*filters))
        return allowed

    def _matches(self, searcher: Any, parsed: wq.Query, ranked: Ranked,
                 audience: str | None) -> list[Match]:
        if not ranked:
            return []
        words = self._query_words(searcher, parsed)
        keys = [searcher.stored_fields(number)["key"] for number, _ in ranked]
        return [Match(key, float(score), self._snippet(key, words, audience, searcher.schema))
                for key, (_, score) in zip(keys, ranked, strict=True)]

    def _query_words(self, searcher: Any, parsed: wq.Query) -> dict[str, frozenset[str]]:
        """The analysed words of the query (prefixes expanded) per language, to mark in snippets."""
        schema = searcher.schema
        field_langs = {f"{name}_{lang}": lang for lang in self.languages
                       for name in (*RANKED_FIELDS, *NAMED_FIELDS)}
        words: dict[str, set[str]] = {lang: set() for lang in self.languages}
        reader = searcher.reader()
        for leaf in parsed.leaves():  # (Query.existing_terms stops at the first leaf's field)
            for field, text in leaf.expanded_terms(reader):
                if field in field_langs:
                    words[field_langs[field]].add(
                        schema[field].from_bytes(text) if isinstance(text, bytes) else text)
        return {lang: frozenset(found) for lang, found in words.items()}

    def _snippet(self, key: str, words: dict[str, frozenset[str]], audience: str | None,
                 schema: fields.Schema) -> str:
        kind, _, item_id = key.partition(":")
        item = (self.kb.articles if kind == "article" else self.kb.trees).get(item_id)
        if item is None:
            return ""
        lang = item.lang if item.lang in self.languages else self.languages[0]
        texts = _short_texts(item)
        analyzer = schema[f"body_{lang}"].analyzer  # the searcher's: ix.schema reads a new copy each time
        for name in _SNIPPET_FIELDS:
            if name not in texts:  # the long texts only when no short one has a matched word
                texts.update(_long_texts(item, 2 * _HIGHLIGHT_CHARS))
            if not texts[name] or not words[lang] or (name == "internal" and audience == "public"):
                continue
            text = texts[name][:_HIGHLIGHT_CHARS]
            spans = _matched_spans(text, words[lang], analyzer)
            if spans:
                passages = [(0, len(text))] if name in _SHORT_FIELDS else _passages(text, spans)
                marked = " … ".join(_mark(text, spans, start, end) for start, end in passages)
                return shorten(marked, _SNIPPET_CHARS + 60)
        return shorten(item.summary or _long_texts(item, 2 * _HIGHLIGHT_CHARS)["body"])

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


def _phrases_in_named_fields(parsed: wq.Query) -> wq.Query:
    """A phrase in a ranked field (no word positions there) is looked for in the texts it holds."""
    if isinstance(parsed, wq.Phrase):
        base, _, lang = parsed.fieldname.partition("_")
        if base not in _PHRASE_FIELDS:
            return parsed
        copies = [wq.Phrase(f"{name}_{lang}", parsed.words, slop=parsed.slop, boost=parsed.boost)
                  for name in _PHRASE_FIELDS[base]]
        return copies[0] if len(copies) == 1 else wq.Or(copies)
    return parsed if parsed.is_leaf() else parsed.apply(_phrases_in_named_fields)


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


def _rank_query(searcher: Any, parsed: wq.Query, allowed: set[int], limit: int) -> tuple[Ranked, int]:
    """Whoosh's own ranking, for phrases, AND, NOT, prefixes and fields that narrow."""
    # Block-quality skipping ranks without scoring every match; whoosh 2.7 loses matches of
    # NOT queries with it, so those are scored (and counted) in full.
    skipping = not _has_not(parsed)
    collector = searcher.collector(limit=limit, filter=allowed, optimize=skipping)
    searcher.search_with_collector(parsed, collector)
    results = collector.results()
    ranked = [(hit.docnum, hit.score) for hit in results]
    if not skipping or len(ranked) < limit:
        return ranked, collector.count()  # nothing was skipped: the count is exact
    return ranked, len(_documents(searcher, parsed) & allowed)


def _has_not(parsed: wq.Query) -> bool:
    return isinstance(parsed, wq.Not | wq.AndNot) or any(_has_not(child) for child in parsed.children())


def _documents(searcher: Any, parsed: wq.Query) -> set[int]:
    """The numbers of the documents that match `parsed`, found without scoring them."""
    if type(parsed) is wq.Term:
        return _term_documents(searcher, parsed.fieldname, parsed.text)
    if type(parsed) is wq.Or and not parsed.minmatch:
        return set().union(*(_documents(searcher, child) for child in parsed.subqueries))
    if type(parsed) is wq.And:
        found: set[int] | None = None
        for child in parsed.subqueries:
            found = _documents(searcher, child) if found is None else found & _documents(searcher, child)
            if not found:
                return set()
        return found or set()
    if type(parsed) is wq.AndMaybe:
        return _documents(searcher, parsed.a)
    if type(parsed) is wq.AndNot:
        return _documents(searcher, parsed.a) - _documents(searcher, parsed.b)
    return set(searcher.docs_for_query(parsed))  # phrases, prefixes, ...: whoosh's own way


def _term_documents(searcher: Any, field: str, text: str) -> set[int]:
    """The documents with a term, read a posting block at a time."""
    found: set[int] = set()
    if field in searcher.schema:
        for leaf, offset in searcher.leaf_searchers():
            for ids, _, deleted in _posting_blocks(leaf.reader(), field, text, weights=False):
                found.update(number + offset for number in ids if number not in deleted)
    return found


def _posting_blocks(reader: Any, field: str, text: str, *,
                    weights: bool) -> Iterator[tuple[Sequence[int], Sequence[float], frozenset[int]]]:
    """(document numbers, term frequencies, deleted numbers) of a term in one segment, by block.

    Whoosh's matchers step posting by posting through several Python calls each; reading
    whoosh 2.7's blocks whole is many times faster for long posting lists.
    """
    if (field, text) not in reader:
        return
    postings = reader.postings(field, text)
    deleted: frozenset[int] = frozenset()
    if isinstance(postings, FilterMatcher):  # the segment has deleted documents
        deleted, postings = postings._ids, postings.child
    if not isinstance(postings, W3LeafMatcher):  # another codec: the slow, public way
        ids, frequencies = [], []
        while postings.is_active():
            ids.append(postings.id())
            frequencies.append(postings.weight())
            postings.next()
        yield ids, frequencies, deleted
        return
    while postings.is_active():
        if postings._ids is None:
            postings._read_ids()
        if weights and postings._weights is None:
            postings._read_weights()
        yield postings._ids, postings._weights if weights else (), deleted
        postings._next_block()


def _word_terms(parsed: wq.Query, schema: Any, boost: float = 1.0) -> list[tuple[str, str, float]] | None:
    """(field, word, boost) of a query made of words only (terms joined by OR), else None."""
    if type(parsed) is wq.Term:
        if parsed.fieldname not in schema or not schema[parsed.fieldname].scorable \
                or not isinstance(parsed.text, str):
            return None
        return [(parsed.fieldname, parsed.text, boost * parsed.boost)]
    if type(parsed) is wq.Or and not parsed.minmatch and not parsed.scale:
        terms: list[tuple[str, str, float]] = []
        for child in parsed.subqueries:
            found = _word_terms(child, schema, boost * parsed.boost)
            if found is None:
                return None
            terms.extend(found)
        return terms
    return None


def _rank_words(searcher: Any, terms: list[tuple[str, str, float]], allowed: set[int], limit: int,
                norms: Callable[[Any, Any, int, str], Sequence[float]]) -> tuple[Ranked, int]:
    """Whoosh's BM25F ranking of a words-only query, summed term by term over whole posting blocks.

    The same scores as whoosh's own matchers (and so the same order), several times faster
    because no per-document matcher tree is walked; the total comes exact, for free.
    """
    k1 = searcher.weighting.K1
    everything = len(allowed) == searcher.doc_count_all()  # then no need to look each one up
    scores: dict[int, float] = {}
    for field, text, boost in terms:
        # bm25 = idf * tf * (k1 + 1) / (tf + norm), norm = k1 * (1 - b + b * length / average)
        top = searcher.idf(field, text) * (k1 + 1) * boost
        for leaf, offset in searcher.leaf_searchers():
            reader = leaf.reader()
            norm = norms(searcher, reader, offset, field)
            for ids, frequencies, _ in _posting_blocks(reader, field, text, weights=True):
                documents = [number + offset for number in ids] if offset else ids
                block = zip(documents, [top * frequency / (frequency + norm[number])
                                        for number, frequency in zip(ids, frequencies, strict=True)],
                            strict=True)
                for document, score in block:
                    if everything or document in allowed:
                        scores[document] = scores.get(document, 0.0) + score
    if len(scores) <= limit:
        best = list(scores.items())
    else:  # the limit-th best score, then every document that reaches it (ties: as whoosh orders them)
        lowest = heapq.nlargest(limit, scores.values())[-1]
        best = [(document, score) for document, score in scores.items() if score >= lowest]
    best.sort(key=lambda item: (-item[1], item[0]))
    return best[:limit], len(scores)


def _field_lengths(reader: Any, field: str) -> list[int]:
    """The length of `field` in every document of a segment, as whoosh rounds it for scoring."""
    count = reader.doc_count_all()
    try:  # whoosh 2.7 keeps one length byte per document in a column: read it whole
        column = reader._perdoc._cached_reader(f"_{field}_len", LENGTHS_COLUMN)
        raw = column._dbfile.get(column._basepos, column._count) if column is not None else b""
    except AttributeError:
        return [reader.doc_field_length(number, field, 0) or 0 for number in range(count)]
    return [byte_to_length(byte) for byte in raw[:count]] + [0] * (count - len(raw))


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
