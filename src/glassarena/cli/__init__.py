"""The `glassarena` command line.

Subcommands are imported only when invoked, so `glassarena rank` never pays for the web stack.
"""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute" of a click command
_COMMANDS = {
    "rank": "glassarena.cli.rank:rank",
    "convert": "glassarena.cli.convert:convert",
    "serve": "glassarena.cli.serve:serve",
    "export": "glassarena.cli.export:export",
    "verify": "glassarena.cli.verify:verify",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)


@click.group(cls=_LazyGroup)
@click.version_option(package_name="glassarena")
def main() -> None:
    """Blind model battles, human votes and an honest leaderboard."""
