"""Index the built site with Pagefind (the `pagefind[bin]` package): one index per `<html lang>`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kbengine.site.children import die_with_parent

BUNDLE = "pagefind"  # the folder in the site that holds the index and Pagefind's scripts


class SearchIndexError(Exception):
    """Pagefind could not index the site; the message says why."""


def index_site(site: Path) -> None:
    """Write the search index into `site/pagefind/`; raises SearchIndexError with Pagefind's words."""
    command = [sys.executable, "-m", "pagefind", "--site", str(site), "--output-subdir", BUNDLE,
               "--silent"]
    try:
        # Pagefind dies with this process: a killed build must not leave it writing into the site
        done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False,
                              preexec_fn=die_with_parent)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SearchIndexError(f"Pagefind did not run: {error}") from None
    if done.returncode != 0 or not (site / BUNDLE / "pagefind.js").is_file():
        detail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise SearchIndexError("Pagefind could not index the site: " + " ".join(detail))
