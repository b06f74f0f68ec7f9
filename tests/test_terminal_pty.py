"""`kb walk` in a real pseudo-terminal: a Dutch tree walks in Dutch, the article opens in a pager with its
wiki links as titles, `q` asks first, and the form of an input is given in words (its pattern with -v)."""

from __future__ import annotations

import sys
from pathlib import Path

import pexpect
import pytest

from tests.test_walk_pty import LEAVE_ARTICLE, finish, only_session, press, spawn

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")


@pytest.fixture
def sessions(tmp_path: Path) -> Path:
    return tmp_path / "sessions"


def test_a_dutch_tree_walks_in_dutch_with_its_article_in_the_pager(bundled_root: Path,
                                                                   sessions: Path) -> None:
    child = spawn(bundled_root, sessions, "geen-beeld-of-geluid-in-vergadering")
    child.expect("Vraag")  # the panel's title
    child.expect("Wat is het probleem in de vergadering")
    child.expect("b terug · r opnieuw · n notitie · a artikel · / zoeken · q stoppen")
    press(child, "1", "Welke computer gebruik je")
    press(child, "1", "Controleer eerst de hardware")
    child.expect("1/Enter gedaan")
    press(child, "\r", "Apparaatinstellingen")
    child.expect("gedaan")  # the breadcrumb says the action was done, in Dutch
    press(child, "a", "Geen geluid")  # the step's article, in less (or in place without it)
    child.expect("Je computer goed opnieuw opstarten")  # [[computer-goed-herstarten]] as its title
    assert "[[" not in child.before
    press(child, LEAVE_ARTICLE, "Apparaatinstellingen")  # out of the article, back at the step
    press(child, "q", "Deze doorloop afbreken?")
    press(child, "n", "Apparaatinstellingen")  # not abandoned: the step again
    press(child, "q", "Deze doorloop afbreken?")
    press(child, "j", "Doorloop afgebroken")
    assert finish(child) == 0
    assert only_session(sessions).outcome == "abandoned"


def test_q_at_the_first_step_abandons_without_asking(bundled_root: Path, sessions: Path) -> None:
    child = spawn(bundled_root, sessions, "printer-not-printing")
    child.expect("Which printer did you choose")
    press(child, "q", "Walk abandoned")
    assert finish(child) == 0


def _to_the_dutch_escalation(child: pexpect.spawn) -> None:
    child.expect("Welke printer heb je gekozen")
    press(child, "1", "Houd je pas tegen de printer")
    press(child, "1", "Loop naar een andere printer")
    press(child, "1", "Is je afdruk op de andere printer wel uitgekomen")
    press(child, "1", "Doorzetten naar")
    child.send("1")


def test_a_dutch_escalation_asks_the_form_in_words_and_hands_over_in_dutch(bundled_root: Path,
                                                                            sessions: Path) -> None:
    child = spawn(bundled_root, sessions, "printer-drukt-niet-af", "--ticket", "INC0012345")
    _to_the_dutch_escalation(child)
    child.expect(r"twee letters en vijf cijfers, zoals AB12345\)\S*:")
    assert "^[A-Z]" not in child.before  # the raw pattern only with --verbose
    child.sendline("12345")
    child.expect("'12345' heeft niet de verwachte vorm")
    child.sendline("PR04512")
    child.expect(r":\S* ")
    child.sendline("Gebouw B, 2e verdieping")
    child.expect("Melding: INC0012345")
    child.expect(pexpect.EOF)
    assert "Uitkomst: Doorgezet naar Second line - Workplace hardware, prioriteit P3" in child.before
    assert finish(child) == 0
    assert only_session(sessions).outcome == "escalated"


def test_verbose_shows_the_pattern_beside_the_words(bundled_root: Path, sessions: Path) -> None:
    child = spawn(bundled_root, sessions, "printer-drukt-niet-af", "--verbose")
    _to_the_dutch_escalation(child)
    child.expect(r"twee letters en vijf cijfers, zoals AB12345; patroon \^\[A-Z\]\{2\}\\d\{5\}\$")
    child.sendcontrol("c")
    child.expect(pexpect.EOF)
