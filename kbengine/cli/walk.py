"""`kb walk`: walk a troubleshooting tree with a caller, interactively or scripted, recording a session."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from kbengine.cli.options import database_option, open_outline, prepare_search, print_json, root_option
from kbengine.compiler import load_content
from kbengine.kb import KBOutline, KnowledgeBase
from kbengine.model import CollectField
from kbengine.site.i18n import translations
from kbengine.walk.engine import Walk, WalkError, drive, quoted
from kbengine.walk.forms import expected_form
from kbengine.walk.handover import handover, handover_text
from kbengine.walk.recording import (
    RecordedWalk,
    open_sessions,
    resume_walk,
    run_scripted,
    start_walk,
    waiting_for,
    walk_state,
)
from kbengine.walk.store import SessionError, SessionStore


def format_result(result: dict[str, Any], handover_text: str, verbose: bool = False) -> str:
    """The scripted result for people: where the walk is, or the hand-over when it ended."""
    lines = []
    if result["outcome"] == "in_progress":
        wanted = result["waiting_for"]
        lines.append(f"Stopped at '{result['node']}' ({result['tree']}): {wanted['prompt']}")
        if wanted["kind"] == "answer":
            lines.append("Possible answers: " + quoted(wanted["answers"]))
        elif wanted["kind"] == "input":
            item = next((c for c in result.get("collect", []) if c["name"] == wanted["name"]), wanted)
            form = expected_form(CollectField(wanted["name"], wanted["prompt"], wanted["pattern"],
                                              item.get("hint")))
            shown = [form] if form else []
            if wanted["pattern"] and (verbose or not form):
                shown.append(f"pattern {wanted['pattern']}")
            lines.append(f"Needs input {wanted['name']}" + (f" ({'; '.join(shown)})" if shown else ""))
        if result.get("session"):
            lines.append(f"Session {result['session']}; continue with "
                         f"kb walk --resume {result['session']} --answer ...")
        else:
            lines.append("Nothing was recorded.")
    elif not result.get("session"):
        lines.append(f"The walk would end {result['outcome']} at '{result['node']}' ({result['tree']}): "
                     f"{result['prompt']}\nNothing was recorded.")
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

    def hits(text: str, kind: str, lang: str) -> list[Any]:
        from kbengine.search import QueryError, search

        if not loaded:
            loaded.append(load_content(kb))
        prepare_search(loaded[0])
        try:
            found = list(search(loaded[0], text, kind=kind, limit=9).hits)
        except QueryError:
            return []  # a query the index cannot run finds nothing; the agent tries other words
        # the walk's language first, keeping the ranking within each language
        return sorted(found, key=lambda hit: hit.lang != lang)

    return hits


@click.command("walk")
@click.argument("tree", required=False)
@root_option
@click.option("--ticket", metavar="REF", help="Tie the session to a ticket number, e.g. INC0012345.")
@click.option("--query", metavar="TEXT", default="",
              help="The caller's words that led to TREE, kept with the session: a solved walk teaches "
                   "`kb search` what answers them.")
@click.option("--resume", "resume_id", metavar="ID",
              help="Continue a session that was stopped, killed or abandoned.")
@click.option("--answer", "answers", multiple=True, metavar="LABEL",
              help="Scripted: the answer to the next question, by label (case is ignored) or number "
                   "(repeat, in order).")
@click.option("--input", "inputs", multiple=True, metavar="NAME=VALUE",
              help="Scripted: a value asked at an escalation (repeatable).")
@click.option("--note", "notes", multiple=True, metavar="TEXT",
              help="Scripted: keep a note at the step where the answers stop (repeatable).")
@click.option("--dry-run", is_flag=True,
              help="Scripted: show where the answers lead without recording a session.")
@click.option("--json", "as_json", is_flag=True, help="Scripted: print the state as JSON.")
@click.option("--verbose", "-v", is_flag=True,
              help="Show the raw pattern of an input beside its form in words.")
@database_option
def command(tree: str | None, root: Path | None, ticket: str | None, query: str, resume_id: str | None,
            answers: tuple[str, ...], inputs: tuple[str, ...], notes: tuple[str, ...], dry_run: bool,
            as_json: bool, verbose: bool, database: str | None) -> None:
    """Walk a troubleshooting tree with a caller, step by step, and record the session.

    \b
    In a terminal (interactive):
      Each step is shown with its text and numbered answers; press the number (no Enter).
      An action step: press 1 or Enter when it is done. Keys in the footer:
        b back one step    r restart    n add a note    a the step's article in $PAGER
        / search articles  q quit (asks first once answers were given; the session is
                             kept as abandoned)
      Without TREE, kb asks "What is the problem?" and offers the best matching trees.
      At an escalation kb asks the inputs second line needs (asset tag, ...) with the form
      they take in words, asking again when a value does not fit, then prints the hand-over
      as plain text to paste into the ticket. The interface speaks the tree's language.

    \b
    Scripted (with --answer, --input or --json, or when not on a terminal):
      Answers go to question steps only, in order; action steps are confirmed and gotos
      followed by themselves. Labels match ignoring case and surrounding spaces. When the
      answers run out before an end, the walk stops there: outcome "in_progress", with
      "waiting_for" naming the possible answers or the input needed; continue it later
      with --resume ID and more --answer options. Answers may be labels or numbers (1 is
      the first answer shown). A new walk whose answers or inputs do not fit records
      nothing; --dry-run never records.

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
      kb walk printer-not-printing --query "printer says offline" --answer Yes --json
      kb walk --resume 20240501-143012-3fa9 --answer No --input asset_tag=NL12345 --json
    """
    from kbengine.terminal import interactive

    scripted = bool(answers or inputs or notes or dry_run or as_json) or not interactive()
    if tree and resume_id:
        raise click.UsageError("give either a TREE to start or --resume ID, not both")
    if scripted and not tree and not resume_id:
        raise click.UsageError("name the tree to walk (kb walk TREE), or run kb walk in a terminal "
                               "to choose one; kb list trees shows the trees")
    if dry_run and resume_id:
        raise click.UsageError("--dry-run tries a new walk; it cannot be combined with --resume")
    query = query.strip()
    if query and resume_id:
        raise click.UsageError("--query belongs to a new walk; "
                               "a resumed session keeps the words it began with")
    kb = open_outline(root)
    try:
        store = open_sessions(kb, database)
        try:
            if scripted:
                _scripted(kb, store, tree, resume_id, ticket, list(answers), _parse_inputs(inputs),
                          list(notes), as_json, dry_run, verbose, query)
            else:
                _interactive(kb, store, tree, resume_id, ticket, verbose, query)
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
           ticket: str | None, query: str = "") -> RecordedWalk:
    if resume_id:
        return resume_walk(kb, store, resume_id, ticket)
    assert tree is not None
    return start_walk(kb, store, tree, ticket, query=query)


def _scripted(kb: KBOutline, store: SessionStore, tree: str | None, resume_id: str | None,
              ticket: str | None, answers: list[str], inputs: dict[str, str], notes: list[str],
              as_json: bool, dry_run: bool, verbose: bool, query: str = "") -> None:
    rehearsal = _rehearse(kb, tree, answers, inputs, notes) if tree else None
    if rehearsal is not None and (dry_run or "error" in rehearsal):
        _print_scripted(rehearsal, "", as_json, verbose)
    recorded = _begin(kb, store, tree, resume_id, ticket, query)
    try:
        result = run_scripted(recorded, answers, inputs)
        if notes and "error" not in result:
            for note in notes:
                recorded.walk.note(note)
            result = {**result, **walk_state(recorded)}
        session = recorded.session()
    finally:
        recorded.close()
    lang = kb.trees[session.tree].lang if session.tree in kb.trees else kb.config.default_language
    _print_scripted(result, handover_text(handover(session), translations(lang)), as_json, verbose)


def _rehearse(kb: KBOutline, tree: str, answers: list[str], inputs: dict[str, str],
              notes: list[str]) -> dict[str, Any] | None:
    """The scripted walk played without a record first, so a call whose answers do not fit (and a
    --dry-run) leaves no in-progress session behind to skew `kb report`; None for an unknown tree."""
    if tree not in kb.trees:
        return None  # start_walk says which trees there are
    walk = Walk(kb.trees, tree)
    error, _ = drive(walk, answers, inputs)
    try:
        for note in notes if error is None else ():
            walk.note(note)
    except WalkError as problem:
        error = str(problem)
    result: dict[str, Any] = {"session": None, **walk.snapshot(), "recorded": False}
    if not walk.ended:
        result["waiting_for"] = waiting_for(walk)
    if error:
        result["error"] = error
    return result


def _print_scripted(result: dict[str, Any], handover: str, as_json: bool, verbose: bool) -> None:
    if as_json:
        print_json(result)
    else:
        for warning in result.get("warnings", []):
            click.echo(f"kb walk: warning: {warning}", err=True)
        click.echo(format_result(result, handover, verbose))
        if "error" in result:
            click.echo(f"kb walk: {result['error']}", err=True)
    raise SystemExit(1 if "error" in result else 0)


def _interactive(kb: KBOutline, store: SessionStore, tree: str | None, resume_id: str | None,
                 ticket: str | None, verbose: bool, query: str = "") -> None:
    from rich.console import Console

    from kbengine.terminal import Keyboard, Terminal

    console = Console(highlight=False)
    hits = _search_hits(kb)
    keyboard = Keyboard(sys.stdin.fileno())
    screen = Terminal(kb, console, keyboard, hits, lambda: handover(recorded.session()), verbose=verbose)
    if not tree and not resume_id:
        try:
            tree = screen.choose_tree()
        except (KeyboardInterrupt, EOFError):
            tree = None
        if tree is None:
            raise SystemExit(0)
    recorded = _begin(kb, store, tree, resume_id, ticket, screen.query or query)
    for warning in recorded.warnings:
        screen.message += f"Warning: {warning}\n"
    try:
        status = screen.run(recorded.walk, recorded.session_id)
    finally:
        recorded.close()
    raise SystemExit(status)
