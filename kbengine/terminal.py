"""The interactive terminal for `kb walk`: one screen per step, one key per answer (rich), with the
interface text in the language of the tree being walked. A front end beside the server,
not part of the command layer: it never imports click."""

from __future__ import annotations

import os
import re
import select
import shlex
import shutil
import subprocess
import sys
import termios
import tty
from collections.abc import Callable
from gettext import NullTranslations
from typing import Any

from rich.console import Console
from rich.markdown import Markdown
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from kbengine.compiler import load_content
from kbengine.kb import KBOutline, KnowledgeBase
from kbengine.site.i18n import translations
from kbengine.walk.engine import Walk, WalkError, match_input
from kbengine.walk.forms import expected_form
from kbengine.walk.handover import handover_text, outcome_words

Hits = Callable[[str, str, str], list[Any]]  # (text, kind, preferred lang) -> hits with .id, .title, .summary
_WIKI_LINK = re.compile(r"\[\[([^\]|#]+)(#[^\]|]*)?(?:\|([^\]]*))?\]\]")


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
                 handover_data: Callable[[], dict[str, Any]], *, verbose: bool = False) -> None:
        self.kb = kb
        self.handover_data = handover_data  # the hand-over, read back from the record
        self.console = console
        self.keyboard = keyboard
        self.hits = hits
        self.verbose = verbose  # show the raw pattern of an input beside its form in words
        self.message = ""  # shown once above the next step (an error, a saved note)
        self.query = ""  # the words the tree was chosen with: the walk's start keeps them for search
        self.full: KnowledgeBase | None = None  # articles and graph, read when first opened
        self.speak(kb.config.default_language)

    def speak(self, lang: str) -> None:
        """Use the interface text of `lang` (English where its catalogue has no text)."""
        self.lang = lang
        self.translations: NullTranslations = translations(lang)
        self._ = self.translations.gettext

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

    def yes(self, question: str) -> bool:
        """Ask a yes/no question answered with one key; anything but yes is no."""
        _ = self._
        keys = _("y yes · any other key no")
        self.console.print(Text(f"{question} {keys}", style="bold yellow"))
        return self.keyboard.key().casefold() in {"y", _("y").casefold()}

    # Choosing a tree

    def choose_tree(self) -> str | None:
        """Ask what the problem is and offer the best matching trees; None when the agent quits."""
        _ = self._
        self.console.print(Panel(Text(_("{title} — guided diagnostics").format(title=self.kb.config.title),
                                      style="bold"), expand=False))
        while True:
            text = self.line(_("What is the problem?"))
            options = self._tree_options(text)
            if not options:
                self.console.print(_("No tree matches that. Try other words "
                                     "(or leave empty to see all trees)."))
                continue
            for number, (tree_id, title, summary) in enumerate(options, start=1):
                self.console.print(f" [bold cyan]{number}[/]  {escape(title)} [dim]({tree_id})[/]")
                if summary:
                    self.console.print(f"    [dim]{escape(summary)}[/]")
            self.console.print(Text(_("1-{count} start · / search again · q quit").format(count=len(options)),
                                    style="dim"))
            while True:
                key = self.keyboard.key()
                if key.isdigit() and 1 <= int(key) <= len(options):
                    self.query = text.strip()
                    return options[int(key) - 1][0]
                if key == "q":
                    return None
                if key == "/":
                    break

    def _tree_options(self, text: str) -> list[tuple[str, str, str]]:
        if text.strip():
            return [(h.id, h.title, h.summary) for h in self.hits(text, "tree", self.lang)
                    if h.id in self.kb.trees][:9]
        trees = sorted(self.kb.trees.values(), key=lambda t: t.title.casefold())
        return [(t.id, t.title, t.summary) for t in trees][:9]

    # Walking

    def run(self, walk: Walk, session_id: str) -> int:
        """Walk until an end or until the agent quits; the exit status for `kb walk`."""
        self.speak(walk.trees[walk.tree_id].lang)  # the tree's language decides the walk's
        try:
            while not walk.ended:
                self.draw(walk)
                self.act(walk, self.keyboard.key())
        except KeyboardInterrupt:
            self.console.print("\n" + self._("Stopped. Session {session} is kept; continue it with "
                                             "kb walk --resume {session}").format(session=session_id))
            return 130
        except EOFError:
            walk.abandon()
        self.finish(walk, session_id)
        return 0

    def draw(self, walk: Walk) -> None:
        _ = self._
        self.console.clear()
        tree = walk.tree
        self.console.print(Text(tree.title, style="bold"), Text(f"  ({tree.id})", style="dim"))
        if walk.state.path:
            self.console.print(Text(breadcrumb(walk, self.translations), style="dim"))
        if self.message:
            self.console.print(Text(self.message, style="yellow"))
            self.message = ""
        node = walk.node
        body = node.prompt if node.kind != "escalate" else _("Escalate to {team}").format(
            team=escalation_line(walk, self.translations))
        if node.text:
            body += "\n\n" + node.text
        title = {"ask": _("Question"), "do": _("Action"), "solved": _("Solved"), "escalate": _("Escalation"),
                 "goto": _("Continue")}.get(node.kind, node.kind)
        if node.audience == "internal":
            title += " " + _("(agents only)")
        self.console.print(Panel(Markdown(body), title=title, title_align="left"))
        if node.kind == "ask":
            for number, answer in enumerate(walk.choices(), start=1):
                self.console.print(f" [bold cyan]{number}[/]  {escape(answer.label)}")
            first = _("1-{count} answer").format(count=len(walk.choices()))
        elif node.kind == "do":
            done = _("Done")
            self.console.print(f" [bold cyan]1[/]  {done}")
            first = _("1/Enter done")
        else:
            names = ", ".join(c.prompt for c in node.collect if c.name not in walk.state.inputs)
            asks = " " + _("(asks: {inputs})").format(inputs=names) if names else ""
            hand_over = _("Hand over")
            self.console.print(f" [bold cyan]1[/]  {hand_over}{escape(asks)}")
            first = _("1/Enter hand over")
        keys = _("b back · r restart · n note · a article · / search · q quit")
        article = " · " + _("article: {article}").format(article=node.article) if node.article else ""
        self.console.print(Text(f"{first} · {keys}{article}", style="dim"))

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
                text = self.line(self._("Note:"))
                if text.strip():
                    walk.note(text)
                    self.message = self._("Note kept.")
            elif key == "a":
                self.show_article(node.article, walk)
            elif key == "/":
                self.search(walk)
            elif key == "q":
                self.quit(walk)
        except WalkError as error:
            self.message = str(error)

    def quit(self, walk: Walk) -> None:
        """Abandon the walk; when answers were given, only after the agent says so."""
        if (walk.state.path or walk.notes) and not self.yes(
                self._("Abandon this walk? Its answers stay in the session.")):
            return
        walk.abandon()

    def collect(self, walk: Walk) -> None:
        """Ask every missing input of the escalation; a value that does not fit is asked again, with the
        expected form in words."""
        _ = self._
        while (item := walk.pending_input()) is not None:
            form = expected_form(item, self.translations)
            shown = [form] if form else []
            if self.verbose and item.pattern:
                shown.append(_("pattern {pattern}").format(pattern=item.pattern))
            hint = f" [dim]({escape('; '.join(shown))})[/]" if shown else ""
            value = self.line(f"{escape(item.prompt)}{hint}:").strip()
            if not value:
                self.message = _("Hand-over not finished: an input is still missing.")
                return
            if not match_input(item, value):
                wanted = form or (item.pattern if self.verbose else None)
                if wanted:
                    refusal = _("'{value}' does not have the expected form ({form}). Please try again.")
                else:
                    refusal = _("'{value}' does not have the expected form. Please try again.")
                self.console.print(f"[yellow]{escape(refusal.format(value=value, form=wanted))}[/]")
                continue
            walk.provide(item.name, value)

    def show_article(self, article_id: str | None, walk: Walk) -> None:
        """The article in a pager (less), wiki links shown as the titles they point to."""
        _ = self._
        article = self.content().articles.get(article_id or "")
        if article is None:
            self.message = (_("This step links no article.") if not article_id
                            else _("The article '{article}' does not exist.").format(article=article_id))
            return
        walk.opened(article.id)  # the content report counts it as the article's use
        page = Markdown(f"# {article.title}\n\n{wiki_titles(article.body, self.content())}")
        pager = _pager_command()
        if pager is None:
            self.console.clear()
            self.console.print(page)
            self.console.print(Text(_("Press any key to go back to the step."), style="dim"))
            self.keyboard.key()
            return
        with self.console.capture() as captured:
            self.console.print(page)
        try:
            subprocess.run(pager, input=captured.get(), text=True, check=False,
                           env={**os.environ, "LESS": os.environ.get("LESS", "-R")})
        except OSError as error:
            self.message = _("The pager could not start: {error}").format(error=error)

    def search(self, walk: Walk) -> None:
        _ = self._
        text = self.line(_("Search articles:"))
        if not text.strip():
            return
        hits = [h for h in self.hits(text, "article", self.lang) if h.id in self.kb.article_ids][:9]
        if not hits:
            self.message = _("Nothing found for '{text}'.").format(text=text)
            return
        for number, hit in enumerate(hits, start=1):
            self.console.print(f" [bold cyan]{number}[/]  {escape(hit.title)} [dim]({hit.id})[/]")
        self.console.print(Text(_("1-{count} read · any other key back to the step").format(count=len(hits)),
                                style="dim"))
        key = self.keyboard.key()
        if key.isdigit() and 1 <= int(key) <= len(hits):
            self.show_article(hits[int(key) - 1].id, walk)

    def finish(self, walk: Walk, session_id: str) -> None:
        """The end: the outcome, then the hand-over as plain text that pastes cleanly into a ticket."""
        _ = self._
        self.console.print()
        outcome = walk.state.outcome
        if outcome in ("solved", "escalated"):
            colour = "green" if outcome == "solved" else "yellow"
            self.console.print(Text(outcome_words(outcome, self.translations), style=f"bold {colour}"))
            if outcome == "solved" and walk.node.text:
                self.console.print(Markdown(walk.node.text))
            self.console.print()
            # plain print, no markup or wrapping: what is on screen is what gets pasted
            self.console.out(handover_text(self.handover_data(), self.translations), highlight=False)
        else:
            self.console.print(_("Walk abandoned."))
        self.console.print(_("Session {session} saved. Export it with: kb sessions export {session} "
                             "--format md").format(session=session_id))


def breadcrumb(walk: Walk, translations: NullTranslations | None = None) -> str:
    """The path so far, short: `1 Is the printer on? → Yes › 2 Cancel every job… → done`."""
    _ = (translations or NullTranslations()).gettext
    parts = []
    for number, step in enumerate(walk.state.path, start=1):
        if step.kind == "goto":
            parts.append(f"→ {step.prompt}")
            continue
        prompt = step.prompt if len(step.prompt) <= 32 else step.prompt[:31] + "…"
        answer = _("done") if step.kind == "do" else step.answer
        parts.append(f"{number} {prompt} → {answer}")
    return " › ".join(parts)


def escalation_line(walk: Walk, translations: NullTranslations | None = None) -> str:
    _ = (translations or NullTranslations()).gettext
    escalation = walk.node.escalation
    if escalation is None:
        return _("second line")
    words = f"**{escalation.team}**"
    if escalation.priority:
        words += f" ({escalation.priority})"
    if escalation.reason:
        words += f": {escalation.reason}"
    return words


def wiki_titles(body: str, kb: KnowledgeBase) -> str:
    """`[[clear-print-queue]]` as the title of what it points to, in bold; a label wins when written."""

    def title(found: re.Match[str]) -> str:
        target, label = found.group(1).strip(), found.group(3)
        item = kb.articles.get(target) or kb.trees.get(target)
        shown = (label or (item.title if item else target)).strip()
        return f"**{shown}**"

    return _WIKI_LINK.sub(title, body)


def _pager_command() -> list[str] | None:
    """$PAGER, else less; None when neither is there (the article is shown in place)."""
    try:
        configured = shlex.split(os.environ.get("PAGER", ""))
    except ValueError:  # unbalanced quotes: as if unset
        configured = []
    if configured and shutil.which(configured[0]):
        return configured
    return ["less"] if shutil.which("less") else None


def interactive(stdin: Any = None) -> bool:
    """True when both the keyboard and the screen are a terminal."""
    stream = stdin or sys.stdin
    return stream.isatty() and sys.stdout.isatty()
