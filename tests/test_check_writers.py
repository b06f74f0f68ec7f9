"""Diagnostics that help a writer: did-you-mean, misspelt front-matter keys, tabs named as tabs,
SARIF for code scanning, and path coverage of trees by their examples."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from kbengine.check.coverage import tree_paths
from kbengine.cli import cli
from kbengine.compiler import compile_kb
from kbengine.model import Diagnostic
from tests.conftest import MINIMAL_CONFIG, WriteKB

PRINTER = """
    title: Printer
    start: power
    nodes:
      power:
        ask: Is the printer on?
        answers: {Yes: queue, No: error-light}
      queue: {do: Clear the queue, next: printed}
      printed:
        ask: Did the test page print?
        answers: {Yes: fixed, No: escalate}
      fixed: {solved: Printing again}
      escalate: {escalate: {team: Second line}}
      error-light: {goto: printer-error-codes}
    """
ERROR_CODES = """
    title: Printer error codes
    start: message
    nodes:
      message: {ask: What does the display say?, answers: {Paper jam: jam, Other: done}}
      jam: {do: Open tray 2 and remove the paper, next: done}
      done: {solved: Cleared}
    """


def found(root: Path) -> list[Diagnostic]:
    return compile_kb(root, use_cache=False).diagnostics


def test_misspelt_field_gets_did_you_mean(write_kb: WriteKB) -> None:
    tree = PRINTER.replace("next: printed", "nxt: printed")
    diagnostics = found(write_kb({"trees/printer.yaml": tree, "trees/printer-error-codes.yaml": ERROR_CODES}))
    assert [(d.message, d.hint) for d in diagnostics if d.code == "KB201"] == [
        ("unknown field 'nxt' in 'nodes.queue'", "did you mean 'next'?")]


def test_misspelt_goto_gets_did_you_mean(write_kb: WriteKB) -> None:
    tree = PRINTER.replace("goto: printer-error-codes", "goto: printer-eror-codes")
    [problem] = found(write_kb({"trees/printer.yaml": tree, "trees/printer-error-codes.yaml": ERROR_CODES}))
    assert (problem.code, problem.hint) == ("KB405", "did you mean 'printer-error-codes'?")


def test_misspelt_node_id_gets_did_you_mean(write_kb: WriteKB) -> None:
    tree = PRINTER.replace("next: printed", "next: printd")
    diagnostics = found(write_kb({"trees/printer.yaml": tree, "trees/printer-error-codes.yaml": ERROR_CODES}))
    assert [(d.code, d.hint) for d in diagnostics if d.code == "KB404"] == [
        ("KB404", "did you mean 'printed'?")]


def test_misspelt_front_matter_key_is_a_warning_but_foreign_keys_are_kept_quietly(write_kb: WriteKB) -> None:
    root = write_kb({"articles/printing/jam.md": """
        ---
        title: Clear a paper jam
        categroy: printing
        ms.author: someone
        layout: page
        ---
        Open tray 2.
        """})
    [problem] = found(root)
    assert (problem.line, problem.col, problem.code, problem.severity) == (3, 1, "KB204", "warning")
    assert "did you mean 'category'?" in problem.message


def test_a_tab_is_named_as_a_tab(write_kb: WriteKB) -> None:
    root = write_kb({"trees/t.yaml": "title: T\nstart: a\nnodes:\n  a:\n\tsolved: Done\n"})
    [problem] = found(root)
    assert (problem.line, problem.code) == (5, "KB103")
    assert "tab" in problem.message and "spaces" in problem.hint


def test_sarif_names_each_rule_and_result_with_its_location(write_kb: WriteKB) -> None:
    tree = PRINTER.replace("goto: printer-error-codes", "goto: printer-eror-codes")
    root = write_kb({"trees/printer.yaml": tree, "trees/printer-error-codes.yaml": ERROR_CODES})
    result = CliRunner().invoke(cli, ["check", "--format", "sarif", "--root", str(root)])
    assert result.exit_code == 1
    sarif = json.loads(result.output)
    run = sarif["runs"][0]
    assert sarif["version"] == "2.1.0" and run["tool"]["driver"]["name"] == "kb"
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == ["KB405"]
    [item] = run["results"]
    location = item["locations"][0]["physicalLocation"]
    assert (item["ruleId"], item["level"], location["artifactLocation"]["uri"],
            location["region"]) == ("KB405", "error", "trees/printer.yaml",
                                    {"startLine": 13, "startColumn": 23})


def test_every_path_is_enumerated_and_a_loop_is_taken_at_most_once(write_kb: WriteKB) -> None:
    root = write_kb({"trees/t.yaml": """
        title: Loop
        start: a
        nodes:
          a: {ask: Works?, answers: {Yes: done, No: retry}}
          retry: {do: Restart, next: a}
          done: {solved: Fine}
        """})
    tree = compile_kb(root, use_cache=False).trees["t"]
    paths, capped = tree_paths(tree)
    assert not capped and paths == [
        (("a", "Yes"), ("done", None)),
        (("a", "No"), ("retry", None), ("a", "Yes"), ("done", None))]


def test_coverage_counts_what_the_examples_reach_and_fails_under_the_threshold(write_kb: WriteKB) -> None:
    tree = PRINTER + """
    examples:
      - answers: ["Yes", "Yes"]
        ends_at: fixed
    """
    root = write_kb({"trees/printer.yaml": tree, "trees/printer-error-codes.yaml": ERROR_CODES},
                    config=MINIMAL_CONFIG + "coverage: {ends: 100}\n")
    result = CliRunner().invoke(cli, ["check", "--coverage", "--json", "--root", str(root)])
    assert result.exit_code == 1
    report = json.loads(result.output)["coverage"]
    printer = next(t for t in report["trees"] if t["tree"] == "printer")
    assert (printer["ends"]["covered"], printer["ends"]["total"]) == (1, 3)
    assert (printer["answers"]["covered"], printer["answers"]["total"]) == (2, 4)
    assert (printer["paths"]["covered"], printer["paths"]["total"]) == (1, 3)
    assert printer["missed_ends"] == ["escalate", "error-light"]
    assert "printer: ends 33.3% is under 100%" in report["shortfalls"]


def test_bundled_trees_reach_every_end_with_their_examples() -> None:
    root = Path(__file__).resolve().parent.parent
    result = CliRunner().invoke(cli, ["check", "--coverage", "--root", str(root)])
    assert result.exit_code == 0, result.output
    assert "coverage under threshold" not in result.output


def test_new_tree_names_its_schema_for_the_editor_and_the_schema_is_in_the_kb(write_kb: WriteKB) -> None:
    root = write_kb({})
    result = CliRunner().invoke(cli, ["new", "tree", "Scanner does not scan", "--root", str(root)])
    assert result.exit_code == 0, result.output
    text = (root / "trees" / "scanner-does-not-scan.yaml").read_text("utf-8")
    assert text.splitlines()[0] == "# yaml-language-server: $schema=../schemas/tree.json"
    schema = json.loads((root / "schemas" / "tree.json").read_text("utf-8"))
    assert schema["$id"] == "tree.json"  # resolves beside the file, wherever the KB is cloned
    assert found(root) == []  # schemas/ is not content: the compiler reads nothing there


def test_each_pre_commit_hook_runs_kb_check_cleanly_on_the_bundled_kb() -> None:
    import shlex

    import yaml

    root = Path(__file__).resolve().parent.parent
    hooks = yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text("utf-8"))
    assert [hook["id"] for hook in hooks] == ["kb-check", "kb-check-coverage"]
    for hook in hooks:
        program, *args = shlex.split(hook["entry"])
        assert program == "kb"
        result = CliRunner().invoke(cli, [*args, "--root", str(root)])
        assert result.exit_code == 0, (hook["id"], result.output)
