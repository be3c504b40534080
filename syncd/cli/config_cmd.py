"""``syncd config``: validate a config file and summarise it."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from syncd.config import ConfigError
from syncd.config.checks import check_runtime
from syncd.review.golive import go_live_summary
from syncd.review.hold import review_mode_label

from ..check.groups import customer_groups
from .context import fail_config, state_of

app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)


@app.command("check")
def check(ctx: typer.Context) -> None:
    """Validate the config file and print a short summary of orgs and policies."""
    config = state_of(ctx).config()
    try:
        check_runtime(config)
    except ConfigError as exc:
        fail_config(exc)
    settings = config.settings
    console = Console(highlight=False)
    console.print(f"config OK: {config.path}")
    console.print(f"store: {make_url(settings.store.url).render_as_string(hide_password=True)}")
    table = Table("org", "connector", "policy", "timezone", "API host", title="orgs")
    for org in settings.orgs:
        table.add_row(org.name, org.connector, org.policy, org.timezone, org.base_url or "default")
    console.print(table)
    go_live = go_live_summary(config)
    for org in settings.orgs:
        console.print(
            f"{org.name}: go-live {go_live[org.name]}; "
            f"review {review_mode_label(config, org.name)}",
            markup=False,
            soft_wrap=True,
        )
    if settings.email.digest_to:
        console.print(
            f"review digest: daily to {settings.email.digest_to} "
            f"from {settings.email.digest_hour}:00 (org time)",
            markup=False,
        )
    names = ", ".join(sorted(settings.policies)) or "(none; presets only)"
    console.print(f"policies defined in config: {names}")
    _print_groups(console, config.store_url, [org.name for org in settings.orgs])


def _print_groups(console: Console, store_url: str, orgs: list[str]) -> None:
    """Provider customer groups found in the store: the names rules and business_groups use."""
    found = customer_groups(store_url)
    if isinstance(found, str):
        console.print(f"customer groups: {found}", markup=False)
        return
    for org in orgs:
        counts = found.get(org)
        if not counts:
            console.print(f"customer groups in {org}: (none found)", markup=False)
            continue
        listed = ", ".join(f"{name!r} ({n})" for name, n in sorted(counts.items()))
        console.print(f"customer groups in {org}: {listed}", markup=False, soft_wrap=True)
