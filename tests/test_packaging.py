"""A wheel carries everything kb needs at run time, so a non-editable install builds the site."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_the_wheel_ships_templates_assets_catalogues_and_schemas(tmp_path: Path) -> None:
    # built as pip builds it for users: in an isolated environment with setuptools from PyPI
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps",
                    "-q", "-w", str(tmp_path)], check=True, capture_output=True, timeout=300)
    [wheel] = tmp_path.glob("kbengine-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = {p.relative_to(REPO).as_posix() for p in (REPO / "site_templates").rglob("*") if p.is_file()}
    shipped = {name.split("/data/share/kbengine/", 1)[1] for name in names if "/data/share/kbengine/" in name}
    assert templates and templates == shipped
    assert {"kbengine/locales/nl/LC_MESSAGES/messages.po", "kbengine/schemas/tree.json"} <= names
    # the session database migrates itself on open: its migration scripts ship too
    assert {"kbengine/walk/migrations/env.py", "kbengine/walk/migrations/versions/0001_sessions.py"} <= names
