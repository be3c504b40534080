"""``syncd backfill`` and ``syncd sync``: pull provider data into the store, org by org.

One org's failure is reported and the others still run; the exit status says whether any
failed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from connectors.base import ConnectorError
from syncd.connections import connect, org_id_for
from syncd.daemon.runner import take_lease
from syncd.logs import get_logger
from syncd.store.leases import OrgBusy
from syncd.sync import ProgressFn, Syncer, SyncReport

from .context import CliState, state_of
from .output import JSON_OPTION, Col, emit, fit_table, known_orgs

log = get_logger(__name__)


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str], ProgressFn]]:
    if not enabled:
        yield lambda _org: lambda _s, _n, _t: None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(bar_width=None),
        TextColumn("{task.completed} records"),
        TimeElapsedColumn(),
        console=Console(stderr=True),  # stdout carries the result (and --json)
        transient=False,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def for_org(org: str) -> ProgressFn:
            def update(stream: str, n: int, _total: int) -> None:
                label = f"{org} {stream}"
                if label not in tasks:
                    tasks[label] = progress.add_task(label, total=None)
                progress.advance(tasks[label], n)

            return update

        yield for_org


def _run(
    ctx: typer.Context, org: str | None, as_json: bool, job: Callable[[Syncer], SyncReport]
) -> None:
    state: CliState = state_of(ctx)
    config = state.config()
    selected = known_orgs([o.name for o in config.settings.orgs], org, config.path)
    reports: list[SyncReport] = []
    failures: dict[str, str] = {}
    with state.store() as store, _progress(sys.stderr.isatty()) as progress:
        for name in selected:
            connector = None
            lease = None
            try:
                org_id = org_id_for(store, config, name, state.clock)
                lease = take_lease(store, config, name, org_id)  # one worker per org
                connector = connect(store, config, name, state.clock)
                syncer = Syncer(
                    store, org_id, name, connector, state.clock, progress(name), company_info=True
                )
                reports.append(job(syncer))
            except (ConnectorError, OrgBusy) as exc:
                failures[name] = str(exc)
                log.error("org failed", org=name, error=str(exc))
            except Exception as exc:  # one org's bug must not stop the others
                failures[name] = f"{type(exc).__name__}: {exc}"
                log.exception("org failed", org=name)
            finally:
                if connector is not None:
                    connector.close()
                if lease is not None:
                    lease.release()
    result = [{"org": r.org, "mode": r.mode, **r.summary(), "error": None} for r in reports]
    result += [{"org": name, "mode": "FAILED", "error": error} for name, error in failures.items()]
    emit(result, as_json, lambda console: console.print(_table(reports, failures, console.width)))
    if failures:
        raise typer.Exit(1)


COLUMNS = [
    Col("org", "wrap", 16),
    Col("mode"),
    *(Col(k) for k in ("pages", "inserted", "updated", "unchanged", "deleted", "skipped")),
    Col("error", "trim"),
]


def _table(reports: list[SyncReport], failures: dict[str, str], width: int) -> Table:
    rows = []
    for report in reports:
        s = report.summary()
        counts = [str(s[k]) for k in ("pages", "inserted", "updated", "unchanged", "deleted")]
        rows.append([report.org, report.mode, *counts, str(s["skipped"]), ""])
    for name, error in failures.items():
        rows.append([name, "FAILED", "", "", "", "", "", "", error])
    return fit_table(width, COLUMNS, rows)


def backfill(
    ctx: typer.Context,
    org: str | None = typer.Option(None, "--org", help="Only this org."),
    restart: bool = typer.Option(False, "--restart", help="Start over instead of resuming."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Pull every customer, invoice and payment (resumes an interrupted backfill)."""
    _run(ctx, org, as_json, lambda syncer: syncer.backfill(restart=restart))


def sync(
    ctx: typer.Context,
    org: str | None = typer.Option(None, "--org", help="Only this org."),
    as_json: bool = JSON_OPTION,
) -> None:
    """One incremental pass: what changed since the last one, deletions and voids included."""
    _run(ctx, org, as_json, lambda syncer: syncer.sync())
