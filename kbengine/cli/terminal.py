"""The interactive terminal for `kb walk`: one screen per step, one key per answer (rich)."""

from __future__ import annotations

import os
import select
import sys
import termios
import tty
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markdown import Markdown
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from kbengine.compiler import load_content
from kbengine.kb import KBOutline, KnowledgeBase
from kbengine.walk.engine import Walk, WalkError

_PANEL_TITLES = {"ask": "Question", "do": "Action", "solved": "Solved", "escalate": "Escalation",
                 "goto": "Continue"}

FOOTER_KEYS = "b back · r restart · n note · a article · / search · q quit"
Hits = Callable[[str, str], list[Any]]  # (text, kind) -> hits with .id, .title, .summary


class Keyboard:
    """Single key presses from a terminal, without Enter (cbreak mode, so Ctrl-C still works)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def key(self) -> str:
        saved = termios.tcgetattr(self.fd)
        try:
            tty.setcbreak(self.fd, termios.TCSANOW)  # not the default TCSAFLUSH: keep keys typed ahead
            data = os.read(self.fd, 1)
            # swallow the rest of an escape sequence (arrow keys) so it is not read as keys
            while data == b"\x1b" and select.select([self.fd], [], [], 0.02)[0]:
                os.read(self.fd, 16)
                data = b""
        finally:
            termios.tcsetattr(self.fd, termios.TCSANOW, saved)
        if not data:
            return ""
        if data == b"\x04":
            raise EOFError
        return data.decode("utf-8", errors="replace")


class Terminal:
    """Draws the walk and turns key presses into engine actions."""

    def __init__(self, kb: KBOutline, console: Console, keyboard: Keyboard, hits: Hits,
                 handover_text: Callable[[], str]) -> None:
        self.kb = kb
        self.handover_text = handover_text  # the hand-over Markdown, read back from the record
        self.console = console
        self.keyboard = keyboard
        self.hits = hits
        self.message = ""  # shown once above the next step (an error, a saved note)
        self.full: KnowledgeBase | None = None  # articles and graph, read when first opened

    def content(self) -> KnowledgeBase:
        """The KB with its articles: a walk reads them only when the agent opens one."""
        if self.full is None:
            self.full = load_content(self.kb)
        return self.full

    def line(self, prompt: str) -> str:
        """A line of text typed by the agent; empty on Ctrl-D."""
        try:
            return self.console.input(f"[bold]{prompt}[/] ")
        except EOFError:
            return ""

    # Choosing a tree

    def choose_tree(self) -> str | None:
        """Ask what the problem is and offer the best matching trees; None when the agent quits."""
        self.console.print(Panel(f"[bold]{self.kb.config.title}[/] — guided diagnostics", expand=False))
        while True:
            text = self.line("What is the problem?")
            options = self._tree_options(text)
            if not options:
                self.console.print("No tree matches that. Try other words (or leave empty to see all trees).")
                continue
            for number, (tree_id, title, summary) in enumerate(options, start=1):
                self.console.print(f" [bold cyan]{number}[/]  {title} [dim]({tree_id})[/]")
                if summary:
                    self.console.print(f"    [dim]{summary}[/]")
            self.console.print(f"[dim]1-{len(options)} start · / search again · q quit[/]")
            while True:
                key = self.keyboard.key()
                if key.isdigit() and 1 <= int(key) <= len(options):
                    return options[int(key) - 1][0]
                if key == "q":
                    return None
                if key == "/":
                    break

    def _tree_options(self, text: str) -> list[tuple[str, str, str]]:
        if text.strip():
            return [(h.id, h.title, h.summary) for h in self.hits(text, "tree")
                    if h.id in self.kb.trees][:9]
        trees = sorted(self.kb.trees.values(), key=lambda t: t.title.casefold())
        return [(t.id, t.title, t.summary) for t in trees][:9]

    # Walking

    def run(self, walk: Walk, session_id: str) -> int:
        """Walk until an end or until the agent quits; the exit status for `kb walk`."""
        try:
            while not walk.ended:
                self.draw(walk)
                self.act(walk, self.keyboard.key())
        except KeyboardInterrupt:
            self.console.print(f"\nStopped. Session {session_id} is kept; continue it with "
                               f"[bold]kb walk --resume {session_id}[/]")
            return 130
        except EOFError:
            walk.abandon()
        self.finish(walk, session_id)
        return 0

    def draw(self, walk: Walk) -> None:
        self.console.clear()
        tree = walk.tree
        self.console.print(Text(tree.title, style="bold"), Text(f"  ({tree.id})", style="dim"))
        if walk.state.path:
            self.console.print(Text(breadcrumb(walk), style="dim"))
        if self.message:
            self.console.print(Text(self.message, style="yellow"))
            self.message = ""
        node = walk.node
        body = node.prompt if node.kind != "escalate" else f"Escalate to {escalation_line(walk)}"
        if node.text:
            body += "\n\n" + node.text
        title = _PANEL_TITLES.get(node.kind, node.kind)
        if node.audience == "internal":
            title += " (agents only)"
        self.console.print(Panel(Markdown(body), title=title, title_align="left"))
        if node.kind == "ask":
            for number, answer in enumerate(walk.choices(), start=1):
                self.console.print(f" [bold cyan]{number}[/]  {answer.label}")
            first = f"1-{len(walk.choices())} answer"
        elif node.kind == "do":
            self.console.print(" [bold cyan]1[/]  Done")
            first = "1/Enter done"
        else:
            names = ", ".join(c.prompt for c in node.collect if c.name not in walk.state.inputs)
            self.console.print(f" [bold cyan]1[/]  Hand over{' (asks: ' + names + ')' if names else ''}")
            first = "1/Enter hand over"
        article = f" · article: {node.article}" if node.article else ""
        self.console.print(Text(f"{first} · {FOOTER_KEYS}{article}", style="dim"))

    def act(self, walk: Walk, key: str) -> None:
        """Carry out one key press."""
        node = walk.node
        try:
            if key.isdigit() and node.kind == "ask":
                choices = walk.choices()
                if 1 <= int(key) <= len(choices):
                    walk.answer(choices[int(key) - 1].label)
            elif key in ("1", "\n", "\r", " ") and node.kind == "do":
                walk.confirm()
            elif key in ("1", "\n", "\r", " ") and node.kind == "escalate":
                self.collect(walk)
            elif key == "b":
                walk.back()
            elif key == "r":
                walk.restart()
            elif key == "n":
                text = self.line("Note:")
                if text.strip():
                    walk.note(text)
                    self.message = "Note kept."
            elif key == "a":
                self.show_article(node.article, walk)
            elif key == "/":
                self.search(walk)
            elif key == "q":
                walk.abandon()
        except WalkError as error:
            self.message = str(error)

    def collect(self, walk: Walk) -> None:
        """Ask every missing input of the escalation; a value that does not fit is asked again."""
        while (item := walk.pending_input()) is not None:
            hint = f" [dim](form: {escape(item.pattern)})[/]" if item.pattern else ""
            value = self.line(f"{escape(item.prompt)}{hint}:")
            if not value.strip():
                self.message = "Hand-over not finished: an input is still missing."
                return
            try:
                walk.provide(item.name, value)
            except WalkError as error:
                self.console.print(f"[yellow]{error}. Please try again.[/]")

    def show_article(self, article_id: str | None, walk: Walk) -> None:
        article = self.content().articles.get(article_id or "")
        if article is None:
            self.message = ("This step links no article." if not article_id
                            else f"The article '{article_id}' does not exist.")
            return
        walk.opened(article.id)
        self.console.clear()
        self.console.print(Markdown(f"# {article.title}\n\n{article.body}"))
        self.console.print(Text("Press any key to go back to the step.", style="dim"))
        self.keyboard.key()

    def search(self, walk: Walk) -> None:
        text = self.line("Search articles:")
        if not text.strip():
            return
        hits = [h for h in self.hits(text, "article") if h.id in self.kb.article_ids][:9]
        if not hits:
            self.message = f"Nothing found for '{text}'."
            return
        for number, hit in enumerate(hits, start=1):
            self.console.print(f" [bold cyan]{number}[/]  {hit.title} [dim]({hit.id})[/]")
        self.console.print(Text(f"1-{len(hits)} read · any other key back to the step", style="dim"))
        key = self.keyboard.key()
        if key.isdigit() and 1 <= int(key) <= len(hits):
            self.show_article(hits[int(key) - 1].id, walk)

    def finish(self, walk: Walk, session_id: str) -> None:
        """The end screen: the outcome, the hand-over for an escalation, and the session id."""
        self.console.print()
        outcome = walk.state.outcome
        if outcome == "solved":
            self.console.print(Panel(Markdown(walk.node.prompt + ("\n\n" + walk.node.text
                                                                  if walk.node.text else "")),
                                     title="Solved", title_align="left", border_style="green"))
        elif outcome == "escalated":
            self.console.print(Panel(Markdown(self.handover_text()),
                                     title="Hand-over", title_align="left", border_style="yellow"))
        else:
            self.console.print("Walk abandoned.")
        self.console.print(f"Session {session_id} saved. "
                           f"Export it with: kb sessions export {session_id} --format md")


def breadcrumb(walk: Walk) -> str:
    """The path so far, short: `1 Is the printer on? → Yes › 2 Cancel every job… → done`."""
    parts = []
    for number, step in enumerate(walk.state.path, start=1):
        if step.kind == "goto":
            parts.append(f"→ {step.prompt}")
            continue
        prompt = step.prompt if len(step.prompt) <= 32 else step.prompt[:31] + "…"
        parts.append(f"{number} {prompt} → {step.answer}")
    return " › ".join(parts)


def escalation_line(walk: Walk) -> str:
    escalation = walk.node.escalation
    if escalation is None:
        return "second line"
    words = f"**{escalation.team}**"
    if escalation.priority:
        words += f" ({escalation.priority})"
    if escalation.reason:
        words += f": {escalation.reason}"
    return words


def interactive(stdin: Any = None) -> bool:
    """True when both the keyboard and the screen are a terminal."""
    stream = stdin or sys.stdin
    return stream.isatty() and sys.stdout.isatty()
