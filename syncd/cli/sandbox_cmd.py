"""``syncd sandbox PROVIDER``: run a provider's local sandbox, found through the
``syncd.sandboxes`` entry point group (syncd never imports a connector package by name)."""

from __future__ import annotations

import errno
import functools
import inspect
from datetime import UTC, datetime
from enum import StrEnum
from importlib.metadata import entry_points
from typing import Any

import typer

from .output import fail

GROUP = "syncd.sandboxes"


@functools.cache
def _sandboxes() -> dict[str, Any]:
    """Read once: the help text and the command both need it, and scanning the installed
    distributions' entry points is a noticeable part of ``syncd sandbox``'s start."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def _country_option(cls: Any, country: str) -> dict[str, str]:
    """Each sandbox names its company's country its own way (QuickBooks ``country`` in ISO
    codes, Xero ``region`` by edition, where the United Kingdom is "UK")."""
    params = inspect.signature(cls).parameters
    if "country" in params:
        return {"country": country}
    if "region" in params:
        return {"region": {"GB": "UK"}.get(country, country)}
    raise typer.BadParameter("this sandbox has no country setting", param_hint="--country")


def org_block(
    provider: str,
    name: str,
    org_config: dict[str, str],
    options: dict[str, str] | None = None,
    timezone: str | None = None,
) -> str:
    """A ready ``[[orgs]]`` table for the config file, in the sandbox company's own timezone
    (``timezone`` overrides it) so that reminders go out in its customers' daytime."""
    credential_keys = ("client_id", "client_secret", "refresh_token", "realm_id", "tenant_id")
    lines = [
        "[[orgs]]",
        f'name = "{name}"',
        f'connector = "{provider}"',
        'policy = "standard"',
        f'timezone = "{timezone or org_config.get("timezone", "UTC")}"',
        f'base_url = "{org_config["base_url"]}"',
        f'token_url = "{org_config["token_url"]}"',
        "",
        "[orgs.credentials]",
    ]
    lines += [f'{k} = "{org_config[k]}"' for k in credential_keys if k in org_config]
    # A sandbox names the options its company needs (late-fee item, tax code) as "options.X",
    # or through ``org_options()``; both are printed.
    options = {
        **{k[8:]: v for k, v in org_config.items() if k.startswith("options.")},
        **(options or {}),
    }
    if options:
        lines += ["", "[orgs.options]", *(f'{k} = "{v}"' for k, v in options.items())]
    return "\n".join(lines) + "\n"


def _bind_error(exc: OSError, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} on 127.0.0.1 is already in use (choose another with --port, or 0)"
    return f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}"


def _config_for_port(box: Any, port: int) -> dict[str, str]:
    """The sandbox's settings as a process listening on ``port`` will serve them.

    The sandbox was made on a free port (or not bound at all), so that ``--print-config``
    works while another sandbox already listens on ``port``: only its URLs name the port.
    """
    config: dict[str, str] = box.org_config()
    bound = box.base_url
    wanted = f"http://127.0.0.1:{port}"
    return {k: v.replace(bound, wanted) if isinstance(v, str) else v for k, v in config.items()}


def _start(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        start = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"expected an ISO date or time such as 2026-11-30, got {value!r}", param_hint="--now"
        ) from None
    return start if start.tzinfo else start.replace(tzinfo=UTC)


PROVIDER = typer.Argument(
    ...,
    help=f"Which provider's API to imitate: {', '.join(sorted(_sandboxes())) or 'none installed'}.",
    show_default=False,
)


class Country(StrEnum):
    US = "US"
    GB = "GB"
    CA = "CA"
    NZ = "NZ"
    AU = "AU"


def sandbox(
    provider: str = PROVIDER,
    port: int = typer.Option(8765, "--port", help="Port on 127.0.0.1 (0 picks a free one)."),
    seed: int = typer.Option(1, "--seed", help="Seed of the generated company."),
    invoices: int = typer.Option(200, "--invoices", help="Number of invoices to generate."),
    now: str | None = typer.Option(
        None, "--now", help="The sandbox clock's start (ISO date or time, UTC); default: now."
    ),
    print_config: bool = typer.Option(
        False,
        "--print-config",
        help="Print a ready [[orgs]] TOML block for a sandbox on --port and exit "
        "(does not listen, so it works while that sandbox runs).",
    ),
    name: str = typer.Option("sandbox", "--name", help="Org name used in --print-config."),
    strict: bool = typer.Option(
        False, "--strict", help="Take the unfavourable answer wherever the provider is silent."
    ),
    country: Country | None = typer.Option(
        None,
        "--country",
        case_sensitive=False,
        help="Company country: QuickBooks US, GB, CA; Xero NZ, GB, AU, US.",
    ),
) -> None:
    """Serve a local, seeded imitation of a provider's API on 127.0.0.1."""
    available = _sandboxes()
    if provider not in available:
        known = ", ".join(sorted(available)) or "none installed"
        fail(f"no sandbox for {provider!r} (available: {known})")
    start = _start(now)
    cls = available[provider].load()
    extra: dict[str, Any] = {"strict": True} if strict else {}
    if country:
        extra.update(_country_option(cls, country.value))
    try:
        # --print-config never takes the port: it works while that sandbox is running.
        box = cls(
            seed=seed, invoices=invoices, port=0 if print_config else port, now=start, **extra
        )
        if print_config:
            box.start()
    except ValueError as exc:  # a setting this sandbox does not offer (e.g. its countries)
        fail(f"{provider} sandbox: {exc}")
    except OSError as exc:
        fail(_bind_error(exc, port))
    options = box.org_options() if hasattr(box, "org_options") else None
    if print_config:
        config = _config_for_port(box, port)
        box.stop()
        typer.echo(org_block(provider, name, config, options), nl=False)
        return
    try:
        box.start()
    except OSError as exc:
        fail(_bind_error(exc, port))
    typer.echo(f"{provider} sandbox listening on {box.base_url} (Ctrl-C to stop)", err=True)
    typer.echo(org_block(provider, name, box.org_config(), options), nl=False)
    try:
        box.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        box.stop()
