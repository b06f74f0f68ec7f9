"""The `kb` command line: a click group whose commands live in kbengine/cli/, loaded lazily
so that `kb search` does not pay for the imports of `kb build`."""

from __future__ import annotations

import importlib
import importlib.util
import os

import click

from kbengine import __version__

# name -> module in kbengine.cli that defines `command`
COMMANDS = {
    "check": "check",
    "show": "show",
    "list": "list",
    "search": "search",
    "walk": "walk",
    "sessions": "sessions",
    "build": "build",
    "serve": "serve",
    "graph": "graph",
    "diff": "diff",
    "new": "new",
    "report": "report",
    "server": "server",
    "users": "users",
    "mcp": "mcp",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, module in COMMANDS.items()
                if importlib.util.find_spec(f"kbengine.cli.{module}") is not None]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.list_commands(ctx):
            return None
        module = importlib.import_module(f"kbengine.cli.{COMMANDS[cmd_name]}")
        return module.command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"],
                                              "max_content_width": 100})
@click.version_option(__version__, prog_name="kb")
def cli() -> None:
    """kb - a knowledge base and troubleshooting trees for IT service desks.

    Writers keep Markdown articles in articles/ and YAML troubleshooting trees in
    trees/, with settings in kb.yaml. kb checks them, searches them, walks the trees
    with an agent, and builds the static self-service help site.

    Every command finds the KB from the current folder (the nearest folder above it
    holding kb.yaml) or from --root. Run `kb COMMAND --help` for a command's manual.
    """


def main() -> None:
    try:
        cli(prog_name="kb")
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except Exception as error:
        if os.environ.get("KB_DEBUG"):
            raise
        click.echo(f"kb: internal error: {type(error).__name__}: {error}\n"
                   "This is a bug in kb, not in your content. Run again with KB_DEBUG=1 "
                   "for the details and report them.", err=True)
        raise SystemExit(70) from None
