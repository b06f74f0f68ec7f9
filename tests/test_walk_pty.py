"""`kb walk` in a real pseudo-terminal (pexpect) on a copy of the bundled KB: one key per answer."""

from __future__ import annotations

import os
import shutil
import signal
import sys
from pathlib import Path

import pexpect
import pytest

from kbengine.walk.jsonl import JsonlStore
from kbengine.walk.store import Session

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")


@pytest.fixture
def sessions(tmp_path: Path) -> Path:
    return tmp_path / "sessions"


# the input prompt itself (not the hint on the step before): text, then the expected form in words, then ":"
ASSET_TAG_PROMPT = (r"front of the printer \(for example PR04512\)\S* "
                    r"\S*\(two letters and five digits, like AB12345\)\S*:")


# q leaves less; without less the article is shown in place and any key returns
LEAVE_ARTICLE = "q" if shutil.which("less") else "x"


def spawn(root: Path, sessions: Path, *args: str) -> pexpect.spawn:
    env = {**os.environ, "KB_SESSIONS": str(sessions), "COLUMNS": "200", "LINES": "60", "LESS": "-R"}
    env.pop("PAGER", None)  # less when the machine has it, else the article is shown in place
    child = pexpect.spawn("kb", ["walk", "--root", str(root), *args], env=env, encoding="utf-8",
                          dimensions=(60, 200), timeout=10)
    child.delaybeforesend = None
    return child


def press(child: pexpect.spawn, key: str, expect: str) -> None:
    """Press one key (no Enter) and wait for what the next screen shows."""
    child.send(key)
    child.expect(expect)


def only_session(sessions: Path) -> Session:
    [path] = sessions.glob("*.jsonl")
    return JsonlStore(sessions).read(path.stem)


def finish(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


def test_resolve_a_printer_problem_with_one_key_per_step(bundled_root: Path, sessions: Path) -> None:
    child = spawn(bundled_root, sessions, "printer-not-printing")
    child.expect("Which printer did you choose")
    child.expect("b back · r restart · n note · a article · / search · q quit")  # the footer
    press(child, "1", "Tap your badge on the printer")
    press(child, "2", "cancel all jobs in your print queue")
    child.expect("1/Enter done")
    press(child, "\r", r"FollowMe › 2 Tap your badge")  # one key confirms the action
    child.expect("Does your job print now")  # below the breadcrumb of the path so far
    press(child, "1", "Solved")
    child.expect("Your job printed")
    assert finish(child) == 0
    session = only_session(sessions)
    assert session.outcome == "solved"
    assert [s["answer"] for s in session.state["path"]] == [
        "FollowMe", "My job is not in the list", "done", "Yes"]


def test_escalate_asks_the_inputs_again_when_one_does_not_fit(bundled_root: Path, sessions: Path) -> None:
    child = spawn(bundled_root, sessions, "printer-not-printing", "--ticket", "INC0012345")
    child.expect("Which printer did you choose")
    press(child, "1", "Tap your badge on the printer")
    press(child, "1", "Go to another printer")
    press(child, "1", "Did your job print on the other printer")
    press(child, "1", "Second line - Workplace hardware")
    press(child, "1", ASSET_TAG_PROMPT)
    child.sendline("12345")
    child.expect(r"'12345' does not have the expected form \(two letters and five digits")
    child.expect(ASSET_TAG_PROMPT)  # asked again
    child.sendline("PR04512")
    child.expect(r"Building and room of the printer:\S* ")
    child.sendline("B2 3.14")
    child.expect("Ticket: INC0012345")  # the hand-over, as plain text for the ticket
    child.expect(pexpect.EOF)
    handover = child.before
    assert "Outcome: Escalated to Second line - Workplace hardware" in handover
    assert "- asset_tag: PR04512" in handover
    assert not set("│╭╮╰╯─*`") & set(handover), "no box characters or Markdown marks to clean up"
    assert finish(child) == 0
    session = only_session(sessions)
    assert session.outcome == "escalated" and session.ticket == "INC0012345"
    assert session.state["inputs"] == {"asset_tag": "PR04512", "location": "B2 3.14"}


def test_go_back_and_change_an_earlier_answer(bundled_root: Path, sessions: Path) -> None:
    child = spawn(bundled_root, sessions, "cannot-sign-in")
    child.expect("Where are you trying to sign in")
    press(child, "1", "What happens when you enter your password")
    press(child, "1", "Check Caps Lock")
    press(child, "b", "What happens when you enter your password")
    press(child, "2", "Wait 15 minutes")
    press(child, "n", "Note:")
    child.sendline("caller is abroad")
    child.expect("Note kept")
    press(child, "q", "Abandon this walk?")  # answers were given: ask first
    press(child, "y", "abandoned")
    assert finish(child) == 0
    session = only_session(sessions)
    assert session.outcome == "abandoned"
    assert [s["answer"] for s in session.state["path"]] == [
        "On my Windows laptop", "It says my account is locked"]
    assert [n["text"] for n in session.state["notes"]] == ["caller is abroad"]


def test_a_walk_killed_with_sigkill_resumes_where_it_was(bundled_root: Path, sessions: Path) -> None:
    child = spawn(bundled_root, sessions, "cannot-sign-in")
    child.expect("Where are you trying to sign in")
    press(child, "1", "What happens when you enter your password")
    press(child, "1", "Check Caps Lock")
    child.kill(signal.SIGKILL)
    child.close(force=True)
    session_id = only_session(sessions).id

    resumed = spawn(bundled_root, sessions, "--resume", session_id)
    resumed.expect("It says the password is incorrect")  # the answers so far, in the breadcrumb
    resumed.expect("Check Caps Lock")  # the step in progress when it was killed
    press(resumed, "1", "Can you sign in now")
    press(resumed, "1", "You can sign in again")
    assert finish(resumed) == 0
    session = only_session(sessions)
    assert session.id == session_id and session.outcome == "solved"
    assert [e.name for e in session.events] == ["start", "answer", "answer", "resume", "done", "answer"]


def test_without_a_tree_it_asks_the_problem_and_offers_matching_trees(bundled_root: Path,
                                                                      sessions: Path) -> None:
    child = spawn(bundled_root, sessions)
    child.expect("What is the problem?")
    child.sendline("printer offline")
    child.expect(r"(\d)\S*  Printer does not print")
    number = child.match.group(1)
    child.expect("q quit")
    press(child, number, "Which printer did you choose")
    press(child, "2", "Add the FollowMe printer from Company Portal")
    press(child, "a", "Add the FollowMe printer to your computer")  # the step's article, in the pager
    press(child, LEAVE_ARTICLE, "Add the FollowMe printer from Company Portal")  # the step again
    press(child, "q", "Abandon this walk?")
    press(child, "y", "abandoned")
    assert finish(child) == 0
    session = only_session(sessions)
    assert session.tree == "printer-not-printing"
    assert session.start.query == "printer offline"  # search learns from the walk once one is solved
    assert "article_opened" in [event.name for event in session.events]
