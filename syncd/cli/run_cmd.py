"""``syncd run-once``, ``syncd run`` and ``syncd retry`` (``actions`` is in actions_cmd)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from syncd.config import ConfigError
from syncd.config.checks import check_runtime
from syncd.config.loader import LoadedConfig
from syncd.daemon.runner import OrgRun, run_once, take_lease
from syncd.store import Store
from syncd.store.audit import record
from syncd.store.leases import OrgBusy
from syncd.store.models import Org as OrgRow
from syncd.store.models import OutboxAction, OutboxStatus

from .context import fail_config, state_of
from .dunning_cmd import deferral_note
from .output import JSON_OPTION, Col, emit, fit_table, known_orgs, say

SUMMARY = [
    Col("org", "wrap", 16),
    Col("sync", "wrap", 12),
    Col("planned"),
    Col("queued"),
    Col("done"),
    Col("skipped"),
    Col("failed"),
    Col("retry"),
    Col("held"),
    Col("error", "trim"),
]


def _summary(runs: list[OrgRun], width: int) -> Table:
    rows = []
    for r in runs:
        s = r.sync.summary() if r.sync else None
        e = r.execution
        rows.append(
            [
                r.org,
                f"{r.sync.mode}: +{s['inserted']} ~{s['updated']}" if r.sync and s else "",
                str(r.cycle.planned) if r.cycle else "",
                str(r.cycle.queued) if r.cycle else "",
                *(
                    str(getattr(e, k)) if e else ""
                    for k in ("done", "skipped", "failed", "retrying", "held")
                ),
                r.error or "; ".join(e.errors[:3]) if e else (r.error or ""),
            ]
        )
    return fit_table(width, SUMMARY, rows, title="run-once")


def _notes(run: OrgRun) -> list[str]:
    """What the counts do not say. ``queued`` includes the actions that wait for a person
    (so a run that sent nothing is not taken for one that failed); ``held`` emails were held
    at send time, neither failed nor retried, and only a person correcting the address at the
    provider moves them on."""
    notes = []
    deferred = deferral_note(run.org, run.cycle.deferral) if run.cycle else None
    if deferred:
        notes.append(deferred)
    waiting = run.cycle.held if run.cycle else 0
    if waiting:
        actions, wait = ("action", "waits") if waiting == 1 else ("actions", "wait")
        notes.append(
            f"{run.org}: {waiting} of the {actions} queued by this run {wait} for review "
            "before anything is sent; see `syncd review`."
        )
    held = run.execution.held if run.execution else 0
    if held:
        emails, wait = ("email was", "It waits") if held == 1 else ("emails were", "They wait")
        notes.append(
            f"{run.org}: {held} {emails} not sent and held: the customer's email address was "
            f"removed or became unusable after the email was queued or approved. {wait} in "
            "review until the address is corrected at the provider (the next sync releases "
            "it); see `syncd review`."
        )
    return notes


def _print_summary(console: Console, runs: list[OrgRun]) -> None:
    console.print(_summary(runs, console.width))
    for run in runs:
        for note in _notes(run):
            say(console, note)


WAIT_HELP = "If another process is working on the org, wait up to this many seconds for it."

#: Exit status when an org was busy in another process (after ``--wait``).
EXIT_BUSY = 3


def _run_dict(r: OrgRun) -> dict[str, Any]:
    e = r.execution
    return {
        "org": r.org,
        "sync": None if r.sync is None else {"mode": r.sync.mode, **r.sync.summary()},
        "cycle": None if r.cycle is None else dataclasses.asdict(r.cycle),
        "execution": None if e is None else dataclasses.asdict(e),
        "error": r.error,
        "busy": None if r.busy is None else str(r.busy),
        "failed": r.failed,
    }


def run_once_cmd(
    ctx: typer.Context,
    org: str | None = typer.Option(None, "--org", help="Only this org."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Sync and plan; send nothing."),
    wait: float = typer.Option(0.0, "--wait", min=0, help=WAIT_HELP),
    as_json: bool = JSON_OPTION,
) -> None:
    """One full cycle (sync, plan, execute) and exit; non-zero if anything failed.

    Exit status: 0 all done, 1 something failed, 2 bad config or store, 3 an org was busy
    in another process (the message names it).
    """
    state = state_of(ctx)
    config = state.config()
    known_orgs([o.name for o in config.settings.orgs], org, config.path)
    if not dry_run:
        check_sending(config)
    with state.store() as store:
        runs = run_once(store, config, state.clock, org=org, dry_run=dry_run, wait=wait)
    emit(
        [_run_dict(r) for r in runs],
        as_json,
        lambda console: _print_summary(console, runs),
    )
    for r in runs:
        if r.busy is not None:
            typer.echo(f"syncd: {r.busy} (nothing done; try --wait SECONDS)", err=True)
    if any(r.failed and r.busy is None for r in runs):
        raise typer.Exit(1)
    if any(r.busy is not None for r in runs):
        raise typer.Exit(EXIT_BUSY)


def check_sending(config: LoadedConfig) -> None:
    """What ``config check`` reports too, before anything is sent."""
    try:
        check_runtime(config)
    except ConfigError as exc:
        fail_config(exc)


def run(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help="Sync and plan; send nothing."),
) -> None:
    """Run as a service: sync, dunning cycles and the executor on a schedule."""
    from syncd.daemon.service import Service

    state = state_of(ctx)
    config = state.config()
    if not dry_run:
        check_sending(config)
    with state.store() as store:
        Service(store, config, state.clock, dry_run=dry_run).run()


def retry(
    ctx: typer.Context,
    action_id: int = typer.Argument(..., help="Outbox id (see `syncd actions`)."),
    wait: float = typer.Option(0.0, "--wait", min=0, help=WAIT_HELP),
) -> None:
    """Put a failed action back in the queue (under the org's lease)."""
    state = state_of(ctx)
    config = state.config()
    with state.store() as store:
        with store.sessions() as session:
            found = session.execute(
                select(OutboxAction.org_id, OrgRow.name)
                .join(OrgRow, OrgRow.id == OutboxAction.org_id)
                .where(OutboxAction.id == action_id)
            ).first()
        if found is None:
            typer.echo(f"syncd: action {action_id} is not a failed action", err=True)
            raise typer.Exit(2)
        try:
            lease = take_lease(store, config, found.name, found.org_id, wait=wait)
        except OrgBusy as exc:
            typer.echo(f"syncd: {exc} (nothing done; try --wait SECONDS)", err=True)
            raise typer.Exit(EXIT_BUSY) from None
        with lease:
            _requeue(store, action_id, state.clock.now())
    typer.echo(f"action {action_id} re-queued")


def _requeue(store: Store, action_id: int, now: datetime) -> None:
    with store.sessions.begin() as session:
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
