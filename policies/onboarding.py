"""Invoices already overdue when syncd goes live: how they enter the ladder.

A customer who has never heard from syncd must not get "Despite our previous
reminders..." or a final notice as a first message. An invoice overdue on the org's
go-live date (and with no dunning history) therefore gets one entry email (the policy's
``[onboarding] template``, by default a polite account summary) ``delay_days`` after
go-live. The entry stands for the policy's first overdue step: that step and the ones
before it are never sent, and the dunning clock is shifted so that later steps count
from the entry (the next step comes its usual gap after the first overdue step). Fee
rules started at or before that first overdue step never run for such an invoice: their
notice was never given.

Invoices more than ``review_older_than_days`` overdue at go-live are still onboarded,
but every action planned for them carries a review reason: a person decides whether an
old debt is chased automatically.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from policies.schema import PolicyConfig
from policies.snapshot import DunningState, InvoiceSnapshot

ONBOARDING_STEP = "onboarding"
"""Step id recorded for the entry email (reserved: a policy step may not use it)."""


@dataclass(frozen=True, slots=True)
class Onboarding:
    go_live: date
    overdue_days: int
    """Calendar days overdue on the go-live date."""
    entry_on: date
    """First day the entry email may be planned."""
    position: int
    """The step day the entry stands for (the policy's first overdue step)."""
    template: str
    review: str | None


def entry_position(policy: PolicyConfig) -> int | None:
    """Day of the policy's first overdue step, or None if it has none (nothing to enter)."""
    return min((s.days for s in policy.steps if s.days > 0), default=None)


def onboarding_for(
    go_live: date | None, policy: PolicyConfig, invoice: InvoiceSnapshot, state: DunningState
) -> Onboarding | None:
    """The onboarding that applies to the invoice, or None when it is dunned normally."""
    if go_live is None:
        return None
    overdue = (go_live - invoice.due_date).days
    if overdue <= 0:
        return None
    if state.onboarded_on is None and state.steps:
        return None  # already dunned before go-live rules applied: carry on as before
    position = entry_position(policy)
    if position is None:
        return None
    cfg = policy.onboarding
    review = None
    if overdue > cfg.review_older_than_days:
        review = (
            f"overdue {overdue} days at go-live ({go_live.isoformat()}, more than "
            f"{cfg.review_older_than_days}): review before any automatic dunning"
        )
    return Onboarding(
        go_live=go_live,
        overdue_days=overdue,
        entry_on=go_live + timedelta(days=cfg.delay_days),
        position=position,
        template=cfg.template,
        review=review,
    )


def describe_onboarding(ob: Onboarding) -> str:
    return (
        f"go-live {ob.go_live.isoformat()}: the invoice was {ob.overdue_days} day(s) overdue "
        f"then, so it enters the ladder with one {ob.template!r} email (no earlier reminder "
        "is claimed); later steps count from that entry"
    )
