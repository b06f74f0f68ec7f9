"""One rebuild of the site in a child process that can be abandoned, for `kb serve`: a file that
takes too long never stalls the watcher, and a newer edit replaces a rebuild still running."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

from kbengine.compiler import compile_kb
from kbengine.model import Diagnostic
from kbengine.site.builder import ContentErrors, build_site
from kbengine.site.children import die_with_parent
from kbengine.site.output import OutputError, remove_leftovers
from kbengine.site.pagefind import SearchIndexError

REBUILD_TIMEOUT = 300.0  # seconds; far above the build of a large KB, so only a stall reaches it


@dataclass
class RebuildResult:
    """What a rebuild came to: built (pages, seconds), content errors, or why it failed."""

    built: bool
    pages: int = 0
    seconds: float = 0.0
    warnings: int = 0
    errors: list[Diagnostic] = field(default_factory=list)  # the KB is broken: the site is not built
    diagnostics: list[Diagnostic] = field(default_factory=list)  # rendering warnings of a built site
    failure: str = ""  # Pagefind, the output folder, a timeout


def _rebuild(root: Path, out: Path, search: bool, drafts: bool, send: Connection) -> None:
    os.setpgid(0, 0)  # its own group: abandoning it kills Pagefind and render workers too
    die_with_parent()
    try:
        kb = compile_kb(root)
        summary = build_site(kb, out, search=search, drafts=drafts)
        result = RebuildResult(True, summary.pages, summary.seconds, summary.warnings,
                               diagnostics=summary.diagnostics)
    except ContentErrors as problem:
        result = RebuildResult(False, errors=problem.errors)
    except (SearchIndexError, OutputError) as problem:
        result = RebuildResult(False, failure=str(problem))
    except OSError as problem:
        failure = f"cannot write the site: {problem.strerror} ({problem.filename})"
        result = RebuildResult(False, failure=failure)
    send.send(result)
    send.close()


class Rebuild:
    """A rebuild running in a child process; poll it with `result()`."""

    def __init__(self, root: Path, out: Path, *, search: bool, drafts: bool = False,
                 timeout: float = REBUILD_TIMEOUT) -> None:
        self.out = out
        self.timeout = timeout
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        # not a daemon: a daemonic process may not start the render workers of a big site
        self.process = context.Process(target=_rebuild, args=(root, out, search, drafts, send),
                                       name="kb-rebuild")
        self.started = time.monotonic()
        self.process.start()
        with contextlib.suppress(OSError):  # the child does the same; whichever runs first wins
            os.setpgid(self.process.pid or 0, self.process.pid or 0)
        send.close()

    def result(self) -> RebuildResult | None:
        """The outcome once the rebuild has ended (or overrun its time), else None."""
        if self._receive.poll():
            try:
                result: RebuildResult = self._receive.recv()
            except (EOFError, OSError):
                result = RebuildResult(False, failure="the rebuild stopped without a result")
            self.process.join(5)
            return result
        if not self.process.is_alive():
            self.process.join()
            return RebuildResult(False, failure=f"the rebuild stopped (exit status {self.process.exitcode})")
        if time.monotonic() - self.started > self.timeout:
            self.abandon()
            return RebuildResult(False, failure=f"the rebuild took longer than {self.timeout:.0f} s "
                                                "and was stopped")
        return None

    def abandon(self) -> None:
        """Stop the rebuild and everything it started; the previous site stays as it was."""
        if self.process.pid is not None and self.process.is_alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.join(5)
        self._receive.close()
        remove_leftovers(self.out.absolute())
