"""The rule registry and docs/rules.md say the same: every code documented, every documented
code real, with the same severity and title, and every emitter takes its severity from it."""

from __future__ import annotations

import re
import subprocess

from kbengine.check.registry import RULES, diagnostic
from tests.conftest import REPO

RULES_MD = (REPO / "docs" / "rules.md").read_text("utf-8")
HEADING = re.compile(r"^## (KB\d{3}) — (.+)$", re.MULTILINE)


def documented() -> dict[str, tuple[str, str]]:
    """{code: (severity, title)} as docs/rules.md writes them."""
    sections = HEADING.split(RULES_MD)[1:]
    found = {}
    for code, title, text in zip(sections[::3], sections[1::3], sections[2::3], strict=True):
        severity = re.search(r"\*\*Severity:\*\* (error|warning)", text)
        assert severity, f"{code} in docs/rules.md says no severity"
        found[code] = (severity.group(1), title.strip())
    return found


def test_every_registered_code_is_documented_with_its_severity_and_title() -> None:
    docs = documented()
    assert {code: (rule.severity, rule.title) for code, rule in RULES.items()} == {
        code: docs.get(code) for code in RULES}


def test_docs_explain_no_code_the_registry_does_not_know() -> None:
    assert sorted(set(documented()) - set(RULES)) == []


def test_a_rule_links_to_its_heading_in_the_docs() -> None:
    rule = RULES["KB502"]
    assert rule.doc == "docs/rules.md#kb502--id-names-nothing"
    assert f"## {rule.code} — {rule.title}" in RULES_MD


def test_a_diagnostic_takes_its_severity_from_the_registry() -> None:
    assert diagnostic("KB406", "trees/t.yaml", 3, 1, "unreachable").severity == "warning"
    assert diagnostic("KB404", "trees/t.yaml", 3, 1, "missing").severity == "error"


def test_every_code_written_in_kbengine_is_registered() -> None:
    written = subprocess.run(["grep", "-rhoE", r'"KB[0-9]{3}"', "kbengine"], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout.split()
    assert {code.strip('"') for code in written} - set(RULES) == set()


def test_no_module_writes_a_severity_beside_a_code() -> None:
    """Severities come from the registry: no `"KB..", "error"` pairs left in the emitters."""
    pairs = subprocess.run(["grep", "-rnE", "--exclude=registry.py",
                            r'"KB[0-9]{3}", "(error|warning)"', "kbengine"],
                           cwd=REPO, capture_output=True, text=True).stdout
    assert pairs == ""
