"""`kb walk`: walk a troubleshooting tree with a caller, interactively or scripted, recording a session."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from kbengine.cli.options import open_outline, prepare_search, print_json, root_option
from kbengine.compiler import load_content
from kbengine.kb import KBOutline, KnowledgeBase
from kbengine.walk.engine import Walk, WalkError, drive, quoted, replay
from kbengine.walk.handover import handover, handover_markdown
from kbengine.walk.records import (
    Session,
    SessionError,
    SessionRecord,
    agent_name,
    load_session,
    new_session_id,
    read_events,
    sessions_folder,
)


@dataclass
class RecordedWalk:
    """A walk whose every action is appended to its session record."""

    walk: Walk
    record: SessionRecord
    session_id: str
    warnings: list[str] = field(default_factory=list)

    def handover_text(self) -> str:
        session = Session(self.session_id, self.record.path, read_events(self.record.path))
        return handover_markdown(handover(session))


def start_walk(kb: KBOutline, tree_id: str, ticket: str | None) -> RecordedWalk:
    """A new walk of `tree_id` with a new session record."""
    walk = Walk(kb.trees, tree_id)
    tree = kb.trees[tree_id]
    session_id = new_session_id()
    record = SessionRecord.create(sessions_folder(kb.root, kb.config), session_id, {
        "at": walk.clock(),
        "tree": tree_id, "tree_title": tree.title, "tree_hash": tree.content_hash,
        "ticket": ticket or "", "agent": agent_name(), "kb_root": str(kb.root),
        "kb_title": kb.config.title, "state": walk.snapshot()})
    walk.listener = record.append
    return RecordedWalk(walk, record, session_id)


def resume_walk(kb: KBOutline, session_id: str, ticket: str | None) -> RecordedWalk:
    """Replay a recorded walk through the engine and continue appending to its record."""
    session = load_session(sessions_folder(kb.root, kb.config), session_id)
    if session.outcome in ("solved", "escalated"):
        raise SessionError(f"session {session.id} has already ended ({session.outcome}); "
                           f"start a new walk, or see it with: kb sessions show {session.id}")
    tree = kb.trees.get(session.tree)
    if tree is None:
        raise SessionError(f"session {session.id} walked tree '{session.tree}', "
                           "which is no longer in this KB")
    walk, problems = replay(kb.trees, session.tree, session.events)
    warnings = []
    hashes = [e["tree_hash"] for e in session.events if e.get("tree_hash")]
    if hashes and hashes[-1] != tree.content_hash:
        warnings.append(f"tree '{tree.id}' has changed since this session was recorded; "
                        "the recorded answers were applied as far as they still fit")
    warnings += problems
    record = SessionRecord.reopen(session.path)
    walk.listener = record.append
    walk.reopen(tree_hash=tree.content_hash, ticket=ticket or session.ticket)
    return RecordedWalk(walk, record, session.id, warnings)


def run_scripted(recorded: RecordedWalk, answers: list[str], inputs: dict[str, str]) -> dict[str, Any]:
    """Feed the answers to ask steps and the inputs to the escalation, until an end or a stop."""
    walk = recorded.walk
    error, used = drive(walk, answers, inputs)
    result: dict[str, Any] = {"session": recorded.session_id, **walk.snapshot(),
                              "record": str(recorded.record.path)}
    if not walk.ended:
        result["waiting_for"] = waiting_for(walk)
    unused = sorted(set(inputs) - used)
    warnings = [*recorded.warnings]
    if unused:
        warnings.append(f"input not asked in this walk: {', '.join(unused)}")
    if warnings:
        result["warnings"] = warnings
    if error:
        result["error"] = error
    return result


def waiting_for(walk: Walk) -> dict[str, Any]:
    """What the walk needs next: an answer (and which), an action confirmed, or an input."""
    node = walk.node
    if node.kind == "ask":
        return {"kind": "answer", "prompt": node.prompt, "answers": [a.label for a in walk.choices()]}
    item = walk.pending_input()
    if item is not None:
        return {"kind": "input", "name": item.name, "prompt": item.prompt, "pattern": item.pattern}
    return {"kind": node.kind, "prompt": node.prompt}


def format_result(result: dict[str, Any], handover_text: str) -> str:
    """The scripted result for people: where the walk is, or the hand-over when it ended."""
    lines = []
    if result["outcome"] == "in_progress":
        wanted = result["waiting_for"]
        lines.append(f"Stopped at '{result['node']}' ({result['tree']}): {wanted['prompt']}")
        if wanted["kind"] == "answer":
            lines.append("Possible answers: " + quoted(wanted["answers"]))
        elif wanted["kind"] == "input":
            lines.append(f"Needs input {wanted['name']}" + (f" matching {wanted['pattern']}"
                                                             if wanted["pattern"] else ""))
        lines.append(f"Session {result['session']}; continue with "
                     f"kb walk --resume {result['session']} --answer ...")
    else:
        lines.append(handover_text.rstrip())
    return "\n".join(lines)


def _parse_inputs(values: tuple[str, ...]) -> dict[str, str]:
    inputs = {}
    for value in values:
        name, sep, text = value.partition("=")
        if not sep or not name.strip():
            raise click.UsageError(f"--input {value!r}: write it as name=value, e.g. asset_tag=NL12345")
        inputs[name.strip()] = text
    return inputs


def _search_hits(kb: KBOutline) -> Any:
    loaded: list[KnowledgeBase] = []  # searching needs the articles, which a walk alone never reads

    def hits(text: str, kind: str) -> list[Any]:
        from kbengine.search import QueryError, search

        if not loaded:
            loaded.append(load_content(kb))
        full = loaded[0]
        prepare_search(full)
        try:
            return list(search(full, text, kind=kind, limit=5).hits)
        except QueryError:
            return []  # a query the index cannot run finds nothing; the agent tries other words

    return hits


@click.command("walk")
@click.argument("tree", required=False)
@root_option
@click.option("--ticket", metavar="REF", help="Tie the session to a ticket number, e.g. INC0012345.")
@click.option("--resume", "resume_id", metavar="ID",
              help="Continue a session that was stopped, killed or abandoned.")
@click.option("--answer", "answers", multiple=True, metavar="LABEL",
              help="Scripted: the answer to the next question (repeat, in order). Case is ignored.")
@click.option("--input", "inputs", multiple=True, metavar="NAME=VALUE",
              help="Scripted: a value asked at an escalation (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Scripted: print the state as JSON.")
def command(tree: str | None, root: Path | None, ticket: str | None, resume_id: str | None,
            answers: tuple[str, ...], inputs: tuple[str, ...], as_json: bool) -> None:
    """Walk a troubleshooting tree with a caller, step by step, and record the session.

    \b
    In a terminal (interactive):
      Each step is shown with its text and numbered answers; press the number (no Enter).
      An action step: press 1 or Enter when it is done. Keys in the footer:
        b back one step    r restart    n add a note    a open the step's article
        / search articles  q quit (the session is kept as abandoned)
      Without TREE, kb asks "What is the problem?" and offers the best matching trees.
      At an escalation kb asks the inputs second line needs (asset tag, ...), asking again
      when a value does not have the expected form, then prints the hand-over.

    \b
    Scripted (with --answer, --input or --json, or when not on a terminal):
      Answers go to question steps only, in order; action steps are confirmed and gotos
      followed by themselves. Labels match ignoring case and surrounding spaces. When the
      answers run out before an end, the walk stops there: outcome "in_progress", with
      "waiting_for" naming the possible answers or the input needed; continue it later
      with --resume ID and more --answer options.

    Every walk writes a session record (see `kb sessions --help`; folder: $KB_SESSIONS,
    else `sessions:` in kb.yaml, else ~/.local/share/kbengine/sessions/<kb folder name>).

    \b
    Exit status: 0 the walk ended or stopped for more answers, 1 an answer or input did
                 not fit (the error names the valid answers), an unknown tree or session,
                 2 the command was used wrongly, 130 interrupted (the session is kept).

    \b
    Examples:
      kb walk printer-not-printing --ticket INC0012345
      kb walk
      kb walk --resume 20240501-143012-3fa9
      kb walk printer-not-printing --answer FollowMe --answer "my job is not in the list" --json
      kb walk --resume 20240501-143012-3fa9 --answer No --input asset_tag=NL12345 --json
    """
    from kbengine.cli.terminal import interactive

    scripted = bool(answers or inputs or as_json) or not interactive()
    if tree and resume_id:
        raise click.UsageError("give either a TREE to start or --resume ID, not both")
    if scripted and not tree and not resume_id:
        raise click.UsageError("name the tree to walk (kb walk TREE), or run kb walk in a terminal "
                               "to choose one; kb check --json lists the trees")
    kb = open_outline(root)
    try:
        if scripted:
            _scripted(kb, tree, resume_id, ticket, list(answers), _parse_inputs(inputs), as_json)
        else:
            _interactive(kb, tree, resume_id, ticket)
    except (WalkError, SessionError) as error:
        _fail(str(error), as_json, getattr(error, "choices", []))


def _fail(message: str, as_json: bool, choices: list[str]) -> None:
    if as_json:
        print_json({"error": message, "choices": choices})
    else:
        click.echo(f"kb walk: {message}", err=True)
    raise SystemExit(1)


def _begin(kb: KBOutline, tree: str | None, resume_id: str | None, ticket: str | None) -> RecordedWalk:
    if resume_id:
        return resume_walk(kb, resume_id, ticket)
    assert tree is not None
    if tree not in kb.trees:
        raise WalkError(f"there is no tree '{tree}'; the trees are: {', '.join(sorted(kb.trees))}",
                        sorted(kb.trees))
    return start_walk(kb, tree, ticket)


def _scripted(kb: KBOutline, tree: str | None, resume_id: str | None, ticket: str | None,
              answers: list[str], inputs: dict[str, str], as_json: bool) -> None:
    recorded = _begin(kb, tree, resume_id, ticket)
    try:
        result = run_scripted(recorded, answers, inputs)
    finally:
        recorded.record.close()
    if as_json:
        print_json(result)
    else:
        for warning in result.get("warnings", []):
            click.echo(f"kb walk: warning: {warning}", err=True)
        click.echo(format_result(result, recorded.handover_text()))
        if "error" in result:
            click.echo(f"kb walk: {result['error']}", err=True)
    raise SystemExit(1 if "error" in result else 0)


def _interactive(kb: KBOutline, tree: str | None, resume_id: str | None, ticket: str | None) -> None:
    from rich.console import Console

    from kbengine.cli.terminal import Keyboard, Terminal

    console = Console(highlight=False)
    hits = _search_hits(kb)
    keyboard = Keyboard(sys.stdin.fileno())
    screen = Terminal(kb, console, keyboard, hits, lambda: recorded.handover_text())
    if not tree and not resume_id:
        try:
            tree = screen.choose_tree()
        except (KeyboardInterrupt, EOFError):
            tree = None
        if tree is None:
            raise SystemExit(0)
    recorded = _begin(kb, tree, resume_id, ticket)
    for warning in recorded.warnings:
        screen.message += f"Warning: {warning}\n"
    try:
        status = screen.run(recorded.walk, recorded.session_id)
    finally:
        recorded.record.close()
    raise SystemExit(status)
