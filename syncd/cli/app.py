"""The root ``syncd`` command: global options, then one sub-command per job."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Literal

import typer

from syncd import logs
from syncd.clock import FixedClock

from . import config_cmd, customer_cmd, db, handoff_cmd, letters_cmd, plans_cmd, settle_cmd
from .actions_cmd import app as actions_app
from .check_cmd import check
from .connect_cmd import connect, disconnect
from .context import CliState
from .demo_cmd import demo
from .dunning_cmd import plan, policy_app, simulate
from .holds_cmd import dispute, pause, resume
from .invoices import invoices
from .preview_cmd import preview
from .report_cmd import app as report_app
from .review_cmd import app as review_app
from .run_cmd import retry, run, run_once_cmd
from .sandbox_cmd import sandbox
from .secret_key import secret_key_cmd
from .sync_cmd import backfill, sync
from .tasks_cmd import app as tasks_app

app = typer.Typer(
    help="syncd: accounts-receivable sync and dunning for QuickBooks Online and Xero.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
    rich_markup_mode=None,
)
app.add_typer(db.app, name="db")
app.add_typer(config_cmd.app, name="config")
app.command("invoices")(invoices)
app.command("backfill")(backfill)
app.command("sync")(sync)
app.command("sandbox")(sandbox)
app.command("plan")(plan)
app.command("simulate")(simulate)
app.add_typer(policy_app, name="policy")
app.command("pause")(pause)
app.command("resume")(resume)
app.command("dispute")(dispute)
app.command("demo")(demo)
app.command("run-once")(run_once_cmd)
app.command("run")(run)
app.add_typer(actions_app, name="actions")
app.command("retry")(retry)
app.add_typer(review_app, name="review")
app.command("preview")(preview)
app.command("check")(check)
app.command("secret-key")(secret_key_cmd)
app.command("connect")(connect)
app.command("disconnect")(disconnect)
app.add_typer(report_app, name="report")
app.add_typer(plans_cmd.app, name="payment-plan")
app.add_typer(settle_cmd.app, name="settle")
app.add_typer(letters_cmd.app, name="letters")
app.add_typer(handoff_cmd.app, name="handoff")
app.add_typer(customer_cmd.app, name="customer")
app.add_typer(tasks_app, name="tasks")


class LogFormat(StrEnum):
    AUTO = "auto"
    JSON = "json"
    CONSOLE = "console"


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"


def _version(value: bool) -> None:
    if value:
        try:
            typer.echo(f"syncd {version('syncd')}")
        except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
            typer.echo("syncd (not installed)")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None,
        "--config",
        "-c",
        help="Config file (default: $SYNCD_CONFIG, else ./syncd.toml).",
        dir_okay=False,
    ),
    log_format: LogFormat = typer.Option(
        LogFormat.AUTO,
        "--log-format",
        help="Logs on stderr: auto (console on a terminal, else JSON lines), json or console.",
    ),
    log_level: LogLevel = typer.Option(
        LogLevel.INFO, "--log-level", case_sensitive=False, help="Least severe log line shown."
    ),
    now: str | None = typer.Option(
        None, "--now", hidden=True, help="Pretend it is this ISO time (tests, rehearsals)."
    ),
    _show_version: bool = typer.Option(
        False,
        "--version",
        callback=_version,
        is_eager=True,
        help="Print syncd's version and exit.",
    ),
) -> None:
    fmt: Literal["auto", "json", "console"] = log_format.value
    logs.configure(fmt=fmt, level=log_level.value)
    state = CliState(config_path=config)
    if now is not None:
        try:
            fixed = datetime.fromisoformat(now)
        except ValueError:
            raise typer.BadParameter("expected an ISO time", param_hint="--now") from None
        state.clock = FixedClock(fixed if fixed.tzinfo else fixed.replace(tzinfo=UTC))
    ctx.obj = state


def main() -> None:
    app()
