"""An article or a tree as an index document: its plain texts, the fields they fill, the schema."""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from whoosh import fields
from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    IDTokenizer,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.lang import NoStemmer, NoStopWords, stemmer_for_language
from whoosh.support.charset import accent_map

from kbengine.search.words import COMPOUNDING, CodePartsFilter, compound_words

if TYPE_CHECKING:  # a search of an unchanged KB does not load the model
    from typing_extensions import TypeIs

    from kbengine.kb import KnowledgeBase
    from kbengine.model import Article, Tree

SCHEMA_VERSION = 5  # bump when the fields or the analysis change: forces a full rebuild

# Ranked per-language fields, their texts and weight: the words people type are in titles,
# tree symptoms and tags far more often than deep in a body. A plain word is looked up in each,
# so the texts share a few fields; and they keep no word positions, which makes their postings
# four times faster to read.
RANKED_FIELDS = {"lead": ("title", "symptoms"), "about": ("summary", "keywords", "headings"),
                 "content": ("body",), "agent": ("internal",)}
FIELD_BOOSTS = {"lead": 3.0, "about": 2.5, "content": 1.0, "agent": 1.0}  # tuned on tests/test_relevance.py
PUBLIC_FIELDS = ("lead", "about", "content")
# Each text on its own, with word positions: for `title:vpn`-style queries and for phrases.
NAMED_FIELDS = ("title", "summary", "symptoms", "headings", "body", "internal")
# Where a phrase in a ranked field is looked for instead (tags, category and id: not phrases).
PHRASE_FIELDS = {"lead": ("title", "symptoms"), "about": ("summary", "headings"),
                 "content": ("body",), "agent": ("internal",)}

_INCLUDE = re.compile(r"\[!INCLUDE\s*\[[^\]]*\]\([^)]*\)\]", re.IGNORECASE)
_ALERT = re.compile(r"\[!(?:NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]", re.IGNORECASE)
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_WIKI = re.compile(r"\[\[([^\]|#]+)(?:#[^\]|]*)?(?:\|([^\]]*))?\]\]")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_DOCFX_BLOCK = re.compile(r"^\s*:::.*$", re.MULTILINE)
_FENCE = re.compile(r"^\s*(?:`{3,}|~{3,}).*$", re.MULTILINE)
_HTML = re.compile(r"<[^>\n]+>")
_MARKUP = re.compile(r"[*_`~#>|\[\]{}]+")
SPACE = re.compile(r"\s+")


def plain_text(markdown: str) -> str:
    """The words of a Markdown text without its markup (no `[[`/`]]` left, so marks are unambiguous)."""
    text = _INCLUDE.sub(" ", markdown)
    text = _ALERT.sub(" ", text)
    text = _IMAGE.sub(r" \1 ", text)
    text = _WIKI.sub(lambda m: f" {m.group(2) or m.group(1)} ", text)
    text = _LINK.sub(r" \1 ", text)
    if ":::" in text:  # (the line-wise patterns are slow to try on texts that have none)
        text = _DOCFX_BLOCK.sub(" ", text)
    if "```" in text or "~~~" in text:
        text = _FENCE.sub(" ", text)
    text = _HTML.sub(" ", text)
    text = _MARKUP.sub(" ", text)
    return " ".join(text.split())  # str.split's white space is SPACE's


# Snowball's stemmers in C (PyStemmer), where they give whoosh's stems: checked word for word on
# the bundled KB, the English corpus and the Dutch LibreOffice help (26,372 and 16,909 words).
# Snowball 3 changed its English stems (paste, organize, university...) and renamed the Dutch
# stemmer whoosh has to dutch_porter: hence PyStemmer < 3, and English only before Snowball 3.
_SNOWBALL = {"en": "english", "nl": "dutch"}


class Stem:
    """The stem function of a language: Snowball's C stemmer where it gives whoosh's stems, else
    whoosh's own (pure Python, about 15 times slower). Pickled with an index's schema by its
    language alone, so an index reads the same wherever PyStemmer is or is not installed."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._whoosh: Callable[[str], str] = stemmer_for_language(lang)  # NoStemmer when none
        self._fast = _snowball(lang)
        self.fast = self._fast is not None

    def __call__(self, word: str) -> str:
        fast = self._fast
        # whoosh's English stemmer loses the word's R2 region when "ization"/"izer" becomes
        # "ize" (orgnization: orgnize, where Snowball gives orgniz): such words keep it
        if fast is None or ("iz" in word and self.lang == "en"):
            return self._whoosh(word)
        return fast(word)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Stem) and other.lang == self.lang

    def __hash__(self) -> int:
        return hash(self.lang)

    def __reduce__(self) -> tuple[type[Stem], tuple[str]]:
        return Stem, (self.lang,)


def _snowball(lang: str) -> Callable[[str], str] | None:
    try:
        import Stemmer  # PyStemmer
    except ImportError:
        return None
    algorithms = Stemmer.algorithms()
    if lang not in _SNOWBALL or "dutch_porter" in algorithms:  # (Snowball 3: other stems)
        return None
    # no cache: the index build analyses each word once, and the cache costs more than a stem
    stemmer: Callable[[str], str] = Stemmer.Stemmer(_SNOWBALL[lang], 0).stemWord
    return stemmer


def _analyzer(lang: str) -> Analyzer:
    """Words, lower case, accents folded, the language's stop words and stemmer when it has them."""
    chain = RegexTokenizer() | LowercaseFilter() | CodePartsFilter() | CharsetFilter(accent_map)
    with contextlib.suppress(NoStopWords):
        chain = chain | StopFilter(lang=lang)
    with contextlib.suppress(NoStemmer):
        stem = Stem(lang)
        # (whoosh's stemmer is slow enough for its filter to keep the stems of 50,000 words)
        chain = chain | StemFilter(stem, cachesize=None if stem.fast else 50000)
    return chain


_WORDS = RegexTokenizer() | LowercaseFilter()


def _lower_id() -> fields.ID:
    """A whole-value field matched without regard to case (`kind:Tree` finds trees)."""
    return fields.ID(analyzer=IDTokenizer() | LowercaseFilter())


def build_schema(languages: list[str]) -> fields.Schema:
    schema = fields.Schema(
        key=fields.ID(unique=True, stored=True),
        hash=fields.STORED(),
        shown=fields.STORED(),  # what a hit shows, so a search never loads the KB's articles
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


def schema_id(languages: list[str]) -> str:
    return f"{SCHEMA_VERSION}:{','.join(languages)}"


def _indexed(item: Article | Tree) -> bool:
    return item.status != "archived"  # archived content is never found


def doc_hash(kind: str, item: Article | Tree) -> str:
    """Changes when anything that goes into the document changes (its file, id, path or language)."""
    basis = repr((SCHEMA_VERSION, kind, item.id, item.path, item.lang, item.content_hash))
    return hashlib.blake2b(basis.encode(), digest_size=12).hexdigest()


def _is_tree(item: Article | Tree) -> TypeIs[Tree]:
    from kbengine.model import Tree

    return isinstance(item, Tree)


def _tree_texts(tree: Tree) -> tuple[str, str]:
    """(public, internal) text of a tree's steps: prompts, Markdown texts and answer labels."""
    public: list[str] = []
    internal: list[str] = []
    for node in tree.nodes.values():
        parts = [node.prompt, plain_text(node.text), *(answer.label for answer in node.answers)]
        (internal if node.audience == "internal" else public).extend(p for p in parts if p)
    return "\n".join(public), "\n".join(internal)


def document_texts(item: Article | Tree) -> dict[str, str]:
    """Each searchable text of a document: title, summary, symptoms, headings, body, ..."""
    return {**_short_texts(item), **_long_texts(item)}


def _short_texts(item: Article | Tree) -> dict[str, str]:
    symptoms = "; ".join(item.symptoms) if _is_tree(item) else ""
    headings = "" if _is_tree(item) else "; ".join(h.text for h in item.headings)
    keywords = " ".join([*item.tags, item.category, item.id.replace("-", " ").replace("/", " ")])
    return {"title": item.title, "summary": item.summary, "symptoms": symptoms,
            "headings": headings, "keywords": keywords}


def _long_texts(item: Article | Tree) -> dict[str, str]:
    """Body and internal text."""
    if _is_tree(item):
        body, internal = _tree_texts(item)
    else:
        body, internal = plain_text(item.body), ""
    return {"body": body, "internal": internal}


def as_document(kind: str, item: Article | Tree, languages: list[str],
                known: Callable[[str], bool] | None = None) -> dict[str, Any]:
    """The index document of an article or tree; `known` tells the KB's words, to split compounds."""
    texts = document_texts(item)
    lang = item.lang if item.lang in languages else languages[0]
    document: dict[str, Any] = {
        "key": f"{kind}:{item.id}", "hash": doc_hash(kind, item), "kind": kind,
        "shown": shown(kind, item, texts),
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
        if text and known is not None and lang in COMPOUNDING:  # the parts rank, the text stays as written
            text += "\n" + " ".join(compound_words(text, known))
        if text:
            document[f"{name}_{lang}"] = text
    for name in NAMED_FIELDS:
        if texts[name]:
            document[f"{name}_{lang}"] = texts[name]
    return document


SHOWN_TEXT_CHARS = 4000  # of a body or internal text kept for snippets


def shown(kind: str, item: Article | Tree, texts: dict[str, str]) -> dict[str, Any]:
    """What a hit shows (and its snippet is cut from): stored with the document."""
    return {"kind": kind, "id": item.id, "title": item.title, "summary": item.summary, "path": item.path,
            "lang": item.lang, "category": item.category, "tags": list(item.tags),
            "audience": item.audience, "symptoms": texts["symptoms"], "headings": texts["headings"],
            "body": texts["body"][:SHOWN_TEXT_CHARS], "internal": texts["internal"][:SHOWN_TEXT_CHARS]}


def indexed_items(kb: KnowledgeBase) -> Iterator[tuple[str, Article | Tree]]:
    for article in kb.articles.values():
        if _indexed(article):
            yield "article", article
    for tree in kb.trees.values():
        if _indexed(tree):
            yield "tree", tree

