"""A user's mistakes on the command line: exit status non-zero, one message naming the
problem, never a traceback. Also the small things a new user trips over first (``--version``,
``secret-key``, help text that shows ``[[orgs]]`` and every option's choices)."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner, Result

from syncd.cli.app import app

runner = CliRunner()

CONFIG = """
[store]
url = "sqlite:///syncd.db"

[[orgs]]
name = "acme"
connector = "quickbooks"
policy = "standard"
timezone = "{tz}"
[orgs.credentials]
client_id = "cid"
client_secret = "s"
refresh_token = "rt"
realm_id = "123"
"""


def config(tmp_path: Path, tz: str = "Europe/London") -> Path:
    path = tmp_path / "syncd.toml"
    path.write_text(CONFIG.format(tz=tz), encoding="utf-8")
    return path


def run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def refused(result: Result, *named: str, code: int = 2) -> str:
    """Exit status, the problem named, and no exception escaping (a traceback)."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    for text in named:
        assert text in result.output, result.output
    return result.output


def test_version_and_completion_are_offered() -> None:
    shown = run("--version")
    assert shown.exit_code == 0 and shown.stdout.startswith("syncd ")
    assert shown.stdout.split()[1][0].isdigit()
    assert "--install-completion" in run("--help").stdout


def test_bad_log_level_and_format_name_the_option_and_choices(tmp_path: Path) -> None:
    path = str(config(tmp_path))
    out = refused(run("--config", path, "--log-level", "bogus", "invoices"), "--log-level")
    assert "bogus" in out and "debug" in out.lower()
    refused(run("--config", path, "--log-format", "xml", "invoices"), "--log-format", "xml")
    assert run("--config", path, "--log-level", "debug", "invoices").exit_code == 0
    assert run("--config", path, "--log-level", "critical", "invoices").exit_code == 0


@pytest.mark.parametrize(
    "command",
    [
        ("plan",),
        ("simulate", "--from", "2026-01-01", "--to", "2026-02-01"),
        ("actions",),
        ("review",),
        ("invoices",),
        ("backfill",),
        ("run-once", "--dry-run"),
        ("policy", "explain"),
        ("pause", "--invoice", "1001", "--until", "2026-12-31"),
    ],
)
def test_unknown_org_is_named(tmp_path: Path, command: tuple[str, ...]) -> None:
    result = run("--config", str(config(tmp_path)), *command, "--org", "nope")
    refused(result, "'nope'", "org")


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (("plan", "--as-of", "2026-13-45"), "--as-of"),
        (("simulate", "--from", "yesterday", "--to", "2026-02-01"), "--from"),
        (("pause", "--org", "acme", "--invoice", "1001", "--until", "31/12/2026"), "--until"),
        (("policy", "explain", "--invoice", "1001", "--as-of", "soon"), "--as-of"),
        (("sandbox", "quickbooks", "--now", "not-a-date", "--print-config"), "--now"),
    ],
)
def test_bad_date_names_the_option(tmp_path: Path, command: tuple[str, ...], option: str) -> None:
    refused(run("--config", str(config(tmp_path)), *command), option)


def test_bad_invoice_reference_is_named(tmp_path: Path) -> None:
    path = str(config(tmp_path))
    for command in (
        ("pause", "--org", "acme", "--invoice", "NO-SUCH", "--until", "2026-12-31"),
        ("dispute", "--org", "acme", "--invoice", "NO-SUCH", "--reason", "x"),
        ("policy", "explain", "--org", "acme", "--invoice", "NO-SUCH"),
        ("preview", "--invoice", "NO-SUCH"),
    ):
        refused(run("--config", path, *command), "no invoice with number or provider id 'NO-SUCH'")


def test_choices_are_checked_and_shown(tmp_path: Path) -> None:
    path = str(config(tmp_path))
    refused(run("--config", path, "actions", "--status", "lost"), "--status", "lost")
    refused(run("--config", path, "preview", "1", "--format", "pdf"), "--format", "pdf")
    assert "awaiting_review" in run("actions", "--help").stdout
    assert "eml" in run("preview", "--help").stdout


def test_every_option_has_help() -> None:
    """Walk the command tree: each visible option of each command says what it is for."""
    import typer.main

    missing = []
    root = typer.main.get_command(app)

    def walk(command: object, path: str) -> None:
        for param in getattr(command, "params", []):
            if getattr(param, "hidden", False) or param.param_type_name == "argument":
                continue
            if not getattr(param, "help", None):
                missing.append(f"{path} {param.opts[0]}")
        for name, sub in (getattr(command, "commands", None) or {}).items():
            walk(sub, f"{path} {name}")

    walk(root, "syncd")
    assert missing == []


def test_timezone_error_says_the_value_once(tmp_path: Path) -> None:
    out = refused(run("--config", str(config(tmp_path, tz="Mars/Base")), "config", "check"))
    assert out.count("Mars/Base") == 1 and "timezone" in out


def test_sandbox_help_shows_orgs_block_name() -> None:
    assert "[[orgs]]" in run("sandbox", "--help").stdout


def test_secret_key_prints_or_writes_a_private_key_file(tmp_path: Path) -> None:
    printed = run("secret-key")
    assert printed.exit_code == 0
    Fernet(printed.stdout.strip().encode())  # a valid key, or this raises
    target = tmp_path / "keys" / "syncd.key"
    target.parent.mkdir()
    assert run("secret-key", "--out", str(target)).exit_code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    Fernet(target.read_bytes().strip())
    before = target.read_bytes()
    refused(run("secret-key", "--out", str(target)), "exists")
    assert target.read_bytes() == before


def test_busy_sandbox_port_is_an_error_and_print_config_still_works() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        base = [sys.executable, "-m", "syncd", "sandbox", "quickbooks", "--invoices", "5"]
        env = {k: v for k, v in os.environ.items() if k != "SYNCD_CONFIG"}
        busy = subprocess.run(
            [*base, "--port", port], capture_output=True, text=True, env=env, timeout=120
        )
        assert busy.returncode == 2 and "Traceback" not in busy.stderr
        assert f"port {port} on 127.0.0.1 is already in use" in busy.stderr
        block = subprocess.run(
            [*base, "--port", port, "--print-config"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert block.returncode == 0, block.stderr
        assert f'base_url = "http://127.0.0.1:{port}/' in block.stdout
        assert f'token_url = "http://127.0.0.1:{port}/' in block.stdout
