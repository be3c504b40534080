"""``syncd customer show``: one timeline of everything about a customer; ``syncd customer
note``: add a note of your own to it."""

from __future__ import annotations

import getpass

import typer
from rich.console import Console
from rich.table import Table

from syncd.connections import org_id_for
from syncd.letters.customers import CustomerNotFound, resolve_customer
from syncd.letters.timeline import customer_timeline
from syncd.store.audit import record

from .context import state_of
from .ladder_common import fail, org_name, print_json

app = typer.Typer(help="A customer's record: everything syncd knows and did, in time order.")


@app.command("show")
def show(
    ctx: typer.Context,
    customer: str = typer.Argument(..., help="The customer's provider id or (part of) its name."),
    org: str | None = typer.Option(None, "--org", help="The org (needed if several)."),
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
) -> None:
    """Invoices, payments, every action and why, promises, plans, settlements, disputes,
    notes, letters and hand-offs."""
    state = state_of(ctx)
    name = org_name(state, org)
    with state.store() as store:
        org_id = org_id_for(store, state.config(), name, state.clock)
        with store.sessions() as session:
            try:
                found = resolve_customer(session, org_id, customer)
            except CustomerNotFound as exc:
                fail(str(exc))
            events = customer_timeline(session, org_id, found.provider_id)
            head = {
                "org": name,
                "customer": found.provider_id,
                "name": found.name,
                "email": found.email,
                "phone": found.phone,
                "address": list(found.address or []),
            }
    if as_json:
        print_json({**head, "events": [e.to_dict() for e in events]})
        return
    contact = ", ".join(x for x in (found.email, found.phone) if x)
    typer.echo(f"{head['name']} (customer {head['customer']}, org {name}) {contact}".rstrip())
    table = Table(show_lines=False)
    table.add_column("when", no_wrap=True)
    table.add_column("what", no_wrap=True)
    table.add_column("detail", overflow="fold")
    for e in events:
        detail = e.summary + (f" | why: {e.why}" if e.why else "")
        table.add_row(e.at.date().isoformat(), e.kind, detail)
    Console(width=80).print(table)
    typer.echo(f"{len(events)} event(s)")


@app.command("note")
def note(
    ctx: typer.Context,
    customer: str = typer.Argument(..., help="The customer's provider id or name."),
    text: str = typer.Argument(..., help="The note, e.g. 'called, promised to pay Friday'."),
    org: str | None = typer.Option(None, "--org", help="The org (needed if several)."),
    by: str | None = typer.Option(None, "--by", help="Who (default: your user name)."),
) -> None:
    """Add a note to the customer's record (syncd's own; nothing goes to the provider)."""
    if not text.strip():
        fail("the note is empty")
    state = state_of(ctx)
    name = org_name(state, org)
    with state.store() as store:
        org_id = org_id_for(store, state.config(), name, state.clock)
        with store.sessions.begin() as session:
            try:
                found = resolve_customer(session, org_id, customer)
            except CustomerNotFound as exc:
                fail(str(exc))
            record(
                session,
                at=state.clock.now(),
                event="customer.note",
                actor=by or getpass.getuser(),
                org_id=org_id,
                subject_type="customer",
                subject_id=found.provider_id,
                text=text.strip(),
            )
    typer.echo(f"note added to customer {found.provider_id}")
