"""``syncd letters``: the demand letters syncd made, those still to post, and marking one
posted."""

from __future__ import annotations

import getpass

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from syncd.connections import org_id_for
from syncd.letters.produce import letter_summary
from syncd.store.audit import record
from syncd.store.ladder import Letter
from syncd.store.models import Customer

from .context import state_of
from .ladder_common import fail, org_name, org_today, parse_day, print_json

app = typer.Typer(
    help="Demand letters: list them (--pending: still to post) and mark them posted.",
    invoke_without_command=True,
    no_args_is_help=False,
)


@app.callback()
def letters(
    ctx: typer.Context,
    org: str | None = typer.Option(None, "--org", help="The org (needed if several)."),
    pending: bool = typer.Option(
        False, "--pending", help="Only letters that must go by post and are not marked posted."
    ),
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
) -> None:
    if ctx.invoked_subcommand is not None:
        return
    state = state_of(ctx)
    name = org_name(state, org)
    with state.store() as store:
        org_id = org_id_for(store, state.config(), name, state.clock)
        with store.sessions() as session:
            stmt = select(Letter).where(Letter.org_id == org_id).order_by(Letter.id)
            if pending:
                stmt = stmt.where(Letter.by_post.is_(True), Letter.posted_on.is_(None))
            rows = [letter_summary(x) for x in session.scalars(stmt)]
            names = {
                pid: nm
                for pid, nm in session.execute(
                    select(Customer.provider_id, Customer.name).where(Customer.org_id == org_id)
                )
            }
    for row in rows:
        row["customer_name"] = names.get(row["customer"])
    if as_json:
        print_json(rows)
        return
    table = Table(title="letters to post" if pending else "letters")
    for col in ("id", "customer", "letter", "dated", "total", "posted"):
        table.add_column(col, overflow="fold")
    for r in rows:
        posted = r["posted_on"] or ("due" if r["by_post"] else "email only")
        table.add_row(
            str(r["id"]),
            str(r["customer_name"] or r["customer"]),
            r["template"],
            r["dated"],
            f"{r['total']} {r['currency']}",
            posted,
        )
    Console(width=80).print(table)
    typer.echo(f"{len(rows)} letter(s)" + (" to post" if pending else ""))


@app.command("mark-sent")
def mark_sent(
    ctx: typer.Context,
    letter_id: int = typer.Argument(..., help="The letter's id (see `syncd letters`)."),
    org: str | None = typer.Option(None, "--org", help="The org (needed if several)."),
    on: str | None = typer.Option(None, "--on", help="The day it was posted (default: today)."),
    by: str | None = typer.Option(None, "--by", help="Who posted it (default: your user name)."),
) -> None:
    """Record that a letter went in the post."""
    state = state_of(ctx)
    name = org_name(state, org)
    today = org_today(state, name)
    day = parse_day(on, "--on") or today
    if day > today:
        fail(f"--on {day.isoformat()} is in the future")
    actor = by or getpass.getuser()
    with state.store() as store:
        org_id = org_id_for(store, state.config(), name, state.clock)
        with store.sessions.begin() as session:
            letter = session.get(Letter, letter_id)
            if letter is None or letter.org_id != org_id:
                fail(f"no letter {letter_id} in org {name!r} (see `syncd letters`)")
            if not letter.by_post:
                fail(f"letter {letter_id} goes by email only; there is nothing to post")
            if letter.posted_on is not None:
                fail(f"letter {letter_id} was already marked posted on {letter.posted_on}")
            if day < letter.dated:
                fail(f"--on {day.isoformat()} is before the letter's date {letter.dated}")
            letter.posted_on, letter.posted_by = day, actor
            record(
                session,
                at=state.clock.now(),
                event="letter.posted",
                actor=actor,
                org_id=org_id,
                subject_type="customer",
                subject_id=letter.customer_provider_id,
                letter_id=letter.id,
                posted_on=day,
            )
    typer.echo(f"letter {letter_id} marked posted on {day.isoformat()}")
