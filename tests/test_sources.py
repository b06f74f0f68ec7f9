"""Reading articles, trees and kb.yaml: model objects plus located diagnostics, never exceptions."""

from __future__ import annotations

import textwrap
import time

from kbengine.read.sources import load_article, load_config, load_tree


def article(text: str, rel: str = "articles/accounts/reset-password.md"):
    return load_article(rel, textwrap.dedent(text).lstrip("\n").encode("utf-8"))


def tree(text: str, rel: str = "trees/printer.yaml"):
    return load_tree(rel, textwrap.dedent(text).lstrip("\n").encode("utf-8"))


def test_front_matter_fills_every_field() -> None:
    item, problems = article("""
        ---
        title: Reset your password
        id: reset-password
        summary: Choose a new password.
        tags: [password, account]
        category: accounts
        lang: nl
        audience: internal
        status: draft
        owner: Identity team
        updated: 2026-03-01
        related: [account-locked]
        translation_of: wachtwoord
        ms.author: someone
        ---
        Body text.
        """)
    assert problems == []
    assert item is not None
    assert (item.id, item.title, item.summary, item.category, item.lang) == (
        "reset-password", "Reset your password", "Choose a new password.", "accounts", "nl")
    assert item.tags == ["password", "account"] and item.related == ["account-locked"]
    assert (item.audience, item.status, item.owner, item.updated) == ("internal", "draft", "Identity team",
                                                                      "2026-03-01")
    assert item.translation_of == "wachtwoord" and item.explicit_id
    assert item.extra == {"ms.author": "someone"}
    assert item.body_line == 16 and item.body.startswith("Body text.")


def test_title_falls_back_to_first_heading_and_id_to_the_file_name() -> None:
    item, problems = article("# Wi-Fi: can't connect\n\nText.\n", rel="articles/network/Wifi Problems.md")
    assert problems == [] and item is not None
    assert item.title == "Wi-Fi: can't connect"
    assert item.id == "wifi-problems"
    assert item.category == "network"  # the folder under articles/
    assert not item.explicit_id and "# Wi-Fi" not in item.body


def test_title_falls_back_to_the_file_name_without_a_heading() -> None:
    item, _ = article("Just text.\n", rel="articles/clear-print-queue.md")
    assert item is not None and item.title == "Clear print queue" and item.category == ""


def test_foreign_value_of_a_known_key_is_a_warning_with_a_default() -> None:
    item, problems = article("---\naudience: ITPro\nstatus: live\ntags: printing\n---\nText\n")
    assert item is not None
    assert (item.audience, item.status, item.tags) == ("public", "published", [])
    assert [(p.line, p.code, p.severity) for p in problems] == [
        (2, "KB203", "warning"), (3, "KB203", "warning"), (4, "KB203", "warning")]
    assert problems[0].message.endswith("using 'public'")
    assert problems[2].message.endswith("ignoring it")


def test_docfx_front_matter_builds_without_edits() -> None:
    item, problems = article("""
        ---
        title: Outlook prompts for credentials
        description: Describes an issue in which Outlook prompts for a password.
        ms.date: 01/31/2024
        ms.custom: [sap:Authentication, CI 1234]
        search.appverid: [MET150]
        ---
        # Outlook prompts for credentials
        """)
    assert problems == [] and item is not None
    assert item.summary.startswith("Describes an issue")
    assert item.extra["ms.date"] == "01/31/2024"


def test_front_matter_that_is_not_a_mapping_is_an_error() -> None:
    item, problems = article("---\n- a\n- b\n---\nText\n")
    assert item is not None
    assert [(p.line, p.code) for p in problems] == [(2, "KB201")]


def test_unclosed_front_matter_fence_is_a_thematic_break() -> None:
    item, problems = article("---\nNot front matter\n")
    assert problems == [] and item is not None and "Not front matter" in item.body


def test_links_and_headings_carry_file_lines() -> None:
    item, _ = article("""
        ---
        title: T
        ---
        ## Steps

        See [the queue](../printing/clear-queue.md#steps) and [[account-locked]].
        ![Dialog](media/dialog.png)
        `[not a link](x.md)`
        """)
    assert item is not None
    assert [(h.text, h.anchor, h.line) for h in item.headings] == [("Steps", "steps", 4)]
    assert [(link.kind, link.target, link.line, link.col) for link in item.links] == [
        ("page", "../printing/clear-queue.md#steps", 6, 17),
        ("wiki", "account-locked", 6, 55),
        ("image", "media/dialog.png", 7, 11)]


def test_hostile_article_lines_are_read_in_linear_time() -> None:
    started = time.perf_counter()
    for line in ("[" * 1_000_000, "[a](" * 200_000, "[[" * 300_000, "![" * 300_000,
                 "[!INCLUDE [" * 80_000, "<img src=\"" * 80_000, "# " + "#" * 500_000 + " x"):
        item, problems = article(f"# Title\n\n{line}\n")
        assert item is not None
        assert {p.code for p in problems} <= {"KB108"}  # too many brackets: a warning, not a hang
    assert time.perf_counter() - started < 10


def test_script_in_a_title_is_kept_as_text() -> None:
    item, problems = article("---\ntitle: <script>alert(1)</script>\n---\n")
    assert problems == [] and item is not None and item.title == "<script>alert(1)</script>"


def test_non_utf8_file_is_located_at_the_bad_byte() -> None:
    item, problems = load_article("articles/a.md", "# Caf\u00e9\nok\n".encode("latin-1"))
    assert item is None
    assert [(p.line, p.col, p.code) for p in problems] == [(1, 6, "KB101")]
    assert "0xe9" in problems[0].message


def test_empty_files_are_errors() -> None:
    assert [p.code for p in load_article("articles/a.md", b"  \n")[1]] == ["KB102"]
    assert [p.code for p in load_tree("trees/t.yaml", b"")[1]] == ["KB102"]


def test_byte_order_mark_is_dropped() -> None:
    item, problems = load_article("articles/a.md", "\ufeff---\ntitle: T\n---\n".encode())
    assert problems == [] and item is not None and item.title == "T"


PRINTER = """
    title: Printer does not print
    summary: Jobs stay in the queue.
    symptoms: [printer offline]
    start: power
    nodes:
      power:
        ask: Is the printer on?
        article: printer-status-lights
        text: Look at the **front panel**.
        answers:
          Yes: queue
          No: escalate-hardware
          On:
            next: queue
            set: {power: on_}
            when: {os: [windows, mac]}
      queue:
        do: Cancel every job, then print a test page.
        next: fixed
      fixed:
        solved: The queue was blocked.
      escalate-hardware:
        escalate: {team: Second line, priority: P3, reason: No power}
        audience: internal
        collect:
          - {name: asset_tag, prompt: Asset tag, pattern: '^[A-Z]{2}\\d{5}$'}
      other:
        goto: network#start
    """


def test_tree_nodes_of_every_kind_in_short_and_long_form() -> None:
    item, problems = tree(PRINTER)
    assert problems == [] and item is not None
    assert (item.id, item.title, item.start, item.symptoms) == (
        "printer", "Printer does not print", "power", ["printer offline"])
    power = item.nodes["power"]
    assert (power.kind, power.prompt, power.article, power.text) == (
        "ask", "Is the printer on?", "printer-status-lights", "Look at the **front panel**.")
    assert [(a.label, a.next) for a in power.answers] == [("Yes", "queue"), ("No", "escalate-hardware"),
                                                          ("On", "queue")]
    assert power.answers[2].set == {"power": "on_"}
    assert power.answers[2].allowed({"os": "mac"}) and not power.answers[2].allowed({"os": "linux"})
    assert (power.answers[0].line, power.answers[0].col) == (11, 7)
    assert item.nodes["queue"].next == "fixed"
    hand_over = item.nodes["escalate-hardware"]
    assert hand_over.escalation is not None and hand_over.escalation.priority == "P3"
    assert hand_over.audience == "internal"
    assert hand_over.collect[0].pattern == r"^[A-Z]{2}\d{5}$"
    assert (item.nodes["other"].goto_tree, item.nodes["other"].goto_node) == ("network", "start")


def test_unknown_node_kind_and_field_are_errors_at_their_lines() -> None:
    _, problems = tree("""
        title: T
        start: a
        nodes:
          a:
            asks: Is it on?
          b:
            solved: Done
            colour: red
        """)
    assert sorted((p.line, p.code) for p in problems) == [(4, "KB401"), (5, "KB201"), (8, "KB201")]


def test_node_with_two_kinds_is_an_error() -> None:
    _, problems = tree("title: T\nstart: a\nnodes:\n  a: {ask: Q, solved: S, answers: {Y: a}}\n")
    assert [p.code for p in problems] == ["KB402"]


def test_question_without_answers_and_action_without_next() -> None:
    _, problems = tree("title: T\nstart: a\nnodes:\n  a:\n    ask: Q?\n  b:\n    do: Restart\n")
    assert [(p.line, p.code) for p in problems] == [(4, "KB408"), (6, "KB410")]


def test_answers_and_next_only_on_the_kinds_that_use_them() -> None:
    _, problems = tree("""
        title: T
        start: a
        nodes:
          a:
            solved: S
            answers: {Y: a}
          b:
            ask: Q
            answers: {Y: a}
            next: a
          c:
            do: D
            next: a
            collect: [{name: x, prompt: X}]
        """)
    assert [(p.line, p.code) for p in problems] == [(6, "KB409"), (10, "KB409"), (14, "KB411")]


def test_tree_file_that_is_a_list_is_an_error() -> None:
    item, problems = tree("- a\n- b\n")
    assert item is None and [p.code for p in problems] == ["KB201"]


def test_config_reads_every_setting() -> None:
    config, problems = load_config("kb.yaml", textwrap.dedent("""
        title: Help centre
        base_url: https://help.example.org/
        languages: [en, nl]
        translations: {nl: {title: Helpcentrum}}
        support:
          email: desk@example.org
          phone: "+31 20 555 0100"
          hours: Mon-Fri 8-18
          ticket_url: https://desk.example.org/new?title={title}&body={summary}&from={path}
        sessions: /var/kb/sessions
        sessions_retention: 90d
        categories:
          accounts: {title: Accounts, description: Passwords, order: 2, nl: {title: Accounts NL}}
          network: {}
        theme: dark
        """).encode())
    assert problems == []
    assert config.title_in("nl") == "Helpcentrum" and config.default_language == "en"
    assert config.support.ticket_url.endswith("from={path}")
    assert config.sessions_retention == "90d" and config.extra == {"theme": "dark"}
    accounts, network = config.categories["accounts"], config.categories["network"]
    assert (accounts.order, accounts.title_in("nl"), accounts.description) == (2, "Accounts NL", "Passwords")
    assert (network.title, network.order) == ("Network", 2)


def test_config_with_bad_values_falls_back_to_defaults() -> None:
    config, problems = load_config("kb.yaml", b"title: [a]\nlanguages: nl\nsupport: {fax: 1}\n")
    assert config.title == "Help centre" and config.languages == ["en"]
    assert sorted((p.line, p.code) for p in problems) == [(1, "KB701"), (2, "KB701"), (3, "KB701")]


def test_a_line_with_too_many_brackets_is_a_located_warning():
    data = ("---\ntitle: Hostile\n---\n\nFine line.\n" + "[" * 5000 + "\n").encode()
    article, problems = load_article("articles/a/hostile.md", data)
    assert article is not None
    assert [(p.line, p.code, p.severity) for p in problems] == [(6, "KB108", "warning")]


def test_numeric_node_ids_are_text_wherever_they_are_named():
    tree, problems = load_tree("trees/t.yaml", textwrap.dedent("""\
        title: Numbered steps
        start: 1
        nodes:
          1:
            ask: Is it on?
            answers: {Yes: 2, No: {next: 3}}
          2: {do: Print a test page., next: 3}
          3: {solved: Printed.}
        """).encode())
    assert problems == []
    assert tree is not None and tree.start == "1"
    assert [a.next for a in tree.nodes["1"].answers] == ["2", "3"]
    assert tree.nodes["2"].next == "3"
