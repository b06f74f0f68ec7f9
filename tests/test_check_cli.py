"""`kb check`: every problem at its line, in text, JSON and GitHub formats, with exit 0/1/2."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from kbengine.cli import cli
from tests.conftest import REPO, WriteKB

BROKEN = Path(__file__).parent / "fixtures" / "broken"

# One row per deliberately broken file: (path, line, col, severity, code).
EXPECTED = [
    ("articles/broken-page-link.md", 3, 17, "warning", "KB501"),
    ("articles/broken-wiki-link.md", 3, 5, "warning", "KB502"),
    ("articles/docfx/docfx-paths.md", 3, 8, "warning", "KB504"),  # ..\docfx\target-page.md
    ("articles/docfx/docfx-paths.md", 3, 44, "warning", "KB504"),  # Target-Page.md
    ("articles/duplicate-id-second.md", 3, 5, "error", "KB301"),
    ("articles/empty.md", 1, 1, "error", "KB102"),
    ("articles/foreign-audience.md", 3, 11, "warning", "KB203"),
    ("articles/hostile-long-line.md", 3, 1, "warning", "KB108"),
    ("articles/missing-image.md", 3, 15, "warning", "KB503"),
    ("articles/network/same-name.md", 1, 1, "warning", "KB302"),
    ("articles/not-utf8.md", 1, 6, "error", "KB101"),
    ("articles/printing/same-name.md", 1, 1, "warning", "KB302"),
    ("articles/public-links-hidden.md", 2, 11, "warning", "KB507"),  # related: draft
    ("articles/public-links-hidden.md", 6, 5, "warning", "KB507"),  # [[internal]]
    ("articles/public-links-hidden.md", 6, 44, "warning", "KB507"),  # archived
    ("trees/action-without-next.yaml", 7, 3, "error", "KB410"),
    ("trees/alias-bomb.yaml", 1, 1, "error", "KB105"),
    ("trees/answer-to-missing-node.yaml", 8, 7, "error", "KB404"),
    ("trees/duplicate-key.yaml", 6, 3, "error", "KB104"),
    ("trees/empty.yaml", 1, 1, "error", "KB102"),
    ("trees/goto-cycle-one.yaml", 7, 3, "error", "KB412"),
    ("trees/goto-cycle-two.yaml", 7, 3, "error", "KB412"),
    ("trees/goto-missing-tree.yaml", 8, 11, "error", "KB405"),
    ("trees/loop-no-exit.yaml", 7, 3, "error", "KB407"),  # once for the whole loop
    ("trees/missing-start.yaml", 1, 1, "error", "KB201"),
    ("trees/public-step-internal-article.yaml", 6, 14, "warning", "KB414"),
    ("trees/question-without-answers.yaml", 4, 3, "error", "KB408"),
    ("trees/recursive-alias.yaml", 4, 6, "error", "KB105"),
    ("trees/recursive-alias.yaml", 4, 6, "error", "KB201"),  # the alias left the node empty
    ("trees/start-names-missing-node.yaml", 2, 8, "error", "KB403"),
    ("trees/step-to-missing-article.yaml", 6, 14, "warning", "KB413"),
    ("trees/two-kinds.yaml", 4, 3, "error", "KB402"),
    ("trees/unknown-field.yaml", 3, 1, "error", "KB201"),
    ("trees/unknown-node-kind.yaml", 7, 3, "error", "KB401"),
    ("trees/unknown-node-kind.yaml", 8, 5, "error", "KB201"),  # 'question' is no field
    ("trees/unreachable-node.yaml", 6, 3, "warning", "KB406"),
    ("trees/wrong-type.yaml", 2, 11, "error", "KB201"),
    ("trees/yaml-syntax-error.yaml", 1, 15, "error", "KB103"),
]
LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): "
                  r"(?P<severity>error|warning) (?P<code>KB\d{3}) ")


@pytest.fixture(scope="module")
def broken_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the broken KB (so .kb/ is not written into the repo) plus a 1 MB hostile line."""
    root = tmp_path_factory.mktemp("broken") / "kb"
    shutil.copytree(BROKEN, root)
    (root / "articles" / "hostile-long-line.md").write_text(
        "# A line of a million brackets\n\n" + "[![" * 350_000 + "\n", "utf-8")
    return root


def kb(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kbengine", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_check_reports_every_broken_file_at_its_line_without_traceback(broken_root: Path) -> None:
    started = time.perf_counter()
    result = kb("check", "--no-cache", "--root", str(broken_root))
    assert time.perf_counter() - started < 60
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr and result.stderr == ""
    found = [(m["path"], int(m["line"]), int(m["col"]), m["severity"], m["code"])
             for m in map(LINE.match, result.stdout.splitlines()) if m]
    assert found == EXPECTED
    errors = sum(row[3] == "error" for row in EXPECTED)
    assert result.stdout.rstrip().endswith(
        f"Found {errors} errors and {len(EXPECTED) - errors} warnings in 39 files.")


def test_every_broken_file_is_in_the_table() -> None:
    files = {p.relative_to(BROKEN).as_posix() for p in BROKEN.rglob("*")
             if p.is_file() and p.parent != BROKEN}
    clean = {"articles/docfx/target-page.md", "articles/duplicate-id-first.md",
             "articles/hidden/draft-article.md", "articles/hidden/internal-article.md",
             "articles/hidden/archived-article.md", "articles/hostile-script-title.md"}
    added_by_fixture = {"articles/hostile-long-line.md"}
    assert files == ({row[0] for row in EXPECTED} - added_by_fixture) | clean


def test_hostile_content_is_kept_as_text(broken_root: Path) -> None:
    from kbengine.compiler import compile_kb

    kb_ = compile_kb(broken_root, use_cache=False)
    assert kb_.articles["hostile-script-title"].title == "<script>alert('kb')</script>"
    assert kb_.articles["hostile-long-line"].links == []
    assert "shared-id" in kb_.articles and kb_.articles["shared-id"].path == "articles/duplicate-id-first.md"


def test_json_format_has_every_field_and_a_summary(broken_root: Path) -> None:
    result = kb("check", "--format", "json", "--root", str(broken_root))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    first = report["diagnostics"][0]
    assert set(first) == {"path", "line", "col", "code", "severity", "message", "hint"}
    rows = [(d["path"], d["line"], d["col"], d["severity"], d["code"]) for d in report["diagnostics"]]
    assert rows == EXPECTED
    errors = sum(row[3] == "error" for row in EXPECTED)
    assert report["summary"]["errors"] == errors and report["summary"]["warnings"] == len(EXPECTED) - errors
    assert json.loads(kb("check", "--json", "--root", str(broken_root)).stdout) == report


def test_github_format_writes_annotations(broken_root: Path) -> None:
    result = kb("check", "--format", "github", "--root", str(broken_root))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == len(EXPECTED)
    assert lines[0] == ("::warning file=articles/broken-page-link.md,line=3,col=17,title=KB501::"
                        "linked page 'clear-the-queue.md' not found - check the path, relative to this file")
    assert "Found" in result.stderr


def clean_kb(write_kb: WriteKB, warnings: bool) -> Path:
    link = "[gone](gone.md)" if warnings else "Fine."
    return write_kb({"articles/accounts/a.md": f"# A\n{link}\n",
                     "trees/t.yaml": "title: T\nstart: a\nnodes:\n  a:\n    solved: Done\n"})


def test_clean_kb_exits_0_with_a_summary(write_kb: WriteKB) -> None:
    result = CliRunner().invoke(cli, ["check", "--root", str(clean_kb(write_kb, warnings=False))])
    assert result.exit_code == 0
    assert result.output == "All clear: 2 files checked, no problems.\n"


def test_warnings_pass_unless_strict(write_kb: WriteKB) -> None:
    root = str(clean_kb(write_kb, warnings=True))
    relaxed = CliRunner().invoke(cli, ["check", "--root", root])
    assert relaxed.exit_code == 0 and "warning KB501" in relaxed.output
    strict = CliRunner().invoke(cli, ["check", "--strict", "--root", root])
    assert strict.exit_code == 1 and "Found 0 errors and 1 warning in 2 files." in strict.output


def test_finds_the_kb_from_a_subfolder(write_kb: WriteKB) -> None:
    root = clean_kb(write_kb, warnings=False)
    result = kb("check", cwd=root / "articles" / "accounts")
    assert result.returncode == 0 and "All clear" in result.stdout


@pytest.mark.parametrize("args", [["check", "--root", "/no/such/folder"], ["check", "--bogus"],
                                  ["check", "--format", "xml"], ["check"]])
def test_usage_errors_exit_2_with_a_message(args: list[str], tmp_path: Path) -> None:
    result = kb(*args, cwd=tmp_path)  # tmp_path holds no KB
    assert result.returncode == 2
    assert "Error:" in result.stderr and "Traceback" not in result.stderr


def test_help_is_a_manual_with_examples_and_exit_codes() -> None:
    result = CliRunner().invoke(cli, ["check", "--help"])
    assert result.exit_code == 0
    assert "Exit status" in result.output and "kb check --strict --format github" in result.output


def test_python_dash_m_runs_kb() -> None:
    result = kb("--help")
    assert result.returncode == 0 and "check" in result.stdout


def test_bundled_kb_passes_strict(bundled_root: Path) -> None:
    result = CliRunner().invoke(cli, ["check", "--strict", "--root", str(bundled_root)])
    assert result.exit_code == 0, result.output


def test_every_code_the_code_emits_is_documented_in_rules_md() -> None:
    emitted = set()
    for source in (REPO / "kbengine").rglob("*.py"):
        emitted |= set(re.findall(r"\"(KB\d{3})\"", source.read_text("utf-8")))
    rules = (REPO / "docs" / "rules.md").read_text("utf-8")
    documented = set(re.findall(r"^## (KB\d{3})\b", rules, re.MULTILINE))
    assert emitted, "no codes found: the grep is wrong"
    assert sorted(emitted - documented) == []
    assert sorted(documented - emitted) == []  # no rule documented that nothing emits
    for code in sorted(emitted):
        section = rules.split(f"## {code}", 1)[1].split("\n## ", 1)[0]
        assert re.search(r"\*\*Severity:\*\* (error|warning)", section), code
        assert "Bad" in section and "Good" in section, code
