"""``syncd config``: validate a config file and summarise it."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from ..check.groups import customer_groups
from .context import state_of

app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)


@app.command("check")
def check(ctx: typer.Context) -> None:
    """Validate the config file and print a short summary of orgs and policies."""
    config = state_of(ctx).config()
    settings = config.settings
    console = Console(highlight=False)
    console.print(f"config OK: {config.path}")
    console.print(f"store: {make_url(settings.store.url).render_as_string(hide_password=True)}")
    table = Table("org", "connector", "policy", "timezone", "API host", title="orgs")
    for org in settings.orgs:
        table.add_row(org.name, org.connector, org.policy, org.timezone, org.base_url or "default")
    console.print(table)
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
