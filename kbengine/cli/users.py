"""`kb users`: who may sign in to `kb server`, with which role; tokens are shown once."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click

from kbengine.cli.options import json_option, print_json, resolve_root, root_option
from kbengine.cli.server import database_option
from kbengine.server.auth import GRANTS, ROLES
from kbengine.server.users import UserError, Users


def _users(root: Path | None, database_url: str | None) -> Users:
    """The users in the server's database (the one `kb server` with the same options uses)."""
    from kbengine.server.app import server_store
    from kbengine.walk.store import SessionError

    try:
        return Users(server_store(resolve_root(root), database_url).engine)
    except SessionError as error:
        _fail(str(error))


def _fail(message: str) -> NoReturn:
    click.echo(f"kb users: {message}", err=True)
    raise SystemExit(1)


@click.group("users", context_settings={"help_option_names": ["-h", "--help"]})
def command() -> None:
    """The people and integrations that may sign in to `kb server`.

    \b
    Roles:
      agent  internal content, walks, their own sessions
      lead   also every agent's sessions and the report
      admin  also the users (kb users commands run on the server machine need no role)
    """


@command.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="agent", show_default=True)
@root_option
@database_option
def add(name: str, role: str, root: Path | None, database_url: str | None) -> None:
    """Add NAME and print its token, once: only a hash of it is kept.

    A revoked NAME may be added again, with a new token.

    \b
    Example:
      kb users add ticket-system --role agent
    """
    try:
        token = _users(root, database_url).add(name, role)
    except UserError as error:
        _fail(str(error))
    click.echo(token)
    click.echo(f"kb users: '{name}' ({role}: {', '.join(sorted(GRANTS[role]))}). The token above is shown "
               "only now; send it as: Authorization: Bearer TOKEN", err=True)


@command.command("list")
@root_option
@database_option
@json_option
def list_users(root: Path | None, database_url: str | None, as_json: bool) -> None:
    """Every user with their role, and when they were added or revoked."""
    users = _users(root, database_url).list()
    if as_json:
        print_json({"users": [user.as_dict() for user in users]})
        return
    for user in users:
        status = f"revoked {user.revoked}" if user.revoked else f"added {user.created}"
        click.echo(f"{user.name:<30} {user.role:<6} {status}")
    if not users:
        click.echo("No users yet; add one with: kb users add NAME --role agent", err=True)


@command.command("revoke")
@click.argument("name")
@root_option
@database_option
def revoke(name: str, root: Path | None, database_url: str | None) -> None:
    """Stop NAME's token working, at once (its walks and records stay)."""
    try:
        _users(root, database_url).revoke(name)
    except UserError as error:
        _fail(str(error))
    click.echo(f"kb users: '{name}' is revoked", err=True)
