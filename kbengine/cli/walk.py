"""`kb walk`: walk a troubleshooting tree with a caller, interactively or scripted, recording a session."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from kbengine.cli.options import database_option, open_outline, prepare_search, print_json, root_option
from kbengine.compiler import load_content
from kbengine.kb import KBOutline, KnowledgeBase
from kbengine.walk.engine import WalkError, quoted
from kbengine.walk.recording import RecordedWalk, open_sessions, resume_walk, run_scripted, start_walk
from kbengine.walk.store import SessionError, SessionStore


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
        prepare_search(loaded[0])
        try:
            return list(search(loaded[0], text, kind=kind, limit=5).hits)
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
              help="Scripted: the answer to the next question, by label (case is ignored) or number "
                   "(repeat, in order).")
@click.option("--input", "inputs", multiple=True, metavar="NAME=VALUE",
              help="Scripted: a value asked at an escalation (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Scripted: print the state as JSON.")
@database_option
def command(tree: str | None, root: Path | None, ticket: str | None, resume_id: str | None,
            answers: tuple[str, ...], inputs: tuple[str, ...], as_json: bool, database: str | None) -> None:
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

    Every walk writes a session record (see `kb sessions --help`) to the session store:
    --database, else $KB_DATABASE_URL, else the folder $KB_SESSIONS, else `sessions:` in
    kb.yaml, else ~/.local/share/kbengine/sessions/<kb folder name>. While a walk runs it
    holds its session: a second `--resume` of it is refused, naming who has it.

    \b
    Exit status: 0 the walk ended or stopped for more answers, 1 an answer or input did
                 not fit (the error names the valid answers), an unknown tree or session,
                 a session another walk holds,
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
        store = open_sessions(kb, database)
        try:
            if scripted:
                _scripted(kb, store, tree, resume_id, ticket, list(answers), _parse_inputs(inputs), as_json)
            else:
                _interactive(kb, store, tree, resume_id, ticket)
        finally:
            store.close()
    except (WalkError, SessionError) as error:
        _fail(str(error), as_json, getattr(error, "choices", []))


def _fail(message: str, as_json: bool, choices: list[str]) -> None:
    if as_json:
        print_json({"error": message, "choices": choices})
    else:
        click.echo(f"kb walk: {message}", err=True)
    raise SystemExit(1)


def _begin(kb: KBOutline, store: SessionStore, tree: str | None, resume_id: str | None,
           ticket: str | None) -> RecordedWalk:
    if resume_id:
        return resume_walk(kb, store, resume_id, ticket)
    assert tree is not None
    return start_walk(kb, store, tree, ticket)


def _scripted(kb: KBOutline, store: SessionStore, tree: str | None, resume_id: str | None,
              ticket: str | None, answers: list[str], inputs: dict[str, str], as_json: bool) -> None:
    recorded = _begin(kb, store, tree, resume_id, ticket)
    try:
        result = run_scripted(recorded, answers, inputs)
        handover_text = recorded.handover_text()
    finally:
        recorded.close()
    if as_json:
        print_json(result)
    else:
        for warning in result.get("warnings", []):
            click.echo(f"kb walk: warning: {warning}", err=True)
        click.echo(format_result(result, handover_text))
        if "error" in result:
            click.echo(f"kb walk: {result['error']}", err=True)
    raise SystemExit(1 if "error" in result else 0)


def _interactive(kb: KBOutline, store: SessionStore, tree: str | None, resume_id: str | None,
                 ticket: str | None) -> None:
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
    recorded = _begin(kb, store, tree, resume_id, ticket)
    for warning in recorded.warnings:
        screen.message += f"Warning: {warning}\n"
    try:
        status = screen.run(recorded.walk, recorded.session_id)
    finally:
        recorded.close()
    raise SystemExit(status)
