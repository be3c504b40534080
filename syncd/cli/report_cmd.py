"""``syncd report``: aging, DSO, effectiveness and the HTML report (read-only)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import typer

from syncd.reports import aging as aging_mod
from syncd.reports import dso as dso_mod
from syncd.reports.dataset import OrgData, load_orgs
from syncd.reports.effectiveness import WINDOWS, fee_stats, reaches, step_stats
from syncd.reports.html import build_html
from syncd.reports.output import Format, render

from .context import state_of
from .dunning_cmd import orgs_of as _orgs
from .experiment_cmd import experiment
from .output import parse_date as _date

app = typer.Typer(
    help="Reports on receivables and on what syncd's actions achieved.", no_args_is_help=True
)

JSON_HELP = "Print JSON (amounts as decimal strings)."
CSV_HELP = "Print CSV."


def _fmt(as_json: bool, as_csv: bool) -> Format:
    if as_json and as_csv:
        raise typer.BadParameter("give --json or --csv, not both", param_hint="--csv")
    return "json" if as_json else "csv" if as_csv else "table"


def _load(
    ctx: typer.Context, org: str | None, period: tuple[date, date] | None = None
) -> list[OrgData]:
    state = state_of(ctx)
    config = state.config()
    names = _orgs(state, org)
    with state.store() as store:
        return load_orgs(store, config, names, state.clock, period)


def _period(start: str, end: str) -> tuple[date, date]:
    first, last = _date(start, "--from"), _date(end, "--to")
    assert first is not None and last is not None
    if last < first:
        raise typer.BadParameter("--to is before --from", param_hint="--to")
    return first, last


def _out(text: str | None) -> None:
    if text is not None:
        typer.echo(text, nl=not text.endswith("\n"))


@app.command("aging")
def aging(
    ctx: typer.Context,
    org: str | None = typer.Option(None, "--org", help="Only this org."),
    as_of: str | None = typer.Option(
        None,
        "--as-of",
        help="Day to age at (default today); a past day is rebuilt from the "
        "payment history, not from today's balances.",
    ),
    by: str = typer.Option("customer", "--by", help="customer or currency."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    as_csv: bool = typer.Option(False, "--csv", help=CSV_HELP),
) -> None:
    """Aged receivables: current, 1-30, 31-60, 61-90 and 90+ days past due, per currency."""
    if by not in ("customer", "currency"):
        raise typer.BadParameter("expected customer or currency", param_hint="--by")
    fmt = _fmt(as_json, as_csv)
    day = _date(as_of, "--as-of")
    rows: list[aging_mod.AgingRow] = []
    orgs = _load(ctx, org)
    today = orgs[0].today if orgs else None
    for data in orgs:
        rows.extend(
            aging_mod.aging(
                data.ledger, day or data.today, "customer" if by == "customer" else "currency"
            )
        )
    cols = ["org", "customer_name", "currency", *aging_mod.BUCKETS, "total"]
    if by == "currency":
        cols.remove("customer_name")
    if fmt == "table" and len({r.org for r in rows}) <= 1:
        cols.remove("org")  # 80 columns: the org only matters when there are several
    shown = [r.to_dict() for r in rows]
    if fmt == "table":
        shown += (
            [{**t.to_dict(), "customer_name": "TOTAL"} for t in aging_mod.totals(rows)]
            if by == "customer"
            else []
        )
    headers = {
        "customer_name": "customer",
        "days_1_30": "1-30",
        "days_31_60": "31-60",
        "days_61_90": "61-90",
        "days_90_plus": "90+",
    }
    _out(render(shown, cols, fmt, title=f"Aged receivables at {day or today}", headers=headers))


@app.command("dso")
def dso(
    ctx: typer.Context,
    start: str = typer.Option(..., "--from", help="First day."),
    end: str = typer.Option(..., "--to", help="Last day."),
    every: str = typer.Option("month", "--every", help="week or month."),
    org: str | None = typer.Option(None, "--org", help="Only this org."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    as_csv: bool = typer.Option(False, "--csv", help=CSV_HELP),
) -> None:
    """Days sales outstanding per period and currency.

    DSO = receivables at period end / credit sales invoiced in the period x days in the
    period (receivables rebuilt from the payment history; no sales: no DSO)."""
    if every not in ("week", "month"):
        raise typer.BadParameter("expected week or month", param_hint="--every")
    fmt = _fmt(as_json, as_csv)
    first, last = _period(start, end)
    out: list[dict[str, object]] = []
    for data in _load(ctx, org):
        for row in dso_mod.dso(data.ledger, first, last, "week" if every == "week" else "month"):
            out.append({"org": data.name, **row.to_dict()})
    cols = ["org", "from", "to", "currency", "receivables", "sales", "dso"]
    _out(render(out, cols, fmt, title=dso_mod.FORMULA))


@app.command("effectiveness")
def effectiveness(
    ctx: typer.Context,
    start: str = typer.Option(..., "--from", help="First day a step was reached."),
    end: str = typer.Option(..., "--to", help="Last day a step was reached."),
    org: str | None = typer.Option(None, "--org", help="Only this org."),
    policy: str | None = typer.Option(None, "--policy", help="Only this policy's steps."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    as_csv: bool = typer.Option(False, "--csv", help=CSV_HELP),
) -> None:
    """After each step syncd carried out: paid within 7/14/30 days, median days, money in.

    Shares count only invoices watched that long after the step (the sample size is shown).
    Money received is credited to the last step reached before it. Fees: charged, collected
    (invoice since paid in full), waived (skipped in review). Payment plans, settlements and
    hand-offs where the store records them."""
    fmt = _fmt(as_json, as_csv)
    first, last = _period(start, end)
    steps: list[dict[str, object]] = []
    doc: dict[str, object] = {"from": first.isoformat(), "to": last.isoformat(), "orgs": {}}
    for data in _load(ctx, org, (first, last)):
        stats = step_stats(reaches(data.actions), data.by_id, first, last, data.today)
        rows = [s.to_dict() for s in stats if policy is None or s.policy == policy]
        steps.extend(rows)
        acts = [a for a in data.actions if policy is None or a.policy == policy]
        fees = fee_stats(acts, data.by_id, first, last, data.today)
        doc["orgs"][data.name] = {  # type: ignore[index]
            "steps": rows,
            "fees": fees.to_dict(),
            "recovery": data.recovery.to_dict(),
            "observed_until": data.today.isoformat(),
        }
    if fmt == "json":
        _out(render(steps, [], fmt, document=doc))
        return
    if fmt == "csv":
        cols = ["org", "policy", "step", "reached"]
        for w in WINDOWS:
            cols += [f"paid_{w}d", f"paid_{w}d_count", f"paid_{w}d_n"]
        _out(render(steps, [*cols, "median_days_to_payment", "collected"], fmt))
        return
    several = len(doc["orgs"]) > 1 or len({r["policy"] for r in steps}) > 1  # type: ignore[arg-type]
    shown = [_pct(r, several) for r in steps]
    headers = {"median_days_to_payment": "median d", "paid_7d": "7d", "paid_14d": "14d"}
    cols = ["step", "reached", *[f"paid_{w}d" for w in WINDOWS], "median_days_to_payment"]
    _out(
        render(
            shown,
            [*cols, "collected"],
            fmt,
            title=f"Paid in full within N days after each step ({first} to {last})"
            + ("" if several or not steps else f", policy {steps[0]['policy']}"),
            headers={**headers, "paid_30d": "30d"},
        )
    )
    if fmt == "table":
        _print_summary(doc["orgs"])  # type: ignore[arg-type]


def _print_summary(orgs: dict[str, dict[str, Any]]) -> None:
    """Fees and the recovery ladder under the steps table, one line each."""
    for name, body in orgs.items():
        f = body["fees"]
        typer.echo(
            f"{name}: fees charged {f['charged_count']} {_money(f['charged'])}; "
            f"collected {f['collected_count']} {_money(f['collected'])}; "
            f"waived {f['waived_count']} {_money(f['waived'])}"
        )
        r = body["recovery"]
        shown = []
        if r["plans_kept"] is not None:
            shown.append(f"payment plans kept {r['plans_kept']}, broken {r['plans_broken']}")
        if r["settlements"] is not None:
            shown.append(f"settlements {r['settlements']}, written off {_money(r['written_off'])}")
        if r["handoffs"] is not None:
            shown.append(f"hand-offs {r['handoffs']}")
        if shown:
            typer.echo(f"{name}: " + "; ".join(shown))
        for note in r["notes"]:
            typer.echo(f"{name}: {note}")


def _money(d: dict[str, str]) -> str:
    return "(" + ", ".join(f"{v} {k}" for k, v in d.items()) + ")" if d else "(none)"


def _pct(row: dict[str, object], with_org: bool) -> dict[str, object]:
    out = dict(row)
    if with_org:  # several orgs or policies: say whose step it is
        out["step"] = f"{row['org']}/{row['policy']}/{row['step']}"
    for w in WINDOWS:
        share, n = row[f"paid_{w}d"], row[f"paid_{w}d_n"]
        out[f"paid_{w}d"] = "n/a" if share is None else f"{float(share):.0%} of {n}"  # type: ignore[arg-type]
    return out


@app.command("html")
def html(
    ctx: typer.Context,
    out: Path = typer.Option(..., "--out", help="HTML file to write.", dir_okay=False),
    start: str | None = typer.Option(None, "--from", help="First day (default: a year ago)."),
    end: str | None = typer.Option(None, "--to", help="Last day (default: today)."),
    org: str | None = typer.Option(None, "--org", help="Only this org."),
) -> None:
    """One self-contained HTML file with charts, for a browser (opens offline).

    Aging over time, the DSO trend, paid-after-step curves, the largest overdue customers
    and A/B policy experiments (when any are recorded)."""
    orgs = _load(ctx, org)
    today = max(d.today for d in orgs) if orgs else state_of(ctx).clock.now().date()
    last = _date(end, "--to") or today
    first = _date(start, "--from") or last.replace(year=last.year - 1)
    if last < first:
        raise typer.BadParameter("--to is before --from", param_hint="--to")
    text = build_html(orgs, first, last)
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        typer.echo(f"syncd: cannot write {out}: {exc.strerror}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"wrote {out} ({len(text) // 1024} KiB)")


app.command("experiment")(experiment)
