"""Ranking that generalizes: codes whole and in pieces, compounds, coordination, caller words,
titles, and a "did you mean" that keeps negations."""

from __future__ import annotations

from kbengine.compiler import compile_kb
from kbengine.search import search
from kbengine.search.forms import dutch_forms
from kbengine.search.store import open_index
from kbengine.search.words import code_parts, compound_parts


def ids(results) -> list[str]:
    return [hit.id for hit in results.hits]


def test_error_codes_and_ids_come_apart_into_what_callers_type() -> None:
    assert code_parts("kb5034441") == ["kb", "5034441"]
    assert code_parts("5.1.10") == ["5", "1", "10"]
    assert code_parts("aadsts50076") == ["aadsts", "50076"]
    assert code_parts("0x80070005") == ["0", "x", "80070005"]
    assert code_parts("printer") == [] and code_parts("1000") == []


def test_a_code_is_found_whole_and_by_its_pieces(write_kb) -> None:
    kb = compile_kb(write_kb({
        "articles/update.md": "# Update KB5034441 fails\n\nThe recovery partition is too small.\n",
        "articles/mfa.md": "# Sign-in error AADSTS50076\n\nMulti-factor authentication is required.\n",
        "articles/other.md": "# Windows update\n\nRestart and try again.\n",
    }))
    assert ids(search(kb, "KB5034441"))[0] == "update"
    assert ids(search(kb, "kb 5034441"))[0] == "update"
    assert ids(search(kb, "aadsts50076 error"))[0] == "mfa"


def test_a_compound_is_split_against_the_kbs_own_words() -> None:
    words = {"schijf", "ruimte", "achtergrond", "kleur", "werkgever", "verklaring"}
    assert compound_parts("schijfruimte", words.__contains__) == ("schijf", "ruimte")
    assert compound_parts("achtergrondkleur", words.__contains__) == ("achtergrond", "kleur")
    assert compound_parts("werkgeversverklaring", words.__contains__) == ("werkgever", "verklaring")
    assert compound_parts("printer", words.__contains__) is None


def test_dutch_compounds_find_their_parts_both_ways(write_kb) -> None:
    kb = compile_kb(write_kb({
        "articles/schijf.md": "---\nlang: nl\n---\n# Schijf vol\n\nMaak ruimte vrij op de schijf.\n",
        "articles/kleur.md": "---\nlang: nl\n---\n# Achtergrondkleur wijzigen\n\nKies een kleur.\n",
        "articles/dia.md": "---\nlang: nl\n---\n# Dia's\n\nEen achtergrond en een kleur voor elke dia.\n",
    }))
    assert ids(search(kb, "schijfruimte"))[0] == "schijf"  # the query's compound, split
    assert "kleur" in ids(search(kb, "kleur", lang="nl"))  # the document's compound, split


def test_dutch_forms_the_stemmer_keeps_apart_are_offered() -> None:
    assert "cellen" in dutch_forms("cel") and "cel" in dutch_forms("cellen")  # the stemmer: cel, cell
    assert "formule" in dutch_forms("formules") and "waarde" in dutch_forms("waardes")
    assert "pijl" in dutch_forms("pijltjes") and "stap" in dutch_forms("stapje")  # diminutives
    assert "bal" in dutch_forms("balletje") and "boom" in dutch_forms("boompje")
    assert "plakken" in dutch_forms("geplakte") and "selecteren" in dutch_forms("selecteert")  # verbs
    assert "kolom" in dutch_forms("kolommen") and "blad" in dutch_forms("bladen")
    assert dutch_forms("op") == set()


def test_another_form_of_a_dutch_word_finds_the_page_that_uses_it(write_kb) -> None:
    kb = compile_kb(write_kb({
        "articles/draaien.md": "---\nlang: nl\n---\n# Tekst draaien\n\nSelecteer de cellen.\n",
        "articles/tekst.md": "---\nlang: nl\n---\n# Tekst invoeren\n\nTyp de tekst in een vak.\n",
        "articles/pijl.md": "---\nlang: nl\n---\n# Objecten verplaatsen\n\nGebruik de pijltoetsen.\n",
        "articles/muis.md": "---\nlang: nl\n---\n# Objecten slepen\n\nGebruik de muis.\n",
    }))
    assert ids(search(kb, "cel")) == ["draaien"]  # cel finds cellen (stemmed: cell)
    assert ids(search(kb, "objecten met de pijltjes"))[0] == "pijl"  # pijltjes finds pijl(toetsen)
    assert ids(search(kb, "pijltjes")) == ["pijl"]


def test_the_parts_of_an_unknown_compound_are_looked_for_in_their_other_forms(write_kb) -> None:
    kb = compile_kb(write_kb({
        "articles/bron.md": "---\nlang: nl\n---\n# Citeren\n\nVermeld de bron.\n",
        "articles/lijst.md": "---\nlang: nl\n---\n# Lijsten\n\nDe bronnen staan in een lijst.\n",
    }))
    assert "bron" in ids(search(kb, "bronnenlijst"))  # bronnen + lijst; bronnen -> bron


def test_forms_of_a_word_count_as_that_word_not_as_more_words(write_kb) -> None:
    kb = compile_kb(write_kb({
        "articles/both.md": "---\nlang: nl\n---\n# Rijen\n\nEen cel, twee cellen, drie cellen.\n",
        "articles/words.md": "---\nlang: nl\n---\n# Werkblad\n\nEen cel in een kolom.\n",
    }))
    assert ids(search(kb, "cel kolom"))[0] == "words"  # both typed words beat one word in two forms


def test_a_document_with_more_of_the_query_words_ranks_higher(write_kb) -> None:
    kb = compile_kb(write_kb({
        "articles/order.md": "# Change the order of slides\n\nDrag a slide to its new place.\n",
        "articles/slide.md": "# Slide\n\nA slide. Slides hold slide content: a slide title, slide notes.\n",
    }))
    assert ids(search(kb, "slide order"))[0] == "order"


def test_the_words_as_typed_decide_between_pages_the_stemmer_makes_equal(write_kb) -> None:
    kb = compile_kb(write_kb({
        "articles/a-mailboxes.md": "# Storage warning\n\nThe mailboxes are full.\n",
        "articles/b-mailbox.md": "# Storage warning\n\nThe mailbox is full.\n",
        "articles/printer.md": "# Printer offline\n\nRestart the printer.\n",
        "articles/vpn.md": "# VPN drops\n\nConnect again.\n",
    }))
    # mailbox and mailboxes stem alike: only the exact-word score tells the pages apart, both ways
    assert ids(search(kb, "mailbox full"))[:2] == ["b-mailbox", "a-mailboxes"]
    assert ids(search(kb, "mailboxes full"))[:2] == ["a-mailboxes", "b-mailbox"]
    # it only re-orders what the query finds: a page with none of the words never comes in
    assert set(ids(search(kb, "mailbox full"))) == {"a-mailboxes", "b-mailbox"}


def test_the_words_as_typed_leave_out_stop_words_and_caller_words(write_kb) -> None:
    kb = compile_kb(write_kb({"articles/reset.md": "# Reset a forgotten password\n\nUse the portal.\n"}))
    index, _ = open_index(kb)
    try:
        # in a small KB "my" is rarer than "password": counted, it would outweigh the real words
        assert index.queries.exact_words("I forgot my Password, please help") == ["forgot", "password"]
        assert index.queries.exact_words("ik ben mijn wachtwoord vergeten") == ["wachtwoord", "vergeten"]
    finally:
        index.close()


def test_words_callers_wrap_a_question_in_weigh_little(write_kb) -> None:
    kb = compile_kb(write_kb({
        "articles/keep.md": "# Keep getting asked\n\nPlease keep trying to get help.\n",
        "articles/vpn.md": "# VPN drops\n\nThe VPN disconnects after a minute.\n",
    }))
    assert ids(search(kb, "vpn keeps getting dropped please help"))[0] == "vpn"


def test_did_you_mean_never_drops_or_slips_in_a_negation(write_kb) -> None:
    kb = compile_kb(write_kb({
        "articles/a.md": "# Printer can print\n\nThe printer can print in colour; the net is fine.\n",
        "articles/b.md": "---\nlang: nl\n---\n# Printer werkt niet\n\nDe printer werkt niet.\n",
    }))
    assert search(kb, "cant print").suggestion is None  # not "can print"
    assert search(kb, "geen printr").suggestion == "geen printer"
    assert "niet" not in (search(kb, "nuet werkt").suggestion or "nuet")


def test_writers_synonyms_in_kb_yaml_find_the_other_words(write_kb) -> None:
    root = write_kb({
        "kb.yaml": "title: Help\nsearch:\n  synonyms:\n"
                   "    - [mail merge, serial letter]\n    - [pst, outlook data file]\n",
        "articles/merge.md": "# Mail merge fails\n\nThe data source is open in Excel.\n",
        "articles/letter.md": "# Write a letter\n\nUse a template for a letter.\n",
        "articles/repair.md": "# Repair an Outlook data file\n\nRun the inbox repair tool.\n",
    })
    kb = compile_kb(root)
    assert ids(search(kb, "serial letter fails"))[0] == "merge"
    assert ids(search(kb, "pst damaged"))[0] == "repair"
    assert ids(search(kb, "write a letter"))[0] == "letter"  # no synonym matched: as before


def test_built_in_dutch_synonyms_find_the_words_the_page_uses(write_kb) -> None:
    files = {
        "articles/titels.md": "---\nlang: nl\n---\n# Diagramtitels bewerken\n\n"
                              "Dubbelklik op het diagram en daarna op de titel.\n",
        "articles/tabel.md": "---\nlang: nl\n---\n# Tabel invoegen\n\nKies Tabel - Invoegen.\n",
    }
    question = "kop boven de grafiek wijzigen"  # not one word of the page's
    assert ids(search(compile_kb(write_kb({**files, "kb.yaml": "title: Hulp\nlanguages: [nl]\n"}),),
                      question)) == ["titels"]
    off = write_kb({**files, "kb.yaml": "title: Hulp\nlanguages: [nl]\nsearch:\n  builtin_synonyms: false\n"})
    assert "titels" not in ids(search(compile_kb(off), question))


def test_built_in_synonyms_are_those_of_the_kbs_languages(write_kb) -> None:
    files = {"articles/diagram.md": "# Diagram\n\nDraw the diagram first.\n"}
    english = compile_kb(write_kb({**files, "kb.yaml": "title: Help\nlanguages: [en]\n"}))
    assert search(english, "grafiek").hits == []  # a Dutch word: not an English KB's synonym


def test_a_synonym_matches_forms_of_its_word_but_not_a_shorter_word(write_kb) -> None:
    root = write_kb({
        "kb.yaml": "title: Help\nsearch:\n  builtin_synonyms: false\n  synonyms:\n"
                   "    - [plotter, large format printer]\n    - [settings, preferences]\n",
        "articles/wide.md": "# Large format printer jams\n\nOpen the roll cover.\n",
        "articles/prefs.md": "# Preferences\n\nChoose a theme.\n",
        "articles/set.md": "# Set a reminder\n\nPick a time.\n",
    })
    kb = compile_kb(root)
    assert ids(search(kb, "plotters"))[0] == "wide"  # plural of the group's word
    assert "prefs" not in ids(search(kb, "set"))  # the stemmer's set/settings is not a form


def test_abbreviations_are_mined_from_how_the_content_defines_them() -> None:
    from kbengine.search.words import abbreviations

    text = ("Open Outlook Web App (OWA). Run the Office Customization Tool (OCT). A non-delivery "
            "report (NDR) came back. Repair your Personal Folders file (.pst). Teams (preview).")
    assert abbreviations(text) == {("owa", "outlook web app"), ("oct", "office customization tool"),
                                   ("ndr", "non delivery report"), ("pst", "personal folders file")}


def test_an_abbreviation_the_content_defines_finds_the_words_it_stands_for(write_kb) -> None:
    kb = compile_kb(write_kb({
        "articles/about.md": "# About mail\n\nYou can read mail in Outlook Web App (OWA) too.\n",
        "articles/options.md": "# Outlook Web App options page fails\n\nThe page shows error 400.\n",
        "articles/other.md": "# Options for printing\n\nChoose the paper size.\n",
    }))
    assert ids(search(kb, "owa options"))[0] == "options"


def test_the_help_sites_search_weighs_the_same_fields(write_kb, tmp_path) -> None:
    from kbengine.site import build_site

    root = write_kb({
        "articles/vpn.md": "---\ntitle: Connect to the VPN\nsummary: Use GlobalProtect from home.\n---\n"
                           "Open it.\n",
        "trees/vpn.yaml": "title: VPN does not connect\nsummary: It fails.\nsymptoms: [vpn not working]\n"
                          "start: end\nnodes:\n  end: {solved: Fixed.}\n",
    })
    build_site(compile_kb(root), tmp_path / "site", search=False)
    pages = "".join(path.read_text("utf-8") for path in (tmp_path / "site").rglob("*.html"))
    assert '<p class="lead" data-pagefind-weight="5">Use GlobalProtect from home.</p>' in pages
    assert '<p class="symptoms" data-pagefind-weight="7">' in pages
