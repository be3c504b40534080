"""``syncd demo``: both sandboxes, a local mail catcher and two simulated months of the real
daemon cycle, then a summary of what was sent, booked and paid. Nothing leaves the machine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from syncd import logs
from syncd.config.loader import LoadedConfig
from syncd.daemon.runner import OrgRun
from syncd.demo.run import Options, Overview, Screens, run_demo
from syncd.demo.sandboxes import DemoSandboxError
from syncd.demo.simulation import APPROVER, DayHook
from syncd.demo.summary import Summary
from syncd.demo.workspace import Workspace, WorkspaceError
from syncd.sync import ProgressFn

from .context import state_of
from .output import JSON_OPTION, Col, console, dumps, fail, fit_table, say

#: The backfill runs at 06:00 UTC of today: before either company's morning cycle.
START_HOUR = 6


class RichScreens(Screens):
    def __init__(self, out: Console, progress: Progress, days: int) -> None:
        self.out, self.progress, self.days = out, progress, days
        self.tasks: dict[str, TaskID] = {}
        self.sent = 0

    def backfill_progress(self, org: str) -> ProgressFn:
        def update(stream: str, n: int, total: int) -> None:
            label = f"backfill {org} {stream}"
            if label not in self.tasks:
                self.tasks[label] = self.progress.add_task(label, total=total or None)
            self.progress.update(self.tasks[label], advance=n, total=total or None)

        return update

    def overview(self, rows: list[Overview], config: LoadedConfig) -> None:
        cols = [Col("org", "wrap", 18), Col("provider"), Col("invoices"), Col("open")]
        cols += [Col("overdue"), Col("currency")]
        table = fit_table(
            self.out.width,
            cols,
            [
                [r.org, r.provider, str(r.invoices), str(r.open), str(r.overdue), r.currencies]
                for r in rows
            ],
            title="the two demo companies after the backfill",
        )
        self.progress.console.print(table)
        self.progress.console.print(
            f"Review is on (every action waits in `syncd review`); the demo approves each "
            f'day\'s queue itself, recorded as "{APPROVER}".'
        )

    def day_hook(self) -> DayHook:
        task = self.progress.add_task(f"{self.days} simulated days", total=self.days)

        def on_day(_day: int, runs: list[OrgRun]) -> None:
            self.sent += sum(r.execution.done for r in runs if r.execution)
            self.progress.update(
                task, advance=1, description=f"simulated days ({self.sent} actions done)"
            )

        return on_day


@contextmanager
def _progress(enabled: bool) -> Iterator[Progress]:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(bar_width=None),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        disable=not enabled,
    ) as progress:
        yield progress


def _render_summary(out: Console, s: Summary, workspace: Workspace) -> None:
    rows = [
        [org, cur or "-", str(t.emails), str(t.notes), str(t.fees), f"{t.fee_amount} {cur}"]
        for (org, cur), t in sorted(s.totals.items())
    ]
    cols = [Col("org", "wrap", 18), Col("currency"), Col("emails"), Col("notes")]
    cols += [Col("fees"), Col("fees charged")]
    out.print(fit_table(out.width, cols, rows, title=f"done in {s.days} simulated days"))
    statuses = ", ".join(f"{n} {status}" for status, n in s.statuses.items())
    say(out, f"outbox: {statuses}; {s.approved} approved through the review queue")
    paid = s.paid_after()
    if paid:
        prow = [[step, str(n)] for step, n in paid.items()]
        out.print(
            fit_table(out.width, [Col("paid after step"), Col("invoices")], prow, title="paid")
        )
        say(out, f"{len(s.paid)} invoices were paid by their customers during the demo.")
        say(
            out,
            f"Actions executed for an invoice after it was paid: {s.after_payment} "
            "(syncd re-reads each invoice before it acts; dunning stops once it is paid).",
        )
    for reason, n in sorted(s.failures.items(), key=lambda kv: -kv[1])[:3]:
        say(out, f"failed {n}x: {reason} (see `syncd actions`; fix, then `syncd retry ID`)")
    for reason, n in sorted(s.held.items(), key=lambda kv: -kv[1])[:3]:
        say(out, f"held for review {n}x: {reason} (see `syncd review`)")
    for error in s.errors[:5]:
        say(out, f"note: {error}")
    config = workspace.config
    out.print("\nWhere to look next:")
    say(out, f"  mail sent:       {workspace.mail}/ (open any .eml in a mail program)")
    say(out, f"  the store:       {workspace.store} (SQLite)")
    say(out, f"  the outbox:      syncd --config {config} actions")
    say(out, f"  review queue:    syncd --config {config} review")
    say(out, f"  next cycle:      syncd --config {config} plan")
    say(out, "  (the sandboxes stopped with the demo: commands that read the store work)")


def _quiet_logs(ctx: typer.Context) -> None:
    """Two months of cycles log thousands of lines that would bury the progress bars: unless
    ``--log-level`` was given, the demo shows warnings and errors only."""
    root = ctx.parent
    source = root.get_parameter_source("log_level") if root is not None else None
    if root is None or source is None or source.name != "DEFAULT":
        return
    fmt = root.params.get("log_format")
    logs.configure(fmt=fmt.value if fmt is not None else "auto", level="WARNING")


def demo(
    ctx: typer.Context,
    directory: Path = typer.Option(Path("syncd-demo"), "--dir", help="Where to write the demo."),
    days: int = typer.Option(60, "--days", min=1, max=366, help="Simulated days to run."),
    invoices: int = typer.Option(120, "--invoices", min=10, help="Invoices per company."),
    seed: int = typer.Option(1, "--seed", help="Seed of the sandbox companies and payers."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Two sandbox companies, a local mail catcher and two simulated months of syncd."""
    state = state_of(ctx)
    _quiet_logs(ctx)
    now = state.clock.now().astimezone(UTC)
    start = now.replace(hour=START_HOUR, minute=0, second=0, microsecond=0)
    out = console()
    workspace = Workspace(directory)
    with _progress(not as_json) as progress:
        screens: Screens = Screens() if as_json else RichScreens(out, progress, days)
        if not as_json:
            progress.console.print(
                f"syncd demo: a QuickBooks and a Xero sandbox company ({invoices} invoices "
                f"each), {days} days from {start.date()}; mail is caught in {workspace.mail}/"
            )
        try:
            summary = run_demo(workspace, Options(days, invoices, seed, start), screens)
        except WorkspaceError as exc:
            fail(str(exc))
        except DemoSandboxError as exc:
            fail(str(exc), code=1)
    if as_json:
        typer.echo(dumps(summary.to_dict()))
    else:
        _render_summary(out, summary, workspace)
