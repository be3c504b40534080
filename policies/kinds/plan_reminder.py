"""``plan_reminder``: one instalment's reminder (before the day, on the day, after a miss),
from ``[policies.NAME.payment_plan]``. Planned per cycle by ``policies.plans.reminder_due``
for plans that are kept (their invoices are on hold, so no policy step reaches them)."""

from __future__ import annotations

from policies.kinds.base import KindSpec, ReviewClass
from policies.kinds.registry import register

SPEC = register(
    KindSpec(
        name="plan_reminder",
        order=82,
        review_class=ReviewClass.CONTACT,
        describe_planned=lambda _a: "a payment plan instalment's reminder",
        tally="plan_reminders",
    )
)
