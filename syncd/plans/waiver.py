"""``interest_during_plan = false``: the statutory interest of a plan's own days is waived.

The days from the agreement (local date) to the day the plan ended, both included, are
recorded as a window in each open covered invoice's dunning state
(``meta["interest-waived:plan/ID"] = "FIRST/LAST"``, ``policies.interest.waived_windows``).
Every later claim skips those days only, so the interest that accrued before the plan (and
after it) stays claimable by the policy's next interest step. A plan that breaks and a plan
cancelled by hand end the same way: the customer was not charged interest while the
business had agreed to wait, and is charged it again from the next day.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from policies import DunningState
from policies.interest import waiver_entry

from ..store.models import DunningState as DunningStateRow
from ..store.models import Invoice, PaymentPlan
from .common import local_day


def open_covered(session: Session, plan: PaymentPlan) -> list[Invoice]:
    """The plan's invoices still open with something to pay, in the plan's order."""
    ids = [c.invoice_provider_id for c in plan.invoices]
    rows = {
        inv.provider_id: inv
        for inv in session.scalars(
            select(Invoice).where(Invoice.org_id == plan.org_id, Invoice.provider_id.in_(ids))
        )
    }
    found = [rows.get(i) for i in ids]
    return [inv for inv in found if inv is not None and inv.status == "open" and inv.balance > 0]


def waive_interest(
    session: Session,
    invoice: Invoice,
    plan: PaymentPlan,
    tz: str,
    last: date,
    now: datetime,
    *,
    keep: bool = False,
) -> None:
    """Waive the invoice's interest from the plan's agreement day through ``last``.
    ``keep``: leave a window already recorded for this plan as it is (an invoice of an
    unconfirmed plan resumed by hand earlier keeps its own last day, ``syncd.plans.resume``)."""
    entry = waiver_entry(f"plan/{plan.id}", local_day(plan.created_at, tz), last)
    row = session.get(DunningStateRow, invoice.id)
    if row is None:
        row = DunningStateRow(invoice_id=invoice.id, state=DunningState().to_dict())
        session.add(row)
    state = DunningState.from_dict(row.state)
    if keep and entry[0] in dict(state.meta):
        return
    meta = tuple(sorted({**dict(state.meta), entry[0]: entry[1]}.items()))
    row.state = replace(state, meta=meta).to_dict()
    row.updated_at = now
