"""Small helpers the letter, hand-off and customer commands share: which org, what day it
is there, and how a user's mistake is reported (one line on stderr, status 2)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import typer

from .context import CliState


def fail(message: str) -> NoReturn:
    typer.echo(f"syncd: {message}", err=True)
    raise typer.Exit(2)


def org_name(state: CliState, org: str | None) -> str:
    config = state.config()
    names = [o.name for o in config.settings.orgs]
    if org is not None:
        if org not in names:
            fail(f"no org named {org!r} in {config.path} (configured: {', '.join(names)})")
        return org
    if len(names) != 1:
        fail("several orgs are configured: say which with --org")
    return names[0]


def org_today(state: CliState, org: str) -> date:
    tz = ZoneInfo(state.config().settings.org(org).timezone)
    return state.clock.now().astimezone(tz).date()


def parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option}: expected a date as YYYY-MM-DD, got {value!r}")


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=str))
