"""One reminder email per customer per cycle.

A customer with five overdue invoices should get one email listing them, not five.
Reminders due in the same cycle for the same customer are merged when the policies of
all of them allow grouping; the email uses the template of its most advanced step (the
firmest tone wins) and also lists the customer's other overdue invoices that were not
due a reminder themselves. Invoices whose policy turns grouping off get their own email.

An onboarding entry (the first message to a customer already overdue at go-live) sets
the template of its email whatever else is due: it must not read as a final notice.
In an email about overdue invoices, invoices not yet due (a heads-up due the same day)
go in ``coming_up``, listed apart and never in the amount demanded. The email is held
for review when any of its invoices is, and takes the strictest step override.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from policies.actions import ActionKind, EmailItem, PlannedAction, group_key


@dataclass(frozen=True, slots=True)
class PendingEmail:
    """An invoice's email, before grouping."""

    org: str
    customer_id: str
    policy: str
    group: bool
    step_day: int
    item: EmailItem
    reason: str
    entry: bool = False
    """The onboarding entry email (``onboarding``)."""
    review: str | None = None
    review_mode: str | None = None


def group_emails(
    pending: Sequence[PendingEmail],
    scheduled_for: datetime,
    overdue_by_customer: Mapping[str, Sequence[str]],
) -> list[PlannedAction]:
    buckets: dict[str, list[PendingEmail]] = defaultdict(list)
    out: list[PlannedAction] = []
    for p in pending:
        if p.group:
            buckets[p.customer_id].append(p)
        else:
            out.append(_email([p], scheduled_for, overdue_by_customer))
    for customer_id in sorted(buckets):
        group = sorted(buckets[customer_id], key=lambda p: (p.item.number, p.item.invoice_id))
        out.append(_email(group, scheduled_for, overdue_by_customer))
    return out


def _review_mode(group: list[PendingEmail]) -> str | None:
    modes = {p.review_mode for p in group}
    if "always" in modes:
        return "always"
    if modes == {"never"}:
        return "never"
    return None


def _review(group: list[PendingEmail]) -> str | None:
    reasons = [f"{p.item.number}: {p.review}" for p in group if p.review is not None]
    return "; ".join(dict.fromkeys(reasons)) or None


def _email(
    group: list[PendingEmail],
    scheduled_for: datetime,
    overdue_by_customer: Mapping[str, Sequence[str]],
) -> PlannedAction:
    entries = [p for p in group if p.entry]
    lead = max(entries or group, key=lambda p: (p.step_day, p.item.template))
    overdue = [p for p in group if p.item.days_overdue > 0]
    shown = overdue if overdue else group
    items = tuple(p.item for p in shown)
    coming_up = tuple(p.item for p in group if overdue and p.item.days_overdue <= 0)
    listed = {i.invoice_id for i in (*items, *coming_up)}
    also = tuple(
        sorted(i for i in overdue_by_customer.get(lead.customer_id, ()) if i not in listed)
    )
    if len(group) == 1:
        key = lead.item.key
        reason = lead.reason
        invoice_id: str | None = lead.item.invoice_id
        number: str | None = lead.item.number
    else:
        keys = [i.key for i in (*items, *coming_up)]
        key = group_key(lead.org, lead.customer_id, lead.item.template, keys)
        reason = f"one email for {len(group)} invoices: " + " | ".join(p.reason for p in group)
        if coming_up:
            reason += f"; {len(coming_up)} not yet due, listed as coming up only"
        invoice_id = None
        number = None
    policies = sorted({p.policy for p in group})
    return PlannedAction(
        kind=ActionKind.EMAIL,
        key=key,
        org=lead.org,
        customer_id=lead.customer_id,
        invoice_id=invoice_id,
        invoice_number=number,
        policy=",".join(policies),
        step_id=lead.item.step_id,
        scheduled_for=scheduled_for,
        reason=reason,
        template=lead.item.template,
        items=items,
        also_overdue=also,
        coming_up=coming_up,
        review=_review(group),
        review_mode=_review_mode(group),
    )
