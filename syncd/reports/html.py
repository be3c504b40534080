"""The self-contained HTML report: plotly.js inlined once, no request leaves the page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import plotly.graph_objects as go
from jinja2 import Environment, select_autoescape
from plotly.offline import get_plotlyjs

from . import charts
from .curves import paid_curves
from .dataset import OrgData
from .dso import FORMULA
from .effectiveness import reaches


@dataclass(frozen=True)
class Section:
    title: str
    chart_id: str
    html: str
    note: str = ""


@dataclass(frozen=True)
class ExperimentSection:
    """One A/B experiment's comparison (filled in by the experiments work; see
    :func:`experiment_sections`)."""

    name: str
    html: str


def experiment_sections(orgs: Sequence[OrgData]) -> list[ExperimentSection]:
    """The A/B comparison: one section per recorded experiment.

    Each recorded experiment of each org, compared as ``syncd report experiment`` does; with
    none recorded the page says so."""
    from syncd.experiments.html import comparison_html

    return [
        ExperimentSection(f"{org.name}: {c.name}", comparison_html(c))
        for org in orgs
        for c in org.experiments
    ]


TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>syncd report {{ first }} to {{ last }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
section { margin-bottom: 2em; } .note { color: #555; font-size: 0.9em; }
</style>
<script>{{ plotly_js | safe }}</script>
</head><body>
<h1>Receivables report</h1>
<p class="note">{{ orgs | join(", ") }}: {{ first }} to {{ last }}. Past balances are rebuilt
from the payment history. Amounts are in each invoice's own currency, never converted.</p>
{% for s in sections %}
<section><h2>{{ s.title }}</h2>
{% if s.note %}<p class="note">{{ s.note }}</p>{% endif %}
{{ s.html | safe }}</section>
{% endfor %}
<section id="experiments"><h2>A/B experiments</h2>
{% if experiments %}{% for e in experiments %}<h3>{{ e.name }}</h3>{{ e.html | safe }}{% endfor %}
{% else %}<p class="note">No policy experiments are recorded in this store.</p>{% endif %}
</section>
</body></html>
"""


def _div(fig: go.Figure, chart_id: str) -> str:
    body: str = fig.to_html(
        full_html=False, include_plotlyjs=False, div_id=chart_id, config={"responsive": True}
    )
    return f'<div class="chart" data-chart="{chart_id}">{body}</div>'


def sections(orgs: Sequence[OrgData], first: date, last: date) -> list[Section]:
    curves = [
        c for o in orgs for c in paid_curves(reaches(o.actions), o.by_id, first, last, o.today)
    ]
    out = [
        Section(
            "Aging over time",
            "aging",
            _div(charts.aging_over_time(orgs, first, last), "aging"),
        ),
        Section("DSO trend", "dso", _div(charts.dso_trend(orgs, first, last), "dso"), FORMULA),
        Section(
            "Paid after each step",
            "paid",
            _div(charts.paid_after_step(curves), "paid"),
            "From the actions syncd carried out. Each point counts only invoices watched "
            "at least that many days (hover for the sample size)."
            + ("" if curves else " No step has been carried out in this period yet."),
        ),
        Section(
            "Largest overdue customers",
            "overdue",
            _div(charts.largest_overdue(orgs, last), "overdue"),
        ),
    ]
    return out


def build_html(orgs: Sequence[OrgData], first: date, last: date) -> str:
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    return env.from_string(TEMPLATE).render(
        plotly_js=get_plotlyjs(),
        orgs=[o.name for o in orgs],
        first=first,
        last=last,
        sections=sections(orgs, first, last),
        experiments=experiment_sections(orgs),
    )
