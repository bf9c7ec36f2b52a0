"""`glassarena --help` lists the commands without importing them."""

from __future__ import annotations

import subprocess
import sys

import click
from click.testing import CliRunner

from glassarena.cli import COMMANDS, main


def test_help_lists_every_command_with_its_own_summary() -> None:
    output = CliRunner().invoke(main, ["--help"]).output
    for name in COMMANDS:
        command = main.get_command(click.Context(main), name)
        assert command is not None
        summary = command.get_short_help_str(limit=1000)
        assert COMMANDS[name][1] == summary, f"update the summary of {name} in cli/__init__.py"
        assert f"  {name}  " in output


def test_help_imports_no_command() -> None:
    # Before, click imported every command for its summary: pandas, scipy and the web stack.
    script = (
        "import sys\n"
        "from glassarena.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = {'glassarena.cli.rank', 'glassarena.cli.serve', 'pandas', 'scipy', 'numpy'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    assert _last_line_printed(script) == "[]"


def test_rank_and_the_server_import_no_scipy() -> None:
    """SciPy's `special` and `stats` cost 0.2 s and most of a second to import: `rank`
    needs neither, and the server only where a figure or a screening pass needs them."""
    script = (
        "import sys\n"
        "import glassarena.cli.rank, glassarena.cli.serve, glassarena.web.app\n"
        "import glassarena.arena.bootstrap\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'scipy'))\n"
    )
    assert _last_line_printed(script) == "[]"


def _last_line_printed(script: str) -> str:
    """What `script` printed last, run in a fresh interpreter (nothing imported yet)."""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return result.stdout.strip().splitlines()[-1]
