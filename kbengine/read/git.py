"""A KB's files as they were at a git revision, read with `git` itself (no checkout)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kbengine.kb import CONFIG_FILE


class GitError(Exception):
    """git is missing, the KB is not in a repository, or the revision is unknown."""


def _git(root: Path, *args: str, data: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], input=data, capture_output=True,
                              timeout=120, check=False)
    except (OSError, subprocess.SubprocessError) as error:
        raise GitError(f"git could not run: {error}") from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(said[-1] if said else f"git {args[0]} failed")
    return done.stdout


def files_at(root: Path, revision: str) -> dict[str, bytes]:
    """{KB-relative path: bytes} of kb.yaml, articles/ and trees/ at `revision`."""
    prefix = _git(root, "rev-parse", "--show-prefix").decode().strip()
    try:
        _git(root, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    except GitError:
        raise GitError(f"'{revision}' is not a commit in this repository") from None
    listing = _git(root, "ls-tree", "-r", "-z", "--full-tree", revision, "--",
                   *(f"{prefix}{name}" for name in (CONFIG_FILE, "articles", "trees")))
    blobs: list[tuple[str, str]] = []
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, path = entry.decode("utf-8", "surrogateescape").partition("\t")
        mode, kind, sha = meta.split()
        # a symlink is stored as a blob holding its target; kb never follows links out of the KB
        if kind == "blob" and mode != "120000" and path.startswith(prefix):
            blobs.append((path[len(prefix):], sha))
    if not blobs:
        return {}
    # one `git cat-file --batch` for every blob: a process per file would take seconds
    out = _git(root, "cat-file", "--batch", data="".join(f"{sha}\n" for _, sha in blobs).encode())
    files: dict[str, bytes] = {}
    at = 0
    for rel, _ in blobs:
        header_end = out.index(b"\n", at)
        size = int(out[at:header_end].split()[2])
        files[rel] = out[header_end + 1:header_end + 1 + size]
        at = header_end + 1 + size + 1
    return files
