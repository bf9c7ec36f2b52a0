"""`glassarena runtimes install|list`: the browser runtimes WebDev apps run on."""

from __future__ import annotations

import click

from glassarena.web.settings import read_settings
from glassarena.webdev.runtimes import RUNTIMES, STACK_RUNTIMES, RuntimeFiles, install


@click.group()
def runtimes() -> None:
    """Install or list the browser runtimes WebDev apps run on (React, Vue, Pyodide...)."""


@runtimes.command("install")
@click.argument("names", nargs=-1, type=click.Choice(sorted(RUNTIMES)))
def install_command(names: tuple[str, ...]) -> None:
    """Fetch the pinned npm tarballs (all, or NAMES), check their integrity and unpack them
    into $GLASSARENA_RUNTIMES_DIR."""
    directory = read_settings().runtimes_directory()
    installed = install(
        directory, [RUNTIMES[name] for name in names] if names else None, progress=click.echo
    )
    click.echo(
        f"{len(installed)} runtime(s) installed in {directory}"
        if installed
        else f"runtimes already installed in {directory}"
    )


@runtimes.command("list")
def list_command() -> None:
    """Each runtime: version, the size it adds, the stacks that use it, installed or not."""
    files = RuntimeFiles(read_settings().runtimes_directory())
    click.echo(f"{files.directory}")
    for runtime in RUNTIMES.values():
        stacks = ", ".join(
            stack.value for stack, names in STACK_RUNTIMES.items() if runtime.name in names
        )
        state = "installed" if files.installed(runtime) else "missing"
        click.echo(
            f"{runtime.key:24} {runtime.size_bytes / 1e6:7.2f} MB  {runtime.license:8} "
            f"{state:9} {stacks}"
        )
