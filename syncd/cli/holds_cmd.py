"""``syncd pause``, ``dispute`` and ``resume``: holds recorded with who and why.

An invoice is named by its number or its provider id (see
:func:`syncd.store.invoice_refs.resolve_invoice`); a hold is always stored against the
provider id, which never changes.
"""

from __future__ import annotations

import getpass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

import typer
from sqlalchemy.orm import Session

from syncd.config.loader import LoadedConfig
from syncd.connections import org_id_for
from syncd.dunning.holds import HoldError, Scope, place_hold, release_holds
from syncd.store.invoice_refs import InvoiceRefError, resolve_invoice

from .context import state_of
from .dunning_cmd import orgs_of
from .output import fail, parse_date

INVOICE_HELP = "An invoice: its number or its provider id."
CUSTOMER_HELP = "A customer's provider id."


def _hold(
    ctx: typer.Context,
    org: str,
    invoice: str | None,
    customer: str | None,
    kind: Literal["pause", "dispute", "resume"],
    until: str | None,
    reason: str | None,
    by: str | None,
) -> None:
    if (invoice is None) == (customer is None):
        raise typer.BadParameter("give exactly one of --invoice or --customer")
    scope: Scope = "invoice" if invoice else "customer"
    state = state_of(ctx)
    config = state.config()
    orgs_of(state, org)
    actor = by or getpass.getuser()
    now = state.clock.now()
    today = now.astimezone(ZoneInfo(config.settings.org(org).timezone)).date()
    until_day = parse_date(until, "--until")  # a bad date is named before anything is looked up
    with state.store() as store:
        org_id = org_id_for(store, config, org, state.clock)
        provider_id = customer or ""
        if invoice is not None:
            with store.sessions() as session:
                try:
                    provider_id = resolve_invoice(
                        session, org_id, invoice, org_name=org
                    ).provider_id
                except InvoiceRefError as exc:
                    fail(str(exc))
        shown = f"{scope} {invoice or customer}" + (
            f" (provider id {provider_id})" if invoice not in (None, provider_id) else ""
        )
        try:
            with store.sessions.begin() as session:
                if kind == "resume":
                    message = _resume(
                        session, config, org, org_id, scope, provider_id,
                        actor=actor, reason=reason, now=now, shown=shown,
                    )  # fmt: skip
                else:
                    place_hold(
                        session,
                        org_id=org_id,
                        scope=scope,
                        provider_id=provider_id,
                        kind=kind,
                        until=until_day,
                        reason=reason,
                        actor=actor,
                        now=now,
                        today=today,
                    )
                    message = f"{kind}d {shown}" + (f" until {until}" if until else "")
        except HoldError as exc:
            fail(str(exc))
    typer.echo(message)


def _resume(
    session: Session,
    config: LoadedConfig,
    org: str,
    org_id: int,
    scope: Scope,
    provider_id: str,
    *,
    actor: str,
    reason: str | None,
    now: datetime,
    shown: str,
) -> str:
    """End the subject's pauses and disputes. An invoice an unconfirmed payment plan still
    holds is released from it as cancelling the plan would (``syncd.plans.resume``: the
    plan's own days' interest waived, the plan cancelled once it holds nothing else). A plan
    or settlement in force (or awaiting its confirmation) keeps its hold: the user is told
    how to end it."""
    from syncd.plans.common import held_by_agreement
    from syncd.plans.resume import resume_unconfirmed

    plans = (
        resume_unconfirmed(
            session, config, org, org_id, provider_id, actor=actor, reason=reason, now=now
        )
        if scope == "invoice"
        else []
    )
    n = len(plans) + release_holds(
        session,
        org_id=org_id,
        scope=scope,
        provider_id=provider_id,
        actor=actor,
        reason=reason,
        now=now,
    )
    still = held_by_agreement(session, org_id, provider_id) if scope == "invoice" else None
    if still is not None:
        what, ident = still.removeprefix("syncd:").split("/", 1)
        command = "payment-plan" if what == "plan" else "settle"
        plans.append(
            f"still held by {what.replace('plan', 'payment plan')} {ident} "
            f"(`syncd {command} cancel {ident}` ends it)"
        )
    return f"resumed {shown} ({n} hold(s) released)" + "".join(f"; {line}" for line in plans)


def pause(
    ctx: typer.Context,
    org: str = typer.Option(..., "--org", help="The org (see `syncd config check`)."),
    invoice: str | None = typer.Option(None, "--invoice", help=INVOICE_HELP),
    customer: str | None = typer.Option(None, "--customer", help=CUSTOMER_HELP),
    until: str = typer.Option(..., "--until", help="First day dunning runs again, YYYY-MM-DD."),
    reason: str | None = typer.Option(None, "--reason", help="e.g. promised to pay on the 30th"),
    by: str | None = typer.Option(None, "--by", help="Who (default: your user name)."),
) -> None:
    """Pause dunning of an invoice or a customer until a date (a promise to pay)."""
    _hold(ctx, org, invoice, customer, "pause", until, reason, by)


def dispute(
    ctx: typer.Context,
    org: str = typer.Option(..., "--org", help="The org (see `syncd config check`)."),
    invoice: str | None = typer.Option(None, "--invoice", help=INVOICE_HELP),
    customer: str | None = typer.Option(None, "--customer", help=CUSTOMER_HELP),
    reason: str = typer.Option(..., "--reason", help="What the customer disputes."),
    by: str | None = typer.Option(None, "--by", help="Who (default: your user name)."),
) -> None:
    """Mark an invoice or customer disputed: no dunning until resumed."""
    _hold(ctx, org, invoice, customer, "dispute", None, reason, by)


def resume(
    ctx: typer.Context,
    org: str = typer.Option(..., "--org", help="The org (see `syncd config check`)."),
    invoice: str | None = typer.Option(None, "--invoice", help=INVOICE_HELP),
    customer: str | None = typer.Option(None, "--customer", help=CUSTOMER_HELP),
    reason: str | None = typer.Option(None, "--reason", help="Why (kept in the audit log)."),
    by: str | None = typer.Option(None, "--by", help="Who (default: your user name)."),
) -> None:
    """End pauses and disputes; dunning continues from where it stood."""
    _hold(ctx, org, invoice, customer, "resume", None, reason, by)
