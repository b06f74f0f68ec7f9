"""A real PostgreSQL for the tests: $KB_TEST_POSTGRES_URL, else a throwaway cluster started with initdb
and pg_ctl from /usr/lib/postgresql/*/bin, else a skip (a failure when KB_REQUIRE_POSTGRES=1).

initdb refuses to run as root, so as root the cluster runs as the `postgres` user, in a temporary
folder that user owns; it listens on a unix socket in that folder only, on a free port number.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


def unavailable(reason: str) -> None:
    if os.environ.get("KB_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required (KB_REQUIRE_POSTGRES=1) but {reason}")
    pytest.skip(f"no PostgreSQL: {reason} (set KB_TEST_POSTGRES_URL, or install Debian's postgresql)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def throwaway_cluster() -> Iterator[str]:
    """Start a cluster for this test run and stop it afterwards; yields its URL."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        unavailable("initdb is not in /usr/lib/postgresql/*/bin")
    binaries = Path(found[-1]).parent
    folder = Path(tempfile.mkdtemp(prefix="kb-postgres-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            unavailable("the tests run as root and there is no `postgres` user to run the cluster")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", _free_port()
    try:
        subprocess.run([*run_as, str(binaries / "initdb"), "-D", str(data), "-U", "kb", "-A", "trust",
                        "--no-sync", "-E", "UTF8"], check=True, capture_output=True)
        subprocess.run([*run_as, str(binaries / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w",
                        "-o", f"-k {folder} -p {port} -c listen_addresses='' -c fsync=off", "start"],
                       check=True, capture_output=True)
    except subprocess.CalledProcessError as error:
        shutil.rmtree(folder, ignore_errors=True)
        unavailable(f"the throwaway cluster did not start: {error.stderr.decode(errors='replace')[-300:]}")
    try:
        yield f"postgresql://kb@/postgres?host={folder}&port={port}"
    finally:
        subprocess.run([*run_as, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def server_url() -> Iterator[str]:
    """The URL of a PostgreSQL server the tests may create databases in."""
    given = os.environ.get("KB_TEST_POSTGRES_URL")
    if given:
        yield given
    else:
        yield from throwaway_cluster()


def new_database(server: str) -> str:
    """A new, empty database on the server; its URL."""
    import psycopg
    from sqlalchemy import make_url

    name = f"kb_test_{secrets.token_hex(6)}"
    url = make_url(server)
    parameters = {"dbname": url.database or "postgres", "user": url.username, "password": url.password,
                  "host": url.host or url.query.get("host"), "port": url.port or url.query.get("port")}
    with psycopg.connect(**{k: v for k, v in parameters.items() if v}, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)
