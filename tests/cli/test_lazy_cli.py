"""The root command imports its sub-commands on use; the help it prints without them must
still be the commands' own (syncd.cli.lazy keeps a copy of each one's first help paragraph)."""

from __future__ import annotations

import subprocess
import sys

from typer.core import TyperGroup

from syncd.cli.lazy import COMMANDS


def test_lazy_table_matches_the_commands() -> None:
    for entry in COMMANDS:
        command = entry.load()
        assert command.name == entry.name
        assert isinstance(command, TyperGroup) == entry.group, entry.name
        first_paragraph = (command.help or "").split("\n\n")[0]
        assert first_paragraph == entry.help, f"update syncd/cli/lazy.py for {entry.name!r}"
        assert not command.hidden


def test_help_and_sandbox_import_no_store() -> None:
    probe = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from syncd.cli.app import app\n"
        "r = CliRunner().invoke(app, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "assert 'payment-plan' in r.output and 'sandbox' in r.output\n"
        "r = CliRunner().invoke(app, ['sandbox', '--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "heavy = [m for m in ('syncd.store', 'sqlalchemy', 'syncd.config', 'fpdf') "
        "if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
