"""``syncd run-once``, ``syncd run``, ``syncd actions`` and ``syncd retry``."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from syncd.daemon.runner import OrgRun, run_once
from syncd.store.audit import record
from syncd.store.models import Org as OrgRow
from syncd.store.models import OutboxAction, OutboxStatus

from .context import state_of, stdout_is_terminal


def _summary(runs: list[OrgRun]) -> Table:
    table = Table(
        "org",
        "sync",
        "planned",
        "queued",
        "done",
        "skipped",
        "failed",
        "retrying",
        "error",
        title="run-once",
    )
    for r in runs:
        s = r.sync.summary() if r.sync else None
        e = r.execution
        table.add_row(
            r.org,
            f"{r.sync.mode}: +{s['inserted']} ~{s['updated']}" if r.sync and s else "",
            str(r.cycle.planned) if r.cycle else "",
            str(r.cycle.queued) if r.cycle else "",
            *(str(getattr(e, k)) if e else "" for k in ("done", "skipped", "failed", "retrying")),
            r.error or "; ".join(e.errors[:3]) if e else (r.error or ""),
        )
    return table


def run_once_cmd(
    ctx: typer.Context,
    org: str | None = typer.Option(None, "--org", help="Only this org."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Sync and plan; send nothing."),
) -> None:
    """One full cycle (sync, plan, execute) and exit; non-zero if anything failed."""
    state = state_of(ctx)
    config = state.config()
    if org is not None and org not in {o.name for o in config.settings.orgs}:
        typer.echo(f"syncd: no org named {org!r} in {config.path}", err=True)
        raise typer.Exit(2)
    with state.store() as store:
        runs = run_once(store, config, state.clock, org=org, dry_run=dry_run)
    Console(stderr=not stdout_is_terminal()).print(_summary(runs))
    if any(r.failed for r in runs):
        raise typer.Exit(1)


def run(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help="Sync and plan; send nothing."),
) -> None:
    """Run as a service: sync, dunning cycles and the executor on a schedule."""
    from syncd.daemon.service import Service

    state = state_of(ctx)
    config = state.config()
    with state.store() as store:
        Service(store, config, state.clock, dry_run=dry_run).run()


def actions(
    ctx: typer.Context,
    org: str | None = typer.Option(None, "--org"),
    status: str | None = typer.Option(
        None, "--status", help="pending, in_flight, done, failed, skipped"
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List the action outbox."""
    state = state_of(ctx)
    if status is not None and status not in {s.value for s in OutboxStatus}:
        raise typer.BadParameter(f"unknown status {status!r}", param_hint="--status")
    with state.store() as store, store.sessions() as session:
        stmt = select(OutboxAction, OrgRow.name).join(OrgRow, OrgRow.id == OutboxAction.org_id)
        if org:
            stmt = stmt.where(OrgRow.name == org)
        if status:
            stmt = stmt.where(OutboxAction.status == status)
        rows = session.execute(stmt.order_by(OutboxAction.id)).all()
        data = [
            {
                "id": a.id,
                "org": name,
                "key": a.idempotency_key,
                "kind": a.kind,
                "invoice": a.invoice_provider_id,
                "customer": a.customer_provider_id,
                "status": a.status,
                "attempts": a.attempts,
                "scheduled_for": a.scheduled_for.isoformat(),
                "next_attempt_at": a.next_attempt_at.isoformat() if a.next_attempt_at else None,
                "last_error": a.last_error,
                "remote_id": a.remote_id,
                "message_id": a.message_id,
            }
            for a, name in rows
        ]
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    table = Table("id", "org", "kind", "invoice", "status", "tries", "scheduled", "error")
    for d in data:
        table.add_row(
            str(d["id"]),
            str(d["org"]),
            str(d["kind"]),
            str(d["invoice"] or d["customer"]),
            str(d["status"]),
            str(d["attempts"]),
            str(d["scheduled_for"])[:16],
            str(d["last_error"] or ""),
        )
    Console().print(table)


def retry(
    ctx: typer.Context,
    action_id: int = typer.Argument(..., help="Outbox id (see `syncd actions`)."),
) -> None:
    """Put a failed action back in the queue."""
    state = state_of(ctx)
    now = state.clock.now()
    with state.store() as store, store.sessions.begin() as session:
        row = session.get(OutboxAction, action_id)
        if row is None or row.status != OutboxStatus.FAILED.value:
            typer.echo(f"syncd: action {action_id} is not a failed action", err=True)
            raise typer.Exit(2)
        row.status, row.next_attempt_at, row.updated_at = OutboxStatus.PENDING.value, None, now
        record(
            session,
            at=now,
            event="action.requeued",
            org_id=row.org_id,
            subject_type="action",
            subject_id=row.idempotency_key,
            actor="cli",
        )
    typer.echo(f"action {action_id} re-queued")
