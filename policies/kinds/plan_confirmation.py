"""``plan_confirmation``: a payment plan put in writing to the customer (email with the
schedule as a PDF). Queued by ``syncd payment-plan create``, never by a policy step; it
always waits for a human unless the org lists it in ``review_exempt``."""

from __future__ import annotations

from policies.kinds.base import KindSpec, ReviewClass
from policies.kinds.registry import register

SPEC = register(
    KindSpec(
        name="plan_confirmation",
        order=80,
        review_class=ReviewClass.APPROVAL,
        describe_planned=lambda _a: "the agreed payment plan, confirmed to the customer",
        tally="plan_confirmations",
    )
)
