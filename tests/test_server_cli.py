"""`kb users` and `kb server` as commands: tokens shown once and stored hashed, the server
started, logging JSON lines, and stopped gracefully by SIGTERM."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest


def kb(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kb", *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def kb_root(write_kb: Any) -> Path:
    return write_kb({"trees/t.yaml": "title: T\nstart: a\nnodes:\n  a:\n    solved: Done.\n"})


def test_users_add_prints_the_token_once_and_stores_only_its_hash(kb_root: Path, tmp_path: Path) -> None:
    database = tmp_path / "desk.db"
    added = kb(
        "users",
        "add",
        "ann",
        "--role",
        "lead",
        "--root",
        str(kb_root),
        "--database",
        f"sqlite:///{database}",
    )
    token = added.stdout.strip()
    assert added.returncode == 0 and token.startswith("kb_") and len(token) > 40
    assert "shown only now" in added.stderr
    with sqlite3.connect(database) as connection:
        stored = connection.execute("SELECT name, role, token_sha256 FROM kb_users").fetchall()
    assert stored[0][:2] == ("ann", "lead") and token not in stored[0][2] and len(stored[0][2]) == 64


def test_users_list_and_revoke(kb_root: Path, tmp_path: Path) -> None:
    where = ["--root", str(kb_root), "--database", f"sqlite:///{tmp_path / 'desk.db'}"]
    kb("users", "add", "ann", *where)
    kb("users", "add", "bot", "--role", "agent", *where)
    assert kb("users", "revoke", "bot", *where).returncode == 0
    listed = json.loads(kb("users", "list", "--json", *where).stdout)["users"]
    assert [(u["name"], u["role"], bool(u["revoked"])) for u in listed] == [
        ("ann", "agent", False),
        ("bot", "agent", True),
    ]
    again = kb("users", "revoke", "bot", *where)
    assert again.returncode == 1 and "no signed-in user 'bot'" in again.stderr
    twice = kb("users", "add", "ann", *where)
    assert twice.returncode == 1 and "already a user 'ann'" in twice.stderr
    assert kb("users", "add", "x", "--role", "boss", *where).returncode == 2


def test_users_refuse_a_database_they_cannot_use(kb_root: Path) -> None:
    refused = kb("users", "list", "--root", str(kb_root), "--database", "mysql://nobody@nowhere/kb")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_kb_server_serves_logs_json_lines_and_stops_on_sigterm(kb_root: Path, tmp_path: Path) -> None:
    port = free_port()
    database = f"sqlite:///{tmp_path / 'desk.db'}"
    server = subprocess.Popen(
        ["kb", "server", "--root", str(kb_root), "--port", str(port), "--database", database],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and server.poll() is None, server.stderr
                time.sleep(0.2)
        assert health.json()["status"] == "ok" and health.json()["trees"] == 1
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/trees/t").status_code == 200
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    # uvicorn shuts down gracefully, then raises the signal again, as a process killed by it exits
    assert server.returncode in (0, -signal.SIGTERM) and "Traceback" not in stderr
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert [(line["path"], line["status"]) for line in lines][-1] == ("/api/v1/trees/t", 200)
