"""``syncd preview``: exactly what the executor would send or write for one action."""

from __future__ import annotations

import html
from enum import StrEnum
from pathlib import Path

import typer
from sqlalchemy import select

from syncd.connections import org_id_for
from syncd.review.adhoc import planned_for, queued_for
from syncd.review.render import Rendered, render_action
from syncd.store.invoice_refs import InvoiceRefError, resolve_invoice
from syncd.store.models import Org, OutboxAction

from .context import CliState, state_of


class Format(StrEnum):
    TEXT = "text"
    HTML = "html"
    EML = "eml"


def _fail(message: str) -> typer.Exit:
    typer.echo(f"syncd: {message}", err=True)
    return typer.Exit(2)


def _text(row: OutboxAction, shown: Rendered) -> str:
    named = row.payload.get("invoices") or [row.payload.get("invoice") or {}]
    where = ", ".join(str(n) for i in named if (n := i.get("number") or i.get("provider_id")))
    step = row.payload.get("step")
    head = f"# action {row.id or '(planned now, not queued)'}: {row.kind}"
    # A plan's confirmation or a settlement's credit names no step, and maybe no invoice.
    head += (f" (step {step})" if step else "") + (f" on {where}" if where else "") + "\n"
    if shown.problem:
        head += f"# {shown.problem}\n"
    if shown.message is not None:
        m = shown.message
        lines = [f"{h}: {m[h]}" for h in ("From", "To", "Reply-To", "Subject") if m[h]]
        lines.append(f"Envelope: {', '.join(shown.envelope)}")
        return head + "\n".join(lines) + "\n\n" + shown.body("plain")
    if shown.note is not None:
        return head + f"note text:\n{shown.note}\n"
    if shown.fee is not None:
        fee = shown.fee
        return head + (
            f"fee line: {fee.description}\namount: {fee.amount} {fee.currency}\n"
            "(the connector appends its [syncd:KEY] tag to the description)\n"
        )
    return head + f"{shown.detail or ''}\n"


def _output(rows: list[tuple[OutboxAction, Rendered]], fmt: str) -> bytes:
    if fmt == "text":
        return "\n".join(_text(r, s) for r, s in rows).encode()
    emails = [(r, s) for r, s in rows if s.message is not None]
    if len(emails) != 1:
        others = "; ".join(s.problem or f"{r.kind}" for r, s in rows)
        raise _fail(f"--format {fmt} needs exactly one email to show (found: {others})")
    shown = emails[0][1]
    assert shown.message is not None
    if fmt == "eml":
        return shown.message.as_bytes()
    body = shown.body("html")
    return (body or f"<pre>{html.escape(shown.body('plain'))}</pre>").encode()


def _org_of(state: CliState, org: str | None) -> str:
    names = [o.name for o in state.config().settings.orgs]
    if org is not None:
        if org not in names:
            raise _fail(f"no org named {org!r} in {state.config().path}")
        return org
    if len(names) != 1:
        raise _fail("several orgs are configured: say which with --org")
    return names[0]


def preview(
    ctx: typer.Context,
    action_id: int | None = typer.Argument(None, help="An outbox id (see `syncd review`)."),
    invoice: str | None = typer.Option(
        None, "--invoice", help="An invoice: its number or its provider id."
    ),
    step: str | None = typer.Option(None, "--step", help="With --invoice: this step only."),
    org: str | None = typer.Option(None, "--org", help="The invoice's org."),
    fmt: Format = typer.Option(Format.TEXT, "--format", help="What to render."),
    out: Path | None = typer.Option(None, "--out", help="Write here instead of stdout."),
) -> None:
    """Render what the executor would do: the email (text, HTML or .eml), note or fee line."""
    if (action_id is None) == (invoice is None):
        raise _fail("give an action id or --invoice NUMBER (one of them)")
    if step is not None and invoice is None:
        raise _fail("--step goes with --invoice")
    state = state_of(ctx)
    config = state.config()
    with state.store() as store:
        with store.sessions() as session:
            if action_id is not None:
                found = session.execute(
                    select(OutboxAction, Org.name)
                    .join(Org, Org.id == OutboxAction.org_id)
                    .where(OutboxAction.id == action_id)
                ).first()
                if found is None:
                    raise _fail(f"no action {action_id} in the outbox")
                row, org_name = found
                if org_name not in {o.name for o in config.settings.orgs}:
                    raise _fail(f"action {action_id} belongs to org {org_name!r}, not configured")
                rows = [row]
            else:
                assert invoice is not None
                org_name = _org_of(state, org)
                org_id = org_id_for(store, config, org_name, state.clock)
                try:
                    inv = resolve_invoice(session, org_id, invoice, org_name=org_name)
                except InvoiceRefError as exc:
                    raise _fail(str(exc)) from None
                rows = queued_for(session, org_id, inv, step) or planned_for(
                    session, config, org_name, org_id, inv, step, state.clock.now()
                )
                if not rows:
                    which = f"step {step!r}" if step else "any step"
                    raise _fail(
                        f"nothing queued or due for invoice {invoice!r} at {which} "
                        "(already done, not in its policy, or the invoice is closed)"
                    )
            for r in rows:
                if r in session:
                    session.expunge(r)
        shown = [
            (r, render_action(store, config, org_name, r.org_id, r, state.clock)) for r in rows
        ]
    data = _output(shown, fmt.value)
    if out is None:
        typer.echo(data.decode(errors="replace"), nl=not data.endswith(b"\n"))
    else:
        out.write_bytes(data)
        typer.echo(f"written to {out}", err=True)
