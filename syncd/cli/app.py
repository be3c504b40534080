"""The root ``syncd`` command: global options, then one sub-command per job."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Literal

import typer

from .lazy import LazyGroup

# Every sub-command is listed in .lazy.COMMANDS and imported only when it runs.
app = typer.Typer(
    cls=LazyGroup,
    help="syncd: accounts-receivable sync and dunning for QuickBooks Online and Xero.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
    rich_markup_mode=None,
)


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
    from syncd import logs
    from syncd.clock import FixedClock

    from .context import CliState

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
