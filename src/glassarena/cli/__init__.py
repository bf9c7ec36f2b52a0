"""The `glassarena` command line.

Subcommands are imported only when invoked, so `glassarena rank` never pays for the web stack,
and `glassarena --help` lists them from the summaries below without importing any of them
(importing `rank` alone loads pandas and scipy: seconds on a busy machine).
"""

from __future__ import annotations

import importlib

import click

# name -> ("module:attribute" of a click command, its one-line summary as in its docstring;
# tests/cli/test_main.py checks that the two agree)
COMMANDS = {
    "rank": (
        "glassarena.cli.rank:rank",
        "Rank the models in a battle FILE (LMArena JSON/JSONL, HF parquet, or CSV).",
    ),
    "convert": (
        "glassarena.cli.convert:convert",
        "Convert battles in SOURCE to TARGET (LMArena JSON/JSONL, HF parquet, CSV).",
    ),
    "serve": (
        "glassarena.cli.serve:serve",
        "Serve the arena: blind battles, voting and the leaderboard.",
    ),
    "export": (
        "glassarena.cli.export:export",
        "Write the arena's voted battles so that `glassarena rank` can read them.",
    ),
    "simulate-rigging": (
        "glassarena.cli.simulate:simulate_rigging_command",
        "Rig an honest battle FILE (with a voter column) and report what screening catches.",
    ),
    "audit": (
        "glassarena.cli.audit:audit",
        "Screen the votes of a battle FILE that has a voter column.",
    ),
    "compare": (
        "glassarena.cli.compare:compare_command",
        "Compare the first BOARD with each other one, and flag the models they disagree on.",
    ),
    "runtimes": (
        "glassarena.cli.runtimes:runtimes",
        "Install or list the browser runtimes WebDev apps run on (React, Vue, Pyodide...).",
    ),
    "verify": (
        "glassarena.cli.verify:verify",
        "Check LOG's hash chain and that the served leaderboards follow from it alone (its"
        " votes, with the screening verdicts applied in log order).",
    ),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, attribute = COMMANDS[cmd_name][0].split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        # A bare Command shortens the summary exactly as the real command would.
        rows = [
            (name, click.Command(name, help=COMMANDS[name][1]).get_short_help_str(limit))
            for name in names
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=_LazyGroup)
@click.version_option(package_name="glassarena")
def main() -> None:
    """Blind model battles, human votes and an honest leaderboard."""
