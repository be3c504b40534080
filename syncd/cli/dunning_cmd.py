"""Dunning commands: ``plan``, ``simulate``, ``policy explain``, ``pause``, ``resume``,
``dispute``. Planning and simulation are read-only; holds are recorded with who and why."""

from __future__ import annotations

import getpass
import json
from datetime import date
from typing import Literal
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from policies import explain_invoice, explain_policy
from syncd.connections import org_id_for
from syncd.dunning.holds import HoldError, Scope, place_hold, release_holds
from syncd.dunning.planning import as_of_datetime, org_context, plan_org, simulate_org
from syncd.dunning.snapshots import load_inputs
from syncd.experiments.assignments import with_arms
from syncd.review.golive import go_live_for

from .context import CliState, state_of

policy_app = typer.Typer(help="Inspect dunning policies.", no_args_is_help=True)


def _orgs(state: CliState, org: str | None) -> list[str]:
    config = state.config()
    names = [o.name for o in config.settings.orgs]
    if org is not None and org not in names:
        typer.echo(f"syncd: no org named {org!r} in {config.path}", err=True)
        raise typer.Exit(2)
    return [org] if org else names


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"expected a date like 2026-11-30, got {value!r}", param_hint=option
        ) from None


def plan(
    ctx: typer.Context,
    org: str | None = typer.Option(None, "--org", help="Only this org."),
    as_of: str | None = typer.Option(None, "--as-of", help="Plan as of this date (09:00 local)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array of actions."),
) -> None:
    """What the next dunning cycle would do, with the reason for each action (read-only)."""
    state = state_of(ctx)
    day = _date(as_of, "--as-of")
    config = state.config()
    actions: list[dict[str, object]] = []
    with state.store() as store:
        for name in _orgs(state, org):
            org_id = org_id_for(store, config, name, state.clock)
            when = as_of_datetime(config, name, day, state.clock.now())
            with store.sessions() as session:
                result = plan_org(session, config, name, org_id, when)
            actions.extend(a.to_dict() for a in result.actions)
    if as_json:
        typer.echo(json.dumps(actions, indent=2))
        return
    table = Table("org", "invoice", "customer", "step", "action", "amount", "when", "reason")
    for a in actions:
        invoice = a["invoice"]
        number = invoice["number"] if isinstance(invoice, dict) else f"{len(a['invoices'])} inv."  # type: ignore[arg-type]
        amount = f"{a['amount']} {a['currency']}" if a["amount"] else ""
        table.add_row(
            str(a["org"]),
            str(number),
            str(a["customer"]),
            str(a["step"]),
            str(a["action"]),
            amount,
            str(a["scheduled_for"])[:16],
            str(a["reason"]),
        )
    Console().print(table)
    typer.echo(f"{len(actions)} action(s) planned")


def simulate(
    ctx: typer.Context,
    start: str = typer.Option(..., "--from", help="First day of the replay."),
    end: str = typer.Option(..., "--to", help="Last day of the replay."),
    policy: str | None = typer.Option(None, "--policy", help="Replay with this policy instead."),
    org: str | None = typer.Option(None, "--org", help="Only this org."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Replay a policy day by day over the stored invoices and their payments (read-only)."""
    state = state_of(ctx)
    first, last = _date(start, "--from"), _date(end, "--to")
    assert first is not None and last is not None
    if last < first:
        raise typer.BadParameter("--to is before --from", param_hint="--to")
    config = state.config()
    if policy is not None and policy not in config.policies:
        typer.echo(f"syncd: no policy named {policy!r}", err=True)
        raise typer.Exit(2)
    out: dict[str, object] = {}
    console = Console()
    with state.store() as store:
        for name in _orgs(state, org):
            org_id = org_id_for(store, config, name, state.clock)
            with store.sessions() as session:
                result = simulate_org(session, config, name, org_id, first, last, policy)
            out[name] = result.to_dict()
            if not as_json:
                totals = result.overall.to_dict()
                table = Table("measure", "value", title=f"{name}: {first} to {last}")
                for key, value in totals.items():
                    table.add_row(key, json.dumps(value) if isinstance(value, dict) else str(value))
                console.print(table)
                console.print(
                    f"{len(result.timeline)} action(s) over {len(result.per_customer)} customer(s)"
                )
    if as_json:
        typer.echo(json.dumps(out, indent=2))


@policy_app.command("explain")
def explain(
    ctx: typer.Context,
    name: str | None = typer.Argument(None, help="Policy name (default: the org's policy)."),
    org: str | None = typer.Option(None, "--org", help="Org whose policy to explain."),
    invoice: str | None = typer.Option(None, "--invoice", help="Explain this invoice's next step."),
    as_of: str | None = typer.Option(None, "--as-of", help="Date for --invoice (09:00 local)."),
) -> None:
    """Describe a policy in words, or why an invoice gets (or does not get) an action."""
    state = state_of(ctx)
    config = state.config()
    if invoice is None:
        chosen = name or (
            config.settings.org(_orgs(state, org)[0]).policy if config.settings.orgs else None
        )
        if chosen is None or chosen not in config.policies:
            typer.echo(f"syncd: no policy named {chosen!r}", err=True)
            raise typer.Exit(2)
        typer.echo(explain_policy(chosen, config.policies[chosen]))
        return
    org_name = _orgs(state, org)[0]
    with state.store() as store:
        org_id = org_id_for(store, config, org_name, state.clock)
        with store.sessions() as session:
            go_live = go_live_for(session, config, org_name, org_id, record=False)
            ctx_org = org_context(config, org_name, go_live)
            items = [
                i
                for i in load_inputs(
                    session,
                    org_id,
                    ctx_org.timezone,
                    open_only=False,
                    business_groups=config.settings.org(org_name).business_groups,
                )
                if i.invoice.invoice_id == invoice or i.invoice.number == invoice
            ]
            items = with_arms(  # the A/B experiment arm the cycle uses (read-only)
                session,
                org_name=org_name,
                org_id=org_id,
                rules=config.dunning[org_name].rules,
                inputs=items,
                now=state.clock.now(),
                record_new=False,
            )
    if not items:
        typer.echo(f"syncd: no invoice {invoice!r} in org {org_name!r}", err=True)
        raise typer.Exit(2)
    when = as_of_datetime(config, org_name, _date(as_of, "--as-of"), state.clock.now())
    typer.echo(
        explain_invoice(
            org=ctx_org,
            policies=config.policies,
            settings=config.dunning[org_name],
            as_of=when,
            item=items[0],
        )
    )


@policy_app.command("terms")
def terms(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Policy name."),
    locale: str = typer.Option("en_GB", "--locale", help="Number formats, e.g. de_DE."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Print the payment-terms paragraph for invoices, generated from the policy."""
    from policies.terms import payment_terms
    from policies.terms_format import TermsFormat, UnknownLocale

    config = state_of(ctx).config()
    if name not in config.policies:
        known = ", ".join(sorted(config.policies))
        typer.echo(f"syncd: no policy named {name!r} (known: {known})", err=True)
        raise typer.Exit(2)
    try:
        fmt = TermsFormat.for_locale(locale)
    except UnknownLocale as exc:
        typer.echo(f"syncd: {exc}", err=True)
        raise typer.Exit(2) from None
    result = payment_terms(name, config.policies[name], fmt)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return
    if result.note:
        typer.echo(f"({result.note})", err=True)
    typer.echo(result.text)


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
    provider_id = invoice or customer
    assert provider_id is not None
    state = state_of(ctx)
    config = state.config()
    _orgs(state, org)
    actor = by or getpass.getuser()
    now = state.clock.now()
    today = now.astimezone(ZoneInfo(config.settings.org(org).timezone)).date()
    with state.store() as store:
        org_id = org_id_for(store, config, org, state.clock)
        try:
            with store.sessions.begin() as session:
                if kind == "resume":
                    n = release_holds(
                        session,
                        org_id=org_id,
                        scope=scope,
                        provider_id=provider_id,
                        actor=actor,
                        reason=reason,
                        now=now,
                    )
                    message = f"resumed {scope} {provider_id} ({n} hold(s) released)"
                else:
                    place_hold(
                        session,
                        org_id=org_id,
                        scope=scope,
                        provider_id=provider_id,
                        kind=kind,
                        until=_date(until, "--until"),
                        reason=reason,
                        actor=actor,
                        now=now,
                        today=today,
                    )
                    message = f"{kind}d {scope} {provider_id}" + (
                        f" until {until}" if until else ""
                    )
        except HoldError as exc:
            typer.echo(f"syncd: {exc}", err=True)
            raise typer.Exit(2) from None
    typer.echo(message)


def pause(
    ctx: typer.Context,
    org: str = typer.Option(..., "--org"),
    invoice: str | None = typer.Option(None, "--invoice", help="Provider id of the invoice."),
    customer: str | None = typer.Option(None, "--customer", help="Provider id of the customer."),
    until: str = typer.Option(..., "--until", help="First day dunning runs again."),
    reason: str | None = typer.Option(None, "--reason", help="e.g. promised to pay on the 30th"),
    by: str | None = typer.Option(None, "--by", help="Who (default: your user name)."),
) -> None:
    """Pause dunning of an invoice or a customer until a date (a promise to pay)."""
    _hold(ctx, org, invoice, customer, "pause", until, reason, by)


def dispute(
    ctx: typer.Context,
    org: str = typer.Option(..., "--org"),
    invoice: str | None = typer.Option(None, "--invoice"),
    customer: str | None = typer.Option(None, "--customer"),
    reason: str = typer.Option(..., "--reason", help="What the customer disputes."),
    by: str | None = typer.Option(None, "--by"),
) -> None:
    """Mark an invoice or customer disputed: no dunning until resumed."""
    _hold(ctx, org, invoice, customer, "dispute", None, reason, by)


def resume(
    ctx: typer.Context,
    org: str = typer.Option(..., "--org"),
    invoice: str | None = typer.Option(None, "--invoice"),
    customer: str | None = typer.Option(None, "--customer"),
    reason: str | None = typer.Option(None, "--reason"),
    by: str | None = typer.Option(None, "--by"),
) -> None:
    """End pauses and disputes; dunning continues from where it stood."""
    _hold(ctx, org, invoice, customer, "resume", None, reason, by)
