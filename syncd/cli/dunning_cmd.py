"""Dunning commands: ``plan``, ``simulate`` and ``policy explain``, all read-only.

Holds (``pause``, ``dispute``, ``resume``) live in :mod:`syncd.cli.holds_cmd`."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from policies import Deferral, explain_decision, explain_policy, plan_cycle
from syncd.config.loader import LoadedConfig
from syncd.connections import org_id_for
from syncd.dunning.planning import as_of_datetime, backtest_org, org_context, plan_org
from syncd.dunning.snapshots import load_inputs
from syncd.experiments.assignments import with_arms
from syncd.review.golive import first_backfill_day, go_live_for
from syncd.store.invoice_refs import InvoiceRefError, resolve_invoice
from syncd.store.queries import customer_names

from .backtest_view import measured_steps, print_backtest
from .context import CliState, state_of
from .output import JSON_OPTION, Col, emit, fail, fit_table, known_orgs, parse_date, say

policy_app = typer.Typer(help="Inspect dunning policies.", no_args_is_help=True)


def orgs_of(state: CliState, org: str | None) -> list[str]:
    config = state.config()
    return known_orgs([o.name for o in config.settings.orgs], org, config.path)


PLAN_COLUMNS = [
    Col("invoice"),
    Col("customer", "wrap", 22),
    Col("action"),
    Col("step", "wrap", 14),
    Col("amount"),
    Col("on"),
    Col("why", "trim"),
]


def deferral_note(org: str, deferral: Deferral | None) -> str | None:
    """The line that tells a person running ``plan`` or ``run-once`` after hours (or on a
    closed day) why nothing was planned for today, and when the next cycle can plan."""
    if deferral is None:
        return None
    day = deferral.until.isoformat()
    count = deferral.invoices
    waiting = "" if not count else f"; {count} invoice{'s' if count > 1 else ''} due wait for it"
    return (
        f"{org}: nothing is planned on {deferral.on.isoformat()}: {deferral.why}. The next "
        f"open day is {day}"
        f"{waiting}; `syncd plan --as-of {day}` shows what that day's cycle will do."
    )


def _demanded(items: list[dict[str, Any]]) -> str:
    """What an email asks for: its invoices' balances, when they share one currency."""
    currencies = {i["currency"] for i in items}
    if not items or len(currencies) != 1:
        return ""
    total = sum((Decimal(i["balance"]) for i in items), Decimal(0))
    return f"{total} {currencies.pop()}"


def _backfilled(session: Session, config: LoadedConfig, org: str, org_id: int) -> bool:
    tz = ZoneInfo(config.settings.org(org).timezone)
    return first_backfill_day(session, org_id, tz) is not None


def _plan_rows(actions: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for a in actions:
        invoice = a["invoice"]
        if isinstance(invoice, dict):
            number = str(invoice["number"] or invoice["provider_id"])
        else:
            # One number a line: a grouped email's list wraps between numbers, never inside.
            number = "\n".join(str(i["number"] or i["provider_id"]) for i in a["invoices"])
        amount = f"{a['amount']} {a['currency']}" if a["amount"] else _demanded(a["invoices"])
        customer = str(a.get("customer_name") or a["customer"])
        when = str(a["scheduled_for"])[:10]
        rows.append(
            [number, customer, str(a["action"]), str(a["step"]), amount, when, str(a["reason"])]
        )
    return rows


def plan(
    ctx: typer.Context,
    org: str | None = typer.Option(None, "--org", help="Only this org."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Plan as of this date, YYYY-MM-DD (09:00 local)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array of actions."),
) -> None:
    """What the next dunning cycle would do, with the reason for each action (read-only).

    The table cuts reasons to one line; `syncd policy explain --invoice NUMBER` gives the
    whole reasoning for one invoice.
    """
    state = state_of(ctx)
    day = parse_date(as_of, "--as-of")
    config = state.config()
    by_org: dict[str, list[dict[str, Any]]] = {}
    notes: list[str] = []
    with state.store() as store:
        for name in orgs_of(state, org):
            org_id = org_id_for(store, config, name, state.clock)
            when = as_of_datetime(config, name, day, state.clock.now())
            with store.sessions() as session:
                result = plan_org(session, config, name, org_id, when)
                names = customer_names(session, [org_id])
                empty = not result.actions and not _backfilled(session, config, name, org_id)
            note = deferral_note(name, result.deferral)
            notes.extend([note] if note else [])
            if empty:
                notes.append(
                    f"{name}: nothing to plan from yet: no backfill of this org has completed "
                    f"(`syncd backfill --org {name}`; a failed one says why)."
                )
            by_org[name] = [
                {**a.to_dict(), "customer_name": names.get((org_id, a.customer_id))}
                for a in result.actions
            ]
    actions = [a for acts in by_org.values() for a in acts]

    def render(console: Console) -> None:
        for name, acts in by_org.items():
            if acts:
                console.print(fit_table(console.width, PLAN_COLUMNS, _plan_rows(acts), title=name))
        console.print(f"{len(actions)} action(s) planned", markup=False)
        for note in notes:
            say(console, note)

    emit(actions, as_json, render)


def simulate(
    ctx: typer.Context,
    start: str = typer.Option(..., "--from", help="First day of the replay, YYYY-MM-DD."),
    end: str = typer.Option(..., "--to", help="Last day of the replay, YYYY-MM-DD."),
    policy: list[str] = typer.Option(
        [], "--policy", help="Replay with this policy (repeat to compare several side by side)."
    ),
    org: str | None = typer.Option(None, "--org", help="Only this org."),
    within: int = typer.Option(
        14, "--paid-within", min=1, help="Days for 'fees on invoices then paid within N days'."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Replay policies day by day over the stored invoices and their payments (read-only).

    Every policy starts from the dunning state as it stood on --from (rebuilt from the
    dated records of syncd's own actions; empty before go-live; an org not live by --from
    is replayed as if it went live that day) and sees the same payments,
    replayed as they happened: how customers would have responded to a different policy is
    not modelled. Where syncd has acted before, the measured share of invoices paid within
    7/14/30 days after each step is added, with its sample size."""
    state = state_of(ctx)
    first, last = parse_date(start, "--from"), parse_date(end, "--to")
    assert first is not None and last is not None
    if last < first:
        raise typer.BadParameter("--to is before --from", param_hint="--to")
    config = state.config()
    for name in policy:
        if name not in config.policies:
            fail(f"no policy named {name!r} (known: {', '.join(sorted(config.policies))})")
    chosen: list[str | None] = list(dict.fromkeys(policy)) or [None]
    out: dict[str, object] = {}
    with state.store() as store:
        for name in orgs_of(state, org):
            org_id = org_id_for(store, config, name, state.clock)
            with store.sessions() as session:
                result = backtest_org(session, config, name, org_id, first, last, chosen, within)
            measured = measured_steps(store, config, name, state.clock)
            out[name] = {**result.to_dict(), "measured": [m.to_dict() for m in measured]}
            if not as_json:
                print_backtest(result, measured)
    if as_json:
        typer.echo(json.dumps(out, indent=2))


@policy_app.command("explain")
def explain(
    ctx: typer.Context,
    name: str | None = typer.Argument(None, help="Policy name (default: the org's policy)."),
    org: str | None = typer.Option(None, "--org", help="Org whose policy or invoice to explain."),
    invoice: str | None = typer.Option(
        None, "--invoice", help="Explain this invoice's next step: its number or provider id."
    ),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Date for --invoice, YYYY-MM-DD (09:00 local)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Describe a policy in words, or why an invoice gets (or does not get) an action.

    With --invoice this is the detail view of `syncd plan`: every reason, whole.
    """
    state = state_of(ctx)
    config = state.config()
    if invoice is None:
        chosen = name or (
            config.settings.org(orgs_of(state, org)[0]).policy if config.settings.orgs else None
        )
        if chosen is None or chosen not in config.policies:
            fail(f"no policy named {chosen!r} (known: {', '.join(sorted(config.policies))})")
        text = explain_policy(chosen, config.policies[chosen])
        emit({"policy": chosen, "text": text}, as_json, lambda c: typer.echo(text))
        return
    org_name = orgs_of(state, org)[0]
    when = as_of_datetime(config, org_name, parse_date(as_of, "--as-of"), state.clock.now())
    with state.store() as store:
        org_id = org_id_for(store, config, org_name, state.clock)
        with store.sessions() as session:
            try:
                provider_id = resolve_invoice(
                    session, org_id, invoice, org_name=org_name
                ).provider_id
            except InvoiceRefError as exc:
                fail(str(exc))
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
                if i.invoice.invoice_id == provider_id
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
    if not items:  # pragma: no cover - resolve_invoice found it in the same store
        fail(f"invoice {invoice!r} has no dunning inputs in org {org_name!r}")
    result = plan_cycle(
        org=ctx_org,
        policies=config.policies,
        settings=config.dunning[org_name],
        as_of=when,
        invoices=[items[0]],
    )
    decision = result.decisions[0]
    text = explain_decision(decision, result.actions)
    out = {
        "org": org_name,
        "invoice": {"provider_id": decision.invoice_id, "number": decision.number},
        "customer": decision.customer_id,
        "outcome": str(decision.outcome.value),
        "policy": decision.policy,
        "dunning_day": decision.dunning_day,
        "reasons": list(decision.reasons),
        "next_action_on": decision.next_action_on,
        "held_because": decision.review,
        "actions": [a.to_dict() for a in result.actions],
        "text": text,
    }
    emit(out, as_json, lambda c: typer.echo(text))


@policy_app.command("terms")
def terms(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Policy name."),
    locale: str = typer.Option("en_GB", "--locale", help="Number formats, e.g. de_DE."),
    as_json: bool = JSON_OPTION,
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
