"""A full index build (kbengine.search.building) writes the index whoosh's own writer would: the same
terms, frequencies, weights, positions, field lengths and stored fields for every document and field,
so the ranking cannot change. Checked on small inline content, the bundled KB and the corpus slice."""

from __future__ import annotations

import io
import os
import pickle
import shutil
from pathlib import Path
from typing import Any

import pytest
from whoosh.analysis import CompositeAnalyzer
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.filetables import md5_hash
from whoosh.filedb.structfile import StructFile
from whoosh.index import create_in
from whoosh.lang import stemmer_for_language

from kbengine.compiler import compile_kb
from kbengine.kb import KnowledgeBase
from kbengine.search import building, words
from kbengine.search.analysis import FieldAnalysis
from kbengine.search.documents import Stem, as_document, build_schema, indexed_items, kb_languages
from kbengine.search.store import _kb_words, index_folder, open_index
from tests.conftest import CORPUS_SLICE

ODD_TEXTS = {
    "articles/errors/codes.md": """\
        ---
        title: Error 0x80070005 and KB5034441 (update 5.1.10)
        tags: [errors, windows-update]
        ---
        The Windows Update error 0x80070005 means access denied. Event ID 1000, AADSTS50076,
        550 5.1.10 and v2.0.1 are codes; so are 0X8007000E, x64 and 5.5. The non-delivery report (NDR)
        and the Personal Folders file (.pst) are defined here. Café, naïve, İstanbul and ß stay words.
        A a I the of and to be is it an: stop words and one-letter words.
        """,
    "articles/errors/schijf.md": """\
        ---
        title: Schijfruimte vol op de werkplek
        lang: nl
        ---
        De schijfruimte is vol. Maak ruimte vrij op de schijf met Schijfopruiming; foutcode 0x80070070.
        Werkgeversverklaring: de werkgever en de verklaring.
        """,
}


def documents_of(kb: KnowledgeBase) -> tuple[Any, list[dict[str, Any]]]:
    languages = kb_languages(kb) or [kb.config.default_language]
    items = list(indexed_items(kb))
    known = _kb_words(items, languages)
    return build_schema(languages), [as_document(kind, item, languages, known) for kind, item in items]


def whoosh_built(folder: Path, schema: Any, documents: list[dict[str, Any]]) -> Any:
    """The reference: whoosh's own writer, one document at a time, one segment."""
    folder.mkdir()
    ix = create_in(str(folder), schema)
    writer = ix.writer()
    for document in documents:
        writer.add_document(**document)
    writer.commit()
    return ix


def fast_built(folder: Path, schema: Any, documents: list[dict[str, Any]], processes: int = 1) -> Any:
    folder.mkdir()
    ix, _ = building.build_index(FileStorage(str(folder)), schema, documents, lambda document: document,
                                 processes=processes)
    return ix


def contents(ix: Any) -> dict[str, Any]:
    """Everything ranking reads, by document key: postings (weight, frequency, positions), field
    lengths and totals, document frequencies, stored fields."""
    found: dict[str, Any] = {"postings": {}, "lengths": {}, "stored": {}, "terms": {}}
    with ix.reader() as reader:
        keys = {number: stored["key"] for number, stored in reader.iter_docs()}
        found["order"] = [keys[number] for number in sorted(keys)]
        for number, key in keys.items():
            found["stored"][key] = reader.stored_fields(number)
        for name in reader.indexed_field_names():
            field = ix.schema[name]
            if field.scorable:
                found["lengths"][name] = (reader.field_length(name),
                                          {keys[n]: reader.doc_field_length(n, name) or 0 for n in keys})
            for term in reader.lexicon(name):
                found["terms"][(name, term)] = (reader.doc_frequency(name, term),
                                                reader.frequency(name, term))
                postings = reader.postings(name, term)
                listed = []
                while postings.is_active():
                    value = postings.value()
                    decoded = [field.format.decode_frequency(value)] \
                        if field.format.supports("frequency") else []
                    if field.format.supports("positions"):
                        decoded.append(field.format.decode_positions(value))
                    listed.append((keys[postings.id()], postings.weight(), decoded))
                    postings.next()
                found["postings"][(name, term)] = sorted(listed)
    return found


def term_statistics(ix: Any) -> dict[tuple[str, bytes], tuple[Any, ...]]:
    """What a one-segment index keeps per term for skipping blocks: lengths, weights, first and last
    document."""
    with ix.reader() as reader:
        return {(name, term): (info.weight(), info.doc_frequency(), info.min_length(), info.max_length(),
                               info.max_weight(), info.min_id(), info.max_id())
                for name in reader.indexed_field_names() for term in reader.lexicon(name)
                for info in [reader.term_info(name, term)]}


def block_statistics(ix: Any) -> dict[tuple[str, bytes], list[tuple[Any, ...]]]:
    """Each posting block's statistics, which let a search skip blocks: lengths, weight, last document."""
    found = {}
    with ix.reader() as reader:
        for name in reader.indexed_field_names():
            for term in reader.lexicon(name):
                postings, blocks = reader.postings(name, term), []
                while postings.is_active():
                    blocks.append((postings.block_min_length(), postings.block_max_length(),
                                   postings.block_max_weight(), postings.block_max_id()))
                    postings.skip_to(postings.block_max_id() + 1)
                found[(name, term)] = blocks
    return found


def assert_same_index(kb: KnowledgeBase, tmp_path: Path) -> None:
    schema, documents = documents_of(kb)
    reference = whoosh_built(tmp_path / "whoosh", schema, documents)
    built = fast_built(tmp_path / "fast", schema, documents)
    expected, got = contents(reference), contents(built)
    assert got["order"] == expected["order"]
    assert got["terms"] == expected["terms"]
    assert got["postings"] == expected["postings"]
    assert got["lengths"] == expected["lengths"]
    assert got["stored"] == expected["stored"]
    assert term_statistics(built) == term_statistics(reference)
    assert block_statistics(built) == block_statistics(reference)


def test_odd_texts_give_whooshs_terms_positions_and_weights(write_kb, tmp_path: Path) -> None:
    assert_same_index(compile_kb(write_kb(ODD_TEXTS)), tmp_path)


def test_the_bundled_kb_gives_whooshs_index(bundled_kb: KnowledgeBase, tmp_path: Path) -> None:
    assert_same_index(bundled_kb, tmp_path)


@pytest.mark.slow
def test_the_corpus_slice_gives_whooshs_index(tmp_path: Path) -> None:
    root = tmp_path / "slice"
    shutil.copytree(CORPUS_SLICE, root / "articles")
    (root / "kb.yaml").write_text("title: Slice\nlanguages: [en]\n", "utf-8")
    assert_same_index(compile_kb(root), tmp_path)


def test_each_text_field_is_analysed_without_whoosh_and_gives_its_analyzers_terms(bundled_kb) -> None:
    schema, documents = documents_of(bundled_kb)
    analysis = FieldAnalysis(schema)
    text_fields = [name for name, field in schema.items() if type(field).__name__ == "TEXT"]
    assert set(text_fields) <= set(analysis._fields)  # none falls back to whoosh's analyzer
    for document in documents:
        analysis.next_document()
        for name in text_fields:
            if name in document:
                assert sorted(analysis.postings(name, schema[name], document[name])) == \
                    sorted(schema[name].index(document[name])), (document["key"], name)


def test_a_build_shared_between_processes_keeps_the_kbs_order_and_contents(bundled_kb: KnowledgeBase,
                                                                       tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(building, "MIN_PER_PROCESS", 10)
    schema, documents = documents_of(bundled_kb)
    reference = contents(whoosh_built(tmp_path / "whoosh", schema, documents))
    shared = fast_built(tmp_path / "fast", schema, documents, processes=3)
    assert len(shared._segments()) == 3
    assert contents(shared) == reference


def test_a_whole_build_leaves_only_the_index_files(bundled_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "kb"
    shutil.copytree(bundled_root, root, ignore=shutil.ignore_patterns(".kb"))
    index, update = open_index(compile_kb(root))
    index.close()
    assert update.rebuilt
    left = sorted(path.name for path in index_folder(root).iterdir() if not path.is_file())
    assert left == []  # no scratch folder of the segment writers


def test_abbreviations_are_found_as_the_plain_pattern_finds_them() -> None:
    text = ("The Outlook Web App (OWA) and a non-delivery report (NDR); " * 40
            + "x" * 2000 + " Exchange Server 2010 Service Pack 1 (SP1) and (CU8) (.pst)"
            + " Personal Folders file (.pst)")
    expected = [(m.span(), m.groups()) for m in words._DEFINED.finditer(text)]
    assert [(m.span(), m.groups()) for m in words._definitions(text)] == expected
    assert {("owa", "outlook web app"), ("pst", "personal folders file")} <= words.abbreviations(text)


def test_a_share_whose_process_fails_is_built_by_the_main_process(bundled_kb: KnowledgeBase, tmp_path: Path,
                                                                  monkeypatch) -> None:
    monkeypatch.setattr(building, "MIN_PER_PROCESS", 10)
    schema, documents = documents_of(bundled_kb)
    main_process = os.getpid()

    def document_of(document: dict[str, Any]) -> dict[str, Any]:
        if os.getpid() != main_process:
            raise MemoryError("a worker that cannot go on")
        return document

    folder = tmp_path / "fast"
    folder.mkdir()
    ix, _ = building.build_index(FileStorage(str(folder)), schema, documents, document_of, processes=2)
    assert len(ix._segments()) == 2
    assert contents(ix) == contents(whoosh_built(tmp_path / "whoosh", schema, documents))


def test_the_terms_table_hashes_keys_as_whoosh_does() -> None:
    keys = sorted([b"a", b"\x00\x05outlook", "café".encode(), b"0x80070005" * 20, b"\xff" * 3])
    table = building._TermTable(StructFile(io.BytesIO()))
    for key in keys:
        table.add(key, b"")
    expected: list[list[tuple[int, int]]] = [[] for _ in range(256)]
    for key, position in zip(keys, table.index, strict=True):
        expected[md5_hash(key) & 255].append((md5_hash(key), position))
    assert table.buckets == expected


def test_a_word_in_capitals_gives_the_terms_of_its_lower_case(bundled_kb: KnowledgeBase) -> None:
    schema, _ = documents_of(bundled_kb)
    analyzer = schema["title_en"].analyzer
    word_terms = FieldAnalysis(schema)._fields["title_en"][0]
    for word in ("Outlook", "OUTLOOK", "outlook", "The", "X64", "KB5034441", "Café", "İstanbul", "Printers"):
        assert word_terms[word] == tuple(token.text.encode() for token in analyzer(word, mode="index")), word


def stemmed_words(kb: KnowledgeBase) -> dict[str, set[str]]:
    """Every word that reaches a language's stemmer when the KB is indexed, by language."""
    schema, documents = documents_of(kb)
    found: dict[str, set[str]] = {}
    for document in documents:
        for name, value in document.items():
            lang = name.rpartition("_")[2]
            if lang in ("public", "other") or not isinstance(value, str) or not schema[name].analyzer:
                continue
            analyzer = schema[name].analyzer
            if isinstance(analyzer, CompositeAnalyzer) and type(analyzer.items[-1]).__name__ == "StemFilter":
                before = CompositeAnalyzer(*analyzer.items[:-1])  # the chain up to the stemmer
                found.setdefault(lang, set()).update(token.text for token in before(value, mode="index"))
    return found


def test_english_and_dutch_are_stemmed_in_c_with_whooshs_stems(bundled_kb: KnowledgeBase, write_kb) -> None:
    root = write_kb(ODD_TEXTS)
    shutil.copytree(CORPUS_SLICE, root / "articles" / "slice")
    seen = 0
    for kb in (bundled_kb, compile_kb(root)):
        for lang, words_seen in stemmed_words(kb).items():
            stem, whooshs = Stem(lang), stemmer_for_language(lang)
            assert stem.fast, lang  # PyStemmer: a dependency
            assert {word: stem(word) for word in words_seen} == {word: whooshs(word) for word in words_seen}
            seen += len(words_seen)
    assert seen > 3000
    # where whoosh's English stemmer and Snowball's part, whoosh's is kept
    assert Stem("en")("orgnization") == stemmer_for_language("en")("orgnization") == "orgnize"


def test_a_schema_read_back_from_an_index_stems_as_it_was_written() -> None:
    schema = build_schema(["en", "nl", "fr"])
    read = pickle.loads(pickle.dumps(schema))
    text = "Organizations pasted their printers' queues; de printers werden afgedrukt; imprimantes"
    for name in ("body_en", "body_nl", "body_fr"):
        assert [token.text for token in read[name].analyzer(text)] == \
            [token.text for token in schema[name].analyzer(text)]
    assert read["body_en"].analyzer.items[-1].stemfn == Stem("en")
