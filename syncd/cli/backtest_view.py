"""``syncd simulate``'s side-by-side table and the measured rates after each step."""

from __future__ import annotations

from datetime import date

from rich.console import Console
from rich.table import Table

from policies.compare import CAVEAT
from syncd.clock import Clock
from syncd.config.loader import LoadedConfig
from syncd.dunning.planning import Backtest
from syncd.reports.dataset import load_orgs
from syncd.reports.effectiveness import WINDOWS, StepStats, reaches, step_stats
from syncd.store import Store

#: Below this many invoices watched, a measured rate is shown but marked as thin.
FEW = 10


def _go_live_line(result: Backtest) -> str:
    if not result.go_live_assumed:
        return f"Go-live {result.go_live}: no fee period or interest before it is charged."
    actual = f"this org's go-live: {result.go_live}" if result.go_live else "no go-live yet"
    return (
        f"Replayed as if syncd had gone live on {result.start} ({actual}): invoices already "
        "overdue that day enter at the onboarding step, and no fee period or interest "
        "before it is charged."
    )


def measured_steps(store: Store, config: LoadedConfig, org: str, clock: Clock) -> list[StepStats]:
    """Paid-within rates after each step syncd actually took, over the whole history."""
    data = load_orgs(store, config, [org], clock)[0]
    return step_stats(reaches(data.actions), data.by_id, date.min, date.max, data.today)


def print_backtest(result: Backtest, measured: list[StepStats]) -> None:
    console = Console()
    names = list(result.comparisons)
    table = Table("measure", *names, title=f"{result.org}: {result.start} to {result.end}")
    rows: list[tuple[str, list[str]]] = []
    comps = [result.comparisons[n] for n in names]
    rows.append(("emails", [str(c.emails) for c in comps]))
    rows.append(("notes", [str(c.notes) for c in comps]))
    rows.append(("escalations", [str(c.escalations) for c in comps]))
    rows.append(("fees/interest charged", [str(c.charges) for c in comps]))
    rows.append(("peak actions/day", [str(c.peak_actions_per_day) for c in comps]))
    rows.append(("held for review", [str(c.held) for c in comps]))
    currencies = sorted({cur for c in comps for cur in c.per_currency})
    within = comps[0].paid_within if comps else 0
    for cur in currencies:
        figs = [c.per_currency.get(cur) for c in comps]
        rows.append((f"{cur} actions", [str(f.actions if f else 0) for f in figs]))
        rows.append((f"{cur} charged", [str(f.charged if f else 0) for f in figs]))
        rows.append(
            (
                f"{cur} charged, paid <={within}d",
                [str(f.charged_then_paid if f else 0) for f in figs],
            )
        )
    for label, values in rows:
        table.add_row(label, *values)
    console.print(table)
    s = result.start_state
    console.print(
        f"Start state on {result.start}: {s['invoices_with_steps']} invoice(s) with steps, "
        f"{s['fee_periods_charged']} fee period(s) charged "
        f"({s['fee_periods_waived']} settled at zero), {s['escalated']} escalated."
    )
    console.print(_go_live_line(result))
    if any(c.held for c in comps):
        console.print(
            "Held for review: actions the engine would hold for a person whatever the org's "
            "review mode (a claim on a customer not known to be a business, a debt long "
            "overdue at go-live); they are counted above as if approved."
        )
    console.print(CAVEAT)
    if not measured:
        console.print("No measured rates: syncd has not carried out any step in this store yet.")
        return
    m = Table("policy", "step", *[f"paid {w}d" for w in WINDOWS], title="Measured after each step")
    for st in measured:
        cells = []
        for w in WINDOWS:
            share, (_, n) = st.share(w), st.within.get(w, (0, 0))
            mark = " (few)" if 0 < n < FEW else ""
            cells.append("n/a (n=0)" if share is None else f"{share:.0%} (n={n}){mark}")
        m.add_row(st.policy, st.step, *cells)
    console.print(m)
