"""Tree examples: kb check walks each example and reports one that ends elsewhere (KB418)."""

from __future__ import annotations

from kbengine.compiler import compile_kb

PRINTER = """
title: Printer does not print
start: power
nodes:
  power:
    ask: Is the printer on?
    answers:
      Yes: queue
      No: {next: hardware, set: {power_fault: true}}
  queue:
    do: Clear the print queue and print a test page.
    next: printed
  printed:
    ask: Did the test page print?
    answers: {Yes: fixed, No: hardware}
  fixed:
    solved: A stuck job blocked the queue.
  hardware:
    escalate: {team: Second line - hardware, priority: P3}
    collect:
      - {name: asset_tag, prompt: Asset tag, pattern: '^[A-Z]{2}\\d{5}$'}
examples:
"""


def problems(write_kb, examples: str) -> list[tuple[int, str]]:
    kb = compile_kb(write_kb({"trees/printer.yaml": PRINTER + examples}))
    return [(d.line, d.message) for d in kb.diagnostics if d.code == "KB418"]


def test_examples_that_end_where_they_say_pass(write_kb):
    assert problems(write_kb, """
  - {answers: [Yes, Yes], ends_at: fixed, outcome: solved}
  - {answers: [No], inputs: {asset_tag: PR04512}, ends_at: hardware, outcome: escalated}
  - {answers: [Yes], ends_at: printed}
""") == []


def test_an_example_that_ends_elsewhere_is_an_error_at_its_line(write_kb):
    assert problems(write_kb, """
  - {answers: [Yes, No], ends_at: fixed}
""") == [(23, "example 1: should end at 'fixed' but stops at 'hardware', "
              "waiting for the input 'asset_tag'")]


def test_an_example_with_the_wrong_outcome_is_an_error(write_kb):
    [(_, message)] = problems(write_kb, """
  - {answers: [Yes, Yes], outcome: escalated}
""")
    assert message == "example 1: should end (escalated) but ends at 'fixed' (solved)"


def test_an_answer_the_tree_does_not_offer_names_the_ones_it_does(write_kb):
    [(_, message)] = problems(write_kb, """
  - {answers: [Maybe], ends_at: fixed}
""")
    assert "'Maybe' is not an answer" in message and '"Yes", "No"' in message


def test_an_input_that_breaks_its_pattern_fails_the_example(write_kb):
    [(_, message)] = problems(write_kb, """
  - {answers: [No], inputs: {asset_tag: printer 5}, ends_at: hardware}
""")
    assert "'printer 5' does not match" in message


def test_an_example_needs_an_end_or_an_outcome(write_kb):
    kb = compile_kb(write_kb({"trees/printer.yaml": PRINTER + "  - {answers: [Yes, Yes]}\n"}))
    assert [d.code for d in kb.diagnostics] == ["KB201"]


def test_the_bundled_trees_examples_pass(bundled_kb):
    with_examples = [t for t in bundled_kb.trees.values() if t.examples]
    assert len(with_examples) >= 4
    assert not [d for d in bundled_kb.diagnostics if d.code == "KB418"]


def test_actions_that_loop_back_end_the_example_with_a_message(write_kb):
    loop = """
title: Loop
start: a
nodes:
  a: {ask: Start?, answers: {Go: b, Stop: done}}
  b: {do: Try again., next: c}
  c: {do: And again., next: b}
  done: {solved: Stopped.}
examples:
  - {answers: [Go], ends_at: done}
"""
    kb = compile_kb(write_kb({"trees/loop.yaml": loop}))
    [found] = [d for d in kb.diagnostics if d.code == "KB418"]
    assert "lead back to it without a question" in found.message
