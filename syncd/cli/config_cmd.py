"""``syncd config``: validate a config file and summarise it."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy.engine import make_url

from syncd.config import ConfigError
from syncd.config.checks import check_runtime
from syncd.review.golive import go_live_summary
from syncd.review.hold import review_mode_label

from ..check.groups import customer_groups
from .context import fail_config, state_of
from .output import JSON_OPTION, emit, say

app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)


@app.command("check")
def check(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Validate the config file and print a short summary of orgs and policies."""
    config = state_of(ctx).config()
    try:
        check_runtime(config)
    except ConfigError as exc:
        fail_config(exc)
    settings = config.settings
    go_live = go_live_summary(config)
    groups = customer_groups(config.store_url)
    result = {
        "ok": True,
        "path": str(config.path),
        "store": make_url(settings.store.url).render_as_string(hide_password=True),
        "orgs": [
            {
                "name": org.name,
                "connector": org.connector,
                "policy": org.policy,
                "timezone": org.timezone,
                "api_host": org.base_url,
                "go_live": go_live[org.name],
                "review": review_mode_label(config, org.name),
                "customer_groups": None
                if isinstance(groups, str)
                else dict(sorted(groups.get(org.name, {}).items())),
            }
            for org in settings.orgs
        ],
        "digest": None
        if not settings.email.digest_to
        else {"to": settings.email.digest_to, "hour": settings.email.digest_hour},
        "policies": sorted(settings.policies),
        "store_note": groups if isinstance(groups, str) else None,
    }
    emit(result, as_json, lambda console: _print(console, result))


def _print(console: Console, result: dict[str, Any]) -> None:
    say(console, f"config OK: {result['path']}")
    say(console, f"store: {result['store']}")
    table = Table("org", "connector", "policy", "timezone", "API host", title="orgs")
    for org in result["orgs"]:
        table.add_row(
            *(Text(str(org[k] or "default")) for k in ("name", "connector", "policy", "timezone")),
            Text(org["api_host"] or "default"),
        )
    console.print(table)
    for org in result["orgs"]:
        say(console, f"{org['name']}: go-live {org['go_live']}; review {org['review']}")
    if result["digest"]:
        digest = result["digest"]
        say(console, f"review digest: daily to {digest['to']} from {digest['hour']}:00 (org time)")
    say(
        console,
        f"policies defined in config: {', '.join(result['policies']) or '(none; presets only)'}",
    )
    if result["store_note"]:
        say(console, f"customer groups: {result['store_note']}")
        return
    for org in result["orgs"]:
        counts = org["customer_groups"]
        if not counts:
            say(console, f"customer groups in {org['name']}: (none found)")
            continue
        listed = ", ".join(f"{name!r} ({n})" for name, n in counts.items())
        say(console, f"customer groups in {org['name']}: {listed}")
