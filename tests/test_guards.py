"""kb check follows set facts into when guards: no question may show zero answers."""

from __future__ import annotations

from kbengine.compiler import compile_kb

GUARDED_TREE = """
title: Which computer
start: os
nodes:
  os:
    ask: Windows or Mac?
    answers:
      Windows: {next: fix, set: {os: windows}}
      Mac: {next: fix, set: {os: mac}}
      Linux: {next: fix, set: {os: linux}}
  fix:
    ask: Pick the fix
    answers:
      Restart Windows: {next: done, when: {os: windows}}
      Restart the Mac: {next: done, when: {os: [mac]}}
  done:
    solved: Restarted.
"""


def codes_at(kb, code: str) -> list[str]:
    return [f"{d.path}:{d.line}" for d in kb.diagnostics if d.code == code]


def test_question_with_every_answer_hidden_on_one_path_is_an_error(write_kb):
    kb = compile_kb(write_kb({"trees/which.yaml": GUARDED_TREE}))
    found = [d for d in kb.diagnostics if d.code == "KB416"]
    assert len(found) == 1
    assert found[0].severity == "error"
    assert (found[0].path, found[0].line) == ("trees/which.yaml", 10)
    assert "os=linux" in found[0].message


def test_guards_that_cover_every_path_pass(write_kb):
    covered = GUARDED_TREE.replace("Linux: {next: fix, set: {os: linux}}",
                                   "Linux: {next: done, set: {os: linux}}")
    kb = compile_kb(write_kb({"trees/which.yaml": covered}))
    assert codes_at(kb, "KB416") == []


def test_guard_on_a_fact_no_answer_sets_is_a_warning(write_kb):
    typo = GUARDED_TREE.replace("when: {os: [mac]}", "when: {sytem: [mac]}")
    kb = compile_kb(write_kb({"trees/which.yaml": typo}))
    assert codes_at(kb, "KB417") == ["trees/which.yaml:14"]


def test_facts_carried_into_another_tree_by_a_goto_are_followed(write_kb):
    caller = """
        title: Laptop trouble
        start: os
        nodes:
          os:
            ask: Windows or Mac?
            answers:
              Windows: {next: on, set: {os: windows}}
              Mac: {next: on, set: {os: mac}}
          on:
            goto: restart
    """
    restart = """
        title: Restart
        start: how
        nodes:
          how:
            ask: How do you restart?
            answers:
              Start menu: {next: done, when: {os: windows}}
              I don't know which computer I have: {next: done, when: {os: null}}
          done:
            solved: Restarted.
    """
    kb = compile_kb(write_kb({"trees/laptop.yaml": caller, "trees/restart.yaml": restart}))
    found = [d for d in kb.diagnostics if d.code == "KB416"]
    assert [(d.path, d.line) for d in found] == [("trees/restart.yaml", 4)]
    assert "os=mac" in found[0].message
