"""Reading a query: syntax checks, field names in the users' words, languages, and "did you mean"."""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable, Iterable
from typing import Any

from whoosh import fields, qparser
from whoosh import query as wq
from whoosh.lang import NoStopWords, stopwords_for_language
from whoosh.qparser import syntax

from kbengine.search.documents import FIELD_BOOSTS, NAMED_FIELDS, PHRASE_FIELDS, PUBLIC_FIELDS
from kbengine.search.forms import FORMS
from kbengine.search.results import KINDS, QueryError
from kbengine.search.words import COMPOUNDING, compound_words

_QUERY_FIELDS = set(NAMED_FIELDS) - {"internal"}  # the ones a `field:` query may name
# Fields a query may name (`title:vpn`), in the users' words -> the field they mean.
FIELD_NAMES = {
    "title": "title", "summary": "summary", "symptom": "symptoms", "symptoms": "symptoms",
    "heading": "headings", "headings": "headings", "body": "body", "text": "body",
    "tag": "tag", "tags": "tag", "kind": "kind", "lang": "lang", "language": "lang",
    "category": "category", "id": "id",
}

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
    counts = {lang: sum(word in stop_words(lang) for word in words) for lang in languages}
    best = max(counts.values(), default=0)
    leaders = [lang for lang, count in counts.items() if count == best]
    if best == 0 or len(leaders) > 1:
        return dict.fromkeys(languages, 1.0)
    return {lang: _LANGUAGE_PREFERENCE if lang == leaders[0] else 1.0 for lang in languages}


@functools.cache
def stop_words(lang: str) -> frozenset[str]:
    """The little words the analyser of `lang` leaves out (none for a language whoosh has no list for)."""
    try:
        return frozenset(stopwords_for_language(lang))
    except NoStopWords:
        return frozenset()


def _phrases_in_named_fields(parsed: wq.Query) -> wq.Query:
    """A phrase in a ranked field (no word positions there) is looked for in the texts it holds."""
    if isinstance(parsed, wq.Phrase):
        base, _, lang = parsed.fieldname.partition("_")
        if base not in PHRASE_FIELDS:
            return parsed
        copies = [wq.Phrase(f"{name}_{lang}", parsed.words, slop=parsed.slop, boost=parsed.boost)
                  for name in PHRASE_FIELDS[base]]
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


# "Did you mean" never drops a negation ("cant" is not "can") nor slips one in ("net" is not "niet").
NEGATIONS = frozenset((
    "not", "no", "never", "cannot", "cant", "dont", "wont", "isnt", "doesnt", "didnt", "arent", "wasnt",
    "couldnt", "shouldnt", "without", "none", "nothing", "nobody",
    "niet", "geen", "nooit", "niets", "niemand", "zonder"))


def _closest(reader: Any, sources: list[str], word: str) -> str | None:
    """The most frequent known word one edit away (two for longer words), first letter kept."""
    for distance in (1, 2) if len(word) > 5 else (1,):
        candidates = {candidate: sum(reader.doc_frequency(source, candidate) for source in sources)
                      for source in sources
                      for candidate in reader.terms_within(source, word, distance, prefix=1)
                      if candidate not in NEGATIONS}
        if candidates:
            return max(sorted(candidates), key=lambda candidate: candidates[candidate])
    return None


# Words callers wrap a question in that say little about the answer (stop words are dropped
# already): weighed down, not dropped, so a query of only these still finds something.
CALLER_WORDS = {
    "en": "cant cannot unable wont dont doesnt isnt didnt won doesn isn didn aren couldn wasn keep keeps "
          "kept trying try tried want need get gets getting got say says said please help hi hello "
          "anymore still someone something thing stuff suddenly",
    "nl": "graag waarom lukt lukken krijg krijgt krijgen zie ziet zien wel even steeds alleen gewoon kun "
          "kunt moet moeten wilt willen probleem vraag help hulp ding dingen mn opeens ineens iemand",
}
CALLER_WORD_WEIGHT = 0.3
SYNONYM_WEIGHT = 0.7  # a synonym's words weigh a little less than the words typed
FORM_WEIGHT = 0.5  # another form of a typed word (forms.py); tuned on benchmarks/relevance's tune half
MAX_ENDING = 3  # letters a query word may add to a synonym's word and still be a form of it
_MIN_INFLECTED = 3  # a synonym's word shorter than this is only matched as typed (it, ad)
_WORDS = re.compile(r"[^\W_]+")


def _contains(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    return any(words[start:start + len(phrase)] == phrase for start in range(len(words) - len(phrase) + 1))


class QueryReader:
    """Turns query text into a whoosh query over the fields of an index's languages."""

    def __init__(self, schema: fields.Schema, languages: list[str],
                 synonyms: Iterable[Iterable[str]] = ()) -> None:
        self.schema = schema
        self.languages = languages
        # each group: phrases that mean the same, lower case, as word tuples
        self.synonyms = [tuple(tuple(_WORDS.findall(phrase.lower())) for phrase in group)
                         for group in synonyms]
        self._parsers: dict[tuple[Any, ...], qparser.QueryParser] = {}
        self._caller_words: dict[str, frozenset[str]] = {}

    def _parser(self, languages: list[str], internal: bool,
                weights: dict[str, float]) -> qparser.QueryParser:
        key = (tuple(languages), internal, tuple(sorted(weights.items())))
        parser = self._parsers.get(key)
        if parser is None:
            names = FIELD_BOOSTS if internal else PUBLIC_FIELDS
            search_fields = [f"{name}_{lang}" for lang in languages for name in names]
            boosts = {f"{name}_{lang}": FIELD_BOOSTS[name] * weights[lang]
                      for lang in languages for name in names}
            # Plain OrGroup, not OrGroup.factory(): whoosh 2.7's coordination bonus scores a query
            # with one matching term 0, and BM25F already sums the evidence of every word and field.
            parser = qparser.MultifieldParser(search_fields, self.schema, fieldboosts=boosts,
                                              group=qparser.OrGroup)
            parser.remove_plugin_class(qparser.FieldsPlugin)
            parser.add_plugin(_FriendlyFieldsPlugin())
            parser.add_plugin(_LanguageFieldsPlugin(languages))
            self._parsers[key] = parser
        return parser

    def parse(self, query: str, languages: list[str], internal: bool,
              known: Callable[[str], bool] | None = None, forms: dict[str, str] | None = None) -> wq.Query:
        """The whoosh query of `query`; `known` tells the KB's words, to split compound words;
        `forms` are the other forms of its words to look for too (see word_forms)."""
        check_syntax(query)
        parser = self._parser(languages, internal, query_language_weights(query, languages))
        try:
            parsed = parser.parse(query)
        except Exception as error:
            raise QueryError(f"the query cannot be read ({error})") from None
        self._check_values(parsed)
        parsed = _narrowing(_phrases_in_named_fields(parsed))
        if known is not None and any(lang in COMPOUNDING for lang in languages):
            parsed = self._with_compound_parts(parsed, query, known)
        if forms:
            parsed = self._with_word_forms(parsed, forms)
        parsed = self._with_synonyms(parsed, query)
        for leaf in parsed.leaves():
            if type(leaf) is wq.Term and isinstance(leaf.text, str) \
                    and leaf.text in self._analysed_caller_words(leaf.fieldname):
                leaf.boost *= CALLER_WORD_WEIGHT
        return parsed

    def _with_compound_parts(self, parsed: wq.Query, query: str, known: Callable[[str], bool]) -> wq.Query:
        """A query of plain words with the parts of each compound word the KB does not have added,
        in the fields of the languages that glue words together ("schijfruimte": schijf, ruimte)."""
        if type(parsed) is not wq.Or or not _PLAIN_QUERY.fullmatch(query.strip()) \
                or any(word in _OPERATORS for word in query.split()):
            return parsed
        parts = compound_words(query, known, unknown_only=True)
        if not parts:
            return parsed
        boosts: dict[str, float] = {}  # field -> the boost its words have
        for leaf in parsed.subqueries:
            field = getattr(leaf, "fieldname", "")
            if type(leaf) is wq.Term and field.rpartition("_")[2] in COMPOUNDING:
                boosts[field] = max(boosts.get(field, 0.0), leaf.boost)
        added = [wq.Term(field, token.text, boost=boost) for field, boost in boosts.items()
                 for token in self.schema[field].analyzer(" ".join(parts))]
        return wq.Or([*parsed.subqueries, *added], boost=parsed.boost)

    def word_forms(self, query: str, known: Callable[[str], bool]) -> dict[str, str]:
        """Analysed form -> the analysed query word it is a form of: the forms of the query's words
        and of the parts of its unknown compounds (forms.py) that the KB uses and that its stemmer
        does not already bring together."""
        found: dict[str, str] = {}
        if not _PLAIN_QUERY.fullmatch(query.strip()):
            return found
        words = {word.lower() for word in _WORDS.findall(query)}
        words.update(compound_words(query, known, unknown_only=True))  # bronnenlijst: bronnen -> bron
        for lang in self.languages:
            field = f"content_{lang}"
            if lang not in FORMS or field not in self.schema:
                continue
            analyzer = self.schema[field].analyzer
            typed = {token.text for token in analyzer(query)}
            for word in sorted(words):
                stems = [token.text for token in analyzer(word)]
                if len(stems) != 1:
                    continue  # a stop word, or a code in pieces
                for form in sorted(FORMS[lang](word)):
                    if known(form):
                        found.update((token.text, stems[0]) for token in analyzer(form)
                                     if token.text not in typed and token.text not in found)
        return found

    @staticmethod
    def _with_word_forms(parsed: wq.Query, forms: dict[str, str]) -> wq.Query:
        """A query of plain words with the other forms of its words added (FORM_WEIGHT), in the
        fields of the languages that have forms."""
        if type(parsed) is not wq.Or:
            return parsed
        added = [wq.Term(leaf.fieldname, form, boost=leaf.boost * FORM_WEIGHT)
                 for leaf in parsed.subqueries
                 if type(leaf) is wq.Term and leaf.fieldname.rpartition("_")[2] in FORMS
                 for form, word in forms.items() if word == leaf.text]
        return wq.Or([*parsed.subqueries, *added], boost=parsed.boost) if added else parsed

    def _matched_synonyms(self, query: str) -> list[tuple[tuple[str, ...], ...]]:
        """The synonym groups one of whose phrases the query has, word for word; a one-word
        phrase also in another form ("grafieken" has *grafiek*, "printers" *printer*)."""
        words = tuple(_WORDS.findall(query.lower()))
        bases = self._word_bases(words) if self.synonyms else set()
        return [group for group in self.synonyms
                if any(phrase and (_contains(words, phrase) or (len(phrase) == 1 and phrase[0] in bases))
                       for phrase in group)]

    def _word_bases(self, words: tuple[str, ...]) -> set[str]:
        """The words the query's words are forms of: their forms by spelling rules (forms.py),
        and each word without an ending of at most MAX_ENDING letters that a language's stemmer
        takes to the same stem (*pictures*: picture, *changed*: change). Only an ending the query
        adds counts, so stems that lump different words together do not: *set* is not *settings*,
        *bit* not *BITS*."""
        bases: set[str] = set()
        for word in words:
            for lang in self.languages:
                if lang in FORMS:
                    bases.update(FORMS[lang](word))  # mappen: map, where the stems differ
                analyzer = self.schema[f"content_{lang}"].analyzer
                stem = [token.text for token in analyzer(word)]
                if len(stem) != 1:
                    continue  # a stop word, or a code in pieces
                for cut in range(1, MAX_ENDING + 1):
                    base = word[:-cut]
                    if len(base) >= _MIN_INFLECTED and [token.text for token in analyzer(base)] == stem:
                        bases.add(base)
        return bases

    def _with_synonyms(self, parsed: wq.Query, query: str) -> wq.Query:
        """A query of plain words with the words of each matched synonym group added (weighed
        SYNONYM_WEIGHT), in the fields the query's words are looked for in."""
        if type(parsed) is not wq.Or or not self.synonyms or not _PLAIN_QUERY.fullmatch(query.strip()):
            return parsed
        groups = self._matched_synonyms(query)
        if not groups:
            return parsed
        boosts: dict[str, float] = {}
        for leaf in parsed.subqueries:
            if type(leaf) is wq.Term:
                boosts[leaf.fieldname] = max(boosts.get(leaf.fieldname, 0.0), leaf.boost)
        words = " ".join(word for group in groups for phrase in group for word in phrase)
        added = [wq.Term(field, token.text, boost=boost * SYNONYM_WEIGHT) for field, boost in boosts.items()
                 for token in self.schema[field].analyzer(words)]
        return wq.Or([*parsed.subqueries, *added], boost=parsed.boost)

    def concepts(self, query: str, forms: dict[str, str] | None = None) -> dict[str, str]:
        """Analysed word -> its synonym group, for the query's matched groups: ranking counts a
        group as one word, whichever of its phrases a document uses; with `forms` (analysed form ->
        the typed word, see word_forms), a form counts as the word it is a form of."""
        found: dict[str, str] = {}
        for number, group in enumerate(self._matched_synonyms(query)):
            words = " ".join(word for phrase in group for word in phrase)
            for field in self.schema.names():
                analyzer = getattr(self.schema[field], "analyzer", None)
                if field.rpartition("_")[2] in self.languages and analyzer is not None:
                    found.update((token.text, f"synonyms:{number}") for token in analyzer(words))
        for form, word in (forms or {}).items():
            found.setdefault(form, found.get(word, word))
        return found

    def exact_words(self, query: str) -> list[str]:
        """The query's words as typed, in lower case, as the vocabulary field holds them: what
        ranking.exact_scores looks for. Stop words and caller words say nothing of the answer (in a
        small KB *my* is rarer than *password*) and are left out, as the ranking leaves them."""
        little = self._analysed_caller_words("words_public").union(*map(stop_words, self.languages))
        return [token.text for token in self.schema["words_public"].analyzer(query)
                if len(token.text) > 1 and token.text not in little]

    def _analysed_caller_words(self, field: str) -> frozenset[str]:
        """CALLER_WORDS of every language, as the field's analyser indexes them (a Dutch caller
        may type English words)."""
        words = self._caller_words.get(field)
        if words is None:
            analyzer = self.schema[field].analyzer if field in self.schema else None
            words = frozenset() if analyzer is None else frozenset(
                token.text for token in analyzer(" ".join(CALLER_WORDS.values())))
            self._caller_words[field] = words
        return words

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


_PLAIN_QUERY = re.compile(r"[^\W_]+(?:['’][^\W_]+)*(?:[\s,.;!?]+[^\W_]+(?:['’][^\W_]+)*)*[\s,.;!?]*")


def suggest(searcher: Any, query: str, *, public_only: bool) -> str | None:
    """The query with each unknown word replaced by the closest frequent word of the KB."""
    reader = searcher.reader()
    sources = ["words_public"] if public_only else ["words_public", "words_other"]
    changed = False

    def replace(match: re.Match[str]) -> str:
        nonlocal changed
        field, word = match.group(1), match.group(2)
        lower = word.lower()
        if (field and field.lower() in FIELD_NAMES) or len(lower) < 4 or word in _OPERATORS \
                or lower in NEGATIONS \
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
