"""``syncd connect`` and ``syncd disconnect``: link an org to its company, or unlink it."""

from __future__ import annotations

import json
import webbrowser
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum

import requests
import typer

from connectors.base import ConnectorError, is_loopback
from syncd.oauth.configfile import ConfigEditError, org_block, write_org
from syncd.oauth.flow import Callback, ConnectFlowError, LoopbackListener, PastedRedirect
from syncd.oauth.session import disconnect as disconnect_org
from syncd.oauth.session import sign_in, store_tokens, target
from syncd.tokens import SecretKeyError

from .context import state_of
from .output import JSON_OPTION

DEFAULT_PORT = 8976


class Provider(StrEnum):
    quickbooks = "quickbooks"
    xero = "xero"


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"syncd: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def _user_errors() -> Iterator[None]:
    """The user's mistakes and the provider's refusals end in one line, not a traceback."""
    try:
        yield
    except ConnectFlowError as exc:
        raise _fail(str(exc), exc.exit_code) from None
    except (ConnectorError, ConfigEditError, SecretKeyError) as exc:
        raise _fail(str(exc)) from None


def connect(
    ctx: typer.Context,
    provider: Provider = typer.Argument(..., help="The org's accounting system."),
    org: str = typer.Option(..., "--org", help="The org's name in the config file."),
    no_browser: bool = typer.Option(
        False, "--no-browser", help="Print the sign-in URL on stdout instead of opening it."
    ),
    port: int = typer.Option(
        DEFAULT_PORT,
        "--port",
        min=0,
        max=65535,
        help="Port of the redirect http://localhost:PORT/callback (as registered with the app).",
    ),
    write_config: bool = typer.Option(
        False, "--write-config", help="Write the org's id into the config file (kept as .bak)."
    ),
    tenant: str | None = typer.Option(
        None, "--tenant", help="Xero: the organisation (tenant id or name) to connect."
    ),
    redirect_uri: str | None = typer.Option(
        None,
        "--redirect-uri",
        help="An https redirect URI registered with the app (QuickBooks production keys take "
        "no localhost); you paste the address the browser ends on.",
    ),
    timeout: float = typer.Option(
        300, "--timeout", min=1, help="Seconds to wait for the browser to come back."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Sign in at the provider and store the org's tokens encrypted (OAuth 2.0 code flow)."""
    if redirect_uri and not (redirect_uri.startswith("https://") or is_loopback(redirect_uri)):
        raise typer.BadParameter(
            "expected an https:// URI (or one on this machine)", param_hint="--redirect-uri"
        )
    state = state_of(ctx)
    config = state.config()
    http = requests.Session()
    listener: Callback = (
        PastedRedirect(redirect_uri, input) if redirect_uri else LoopbackListener(port)
    )
    with _user_errors():
        t = target(config, org, provider.value, http)
        listener.open()
        try:
            connected, tokens = sign_in(
                t,
                listener,
                _show_url if no_browser else _open_browser,
                tenant=tenant,
                timeout=timeout,
                http=http,
                clock=state.clock,
            )
        finally:
            listener.close()
        with state.store() as store:
            store_tokens(store, config, org, state.clock, tokens, connected)
        key, tenant_id = connected.tenant_key, connected.tenant.id
        backup = write_org(config.path, org, key, tenant_id) if write_config else None
        block = None if write_config else org_block(config.path, org, key, tenant_id)
    name = connected.tenant.name
    named = name if name == tenant_id else f"{name} ({tenant_id})"
    typer.echo(f"Connected {org} to {t.title} {named}.", err=True)
    if as_json:
        result = {
            "org": org,
            "connector": provider.value,
            key: tenant_id,
            "name": connected.tenant.name,
            "config_written": backup is not None,
            "backup": str(backup) if backup else None,
            "block": block,
        }
        typer.echo(json.dumps(result))
    elif backup is not None:
        typer.echo(f"Updated {config.path} (previous version: {backup}).", err=True)
    else:
        typer.echo(f"Put this in {config.path} (or run again with --write-config):", err=True)
        typer.echo(block, nl=False)


def _show_url(url: str) -> None:
    typer.echo("Open this URL in a browser to connect:", err=True)
    typer.echo(url)


def _open_browser(url: str) -> None:
    typer.echo(f"Opening your browser; if it does not open, visit:\n{url}", err=True)
    webbrowser.open(url)


def disconnect(
    ctx: typer.Context,
    org: str = typer.Option(..., "--org", help="The org's name in the config file."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Revoke the org's tokens at the provider and forget them."""
    state = state_of(ctx)
    config = state.config()
    http = requests.Session()
    with _user_errors():
        t = target(config, org, None, http)
        with state.store() as store:
            done = disconnect_org(t, store, config, state.clock, http)
    for note in done.notes:
        typer.echo(f"syncd: {note}", err=True)
    typer.echo(f"Disconnected {org} from {t.title}; its tokens are forgotten.", err=True)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "org": org,
                    "revoked": done.revoked,
                    "connection_removed": done.connection_removed,
                    "notes": list(done.notes),
                }
            )
        )
