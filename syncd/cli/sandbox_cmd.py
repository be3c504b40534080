"""``syncd sandbox PROVIDER``: run a provider's local sandbox, found through the
``syncd.sandboxes`` entry point group (syncd never imports a connector package by name)."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import entry_points
from typing import Any

import typer

GROUP = "syncd.sandboxes"


def _sandboxes() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def org_block(provider: str, name: str, org_config: dict[str, str]) -> str:
    """A ready ``[[orgs]]`` table for the config file."""
    credential_keys = ("client_id", "client_secret", "refresh_token", "realm_id", "tenant_id")
    lines = [
        "[[orgs]]",
        f'name = "{name}"',
        f'connector = "{provider}"',
        'policy = "standard"',
        'timezone = "UTC"',
        f'base_url = "{org_config["base_url"]}"',
        f'token_url = "{org_config["token_url"]}"',
        "",
        "[orgs.credentials]",
    ]
    lines += [f'{k} = "{org_config[k]}"' for k in credential_keys if k in org_config]
    # A sandbox names the options its company needs (late-fee item, tax code) as "options.X".
    options = {k[8:]: v for k, v in org_config.items() if k.startswith("options.")}
    if options:
        lines += ["", "[orgs.options]", *(f'{k} = "{v}"' for k, v in options.items())]
    return "\n".join(lines) + "\n"


def sandbox(
    provider: str = typer.Argument(..., help="quickbooks or xero"),
    port: int = typer.Option(8765, "--port", help="Port on 127.0.0.1 (0 picks a free one)."),
    seed: int = typer.Option(1, "--seed", help="Seed of the generated company."),
    invoices: int = typer.Option(200, "--invoices", help="Number of invoices to generate."),
    now: str | None = typer.Option(
        None, "--now", help="The sandbox clock's start (ISO date or time, UTC); default: now."
    ),
    print_config: bool = typer.Option(
        False, "--print-config", help="Print a ready [[orgs]] TOML block and exit."
    ),
    name: str = typer.Option("sandbox", "--name", help="Org name used in --print-config."),
    strict: bool = typer.Option(
        False, "--strict", help="Make every undocumented provider behaviour unfavourable."
    ),
    country: str | None = typer.Option(
        None, "--country", help="Country of the sandbox company, where supported (US, GB, CA)."
    ),
) -> None:
    """Serve a local, seeded imitation of a provider's API on 127.0.0.1."""
    available = _sandboxes()
    if provider not in available:
        known = ", ".join(sorted(available)) or "none installed"
        typer.echo(f"syncd: no sandbox for {provider!r} (available: {known})", err=True)
        raise typer.Exit(2)
    start: datetime | None = None
    if now:
        start = datetime.fromisoformat(now)
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
    cls = available[provider].load()
    extra: dict[str, Any] = {"strict": True} if strict else {}
    if country:
        extra["country"] = country.upper()
    box = cls(seed=seed, invoices=invoices, port=port, now=start, **extra)
    if print_config:
        typer.echo(org_block(provider, name, box.org_config()), nl=False)
        return
    box.start()
    typer.echo(f"{provider} sandbox listening on {box.base_url} (Ctrl-C to stop)", err=True)
    typer.echo(org_block(provider, name, box.org_config()), nl=False)
    try:
        box.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        box.stop()
