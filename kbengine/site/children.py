"""Child processes of a build die with it: a killed `kb build` or `kb serve` leaves nothing running
that could write into (or recreate) a build folder."""

from __future__ import annotations

import ctypes
import ctypes.util
import signal

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask the kernel to kill this process when its parent dies (Linux; elsewhere a no-op). Call it
    in a child before it starts work; it survives exec, so it covers Pagefind's binary too."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError, TypeError):
        pass
