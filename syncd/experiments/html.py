"""An experiment's comparison as an HTML fragment, for the HTML report's A/B section.

The report (``syncd.reports.html.experiment_sections``) calls
:func:`~syncd.experiments.report.experiment_comparisons` per org and puts
:func:`comparison_html` of each into its page; names and figures are escaped by Jinja2.
"""

from __future__ import annotations

from jinja2 import Environment

from .report import Comparison

_ENV = Environment(autoescape=True)
_TEMPLATE = _ENV.from_string(
    """<table class="experiment">
<tr><th>arm</th><th>customers</th><th>invoices</th><th>paid</th><th>collected</th>
<th>mean days</th><th>median days</th></tr>
{% for arm, a in d.arms.items() %}<tr><td>{{ arm }}</td><td>{{ a.customers }}</td>
<td>{{ a.invoices }}</td><td>{{ a.paid }}</td>
<td>{{ "%.1f%%"|format(a.share_collected * 100) if a.share_collected is not none else "-" }}</td>
<td>{{ "%.1f"|format(a.mean_days_to_payment) if a.mean_days_to_payment is not none else "-" }}</td>
<td>{{ "%.1f"|format(a.median_days_to_payment) if a.median_days_to_payment is not none
else "-" }}</td></tr>
{% endfor %}</table>
<p class="note">{{ d.verdict }}</p>"""
)


def comparison_html(comparison: Comparison) -> str:
    return _TEMPLATE.render(d=comparison.to_dict())
