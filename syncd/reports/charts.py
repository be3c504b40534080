"""The HTML report's charts as plotly figures (one function per chart).

Amounts are never added across currencies: charts with money have one panel (or trace)
per currency.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .aging import BUCKETS, aging
from .curves import Curve
from .dataset import OrgData
from .dso import dso, periods
from .ledger import ZERO

LABELS = {
    "current": "current",
    "days_1_30": "1-30 days",
    "days_31_60": "31-60",
    "days_61_90": "61-90",
    "days_90_plus": "90+",
}
COLOURS = ("#4c9f70", "#f2c14e", "#f78154", "#d1495b", "#6d2e46")


def _currencies(orgs: Sequence[OrgData]) -> list[str]:
    return sorted({i.currency for o in orgs for i in o.ledger})


def month_ends(first: date, last: date) -> list[date]:
    return [end for _, end in periods(first, last, "month")]


def aging_over_time(orgs: Sequence[OrgData], first: date, last: date) -> go.Figure:
    currencies = _currencies(orgs) or ["-"]
    fig = make_subplots(rows=len(currencies), cols=1, subplot_titles=currencies)
    days = month_ends(first, last)
    for row, cur in enumerate(currencies, start=1):
        sums: dict[str, list[Decimal]] = {b: [ZERO] * len(days) for b in BUCKETS}
        for o in orgs:
            mine = [i for i in o.ledger if i.currency == cur]
            for n, day in enumerate(days):
                for r in aging(mine, day, "currency"):
                    for b in BUCKETS:
                        sums[b][n] += r.amounts[b]
        for b, colour in zip(BUCKETS, COLOURS, strict=True):
            fig.add_trace(
                go.Bar(
                    x=[d.isoformat() for d in days],
                    y=[float(v) for v in sums[b]],
                    name=LABELS[b],
                    marker_color=colour,
                    legendgroup=b,
                    showlegend=row == 1,
                ),
                row=row,
                col=1,
            )
    fig.update_layout(barmode="stack", title="Aged receivables at each month end")
    return fig


def dso_trend(orgs: Sequence[OrgData], first: date, last: date) -> go.Figure:
    fig = go.Figure()
    for o in orgs:
        series: dict[str, list[tuple[str, float | None]]] = defaultdict(list)
        for r in dso(o.ledger, first, last, "month"):
            series[r.currency].append((r.end.isoformat(), None if r.dso is None else float(r.dso)))
        for cur, points in sorted(series.items()):
            fig.add_trace(
                go.Scatter(
                    x=[p[0] for p in points],
                    y=[p[1] for p in points],
                    mode="lines+markers",
                    name=f"{o.name} {cur}",
                )
            )
    fig.update_layout(
        title="DSO per month (receivables at month end / sales in month x days)",
        yaxis_title="days",
    )
    return fig


def paid_after_step(curves: Sequence[Curve]) -> go.Figure:
    fig = go.Figure()
    for c in curves:
        fig.add_trace(
            go.Scatter(
                x=list(c.days),
                y=[s * 100 for s in c.share],
                mode="lines",
                name=f"{c.policy}: {c.step}",
                customdata=list(c.sample),
                hovertemplate="day %{x}: %{y:.0f}% paid (n=%{customdata})<extra></extra>",
            )
        )
    fig.update_layout(
        title="Share paid in full within N days after each step",
        xaxis_title="days after the step",
        yaxis_title="% paid",
        yaxis_range=[0, 100],
    )
    return fig


def largest_overdue(orgs: Sequence[OrgData], day: date, top: int = 10) -> go.Figure:
    by_cur: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for o in orgs:
        for r in aging(o.ledger, day, "customer"):
            if r.overdue > 0:
                by_cur[r.currency].append((f"{r.customer_name} ({o.name})", float(r.overdue)))
    currencies = sorted(by_cur) or ["-"]
    fig = make_subplots(rows=1, cols=len(currencies), subplot_titles=currencies)
    for col, cur in enumerate(currencies, start=1):
        rows = sorted(by_cur.get(cur, []), key=lambda x: x[1], reverse=True)[:top][::-1]
        fig.add_trace(
            go.Bar(
                x=[r[1] for r in rows],
                y=[r[0] for r in rows],
                orientation="h",
                name=cur,
                marker_color="#d1495b",
            ),
            row=1,
            col=col,
        )
    fig.update_layout(
        title=f"Largest overdue customers on {day} (own currency, not converted)",
        showlegend=False,
        height=420,
    )
    return fig


def yesterday(day: date) -> date:
    return day - timedelta(days=1)
