"""What the engine asks the executor to do, with deterministic idempotency keys.

The key is what makes "exactly once" possible downstream: the outbox stores it, the
provider receives it (QuickBooks ``requestid``, Xero ``Idempotency-Key``), and the same
decision planned twice (a crash before commit, a re-run) yields the same key. Keys are
``org:invoice:step:period`` with each part percent-encoded, where:

* step actions: ``step`` = ``<step id>/<kind>``, ``period`` = ``once``;
* late fees: ``step`` = ``fee/<rule>``, ``period`` = the period index (0, 1, ...) -- the
  fee rule, not the step, is the identity, so moving a fee to another step never
  charges a period twice;
* statutory interest: ``step`` = ``<step id>/interest``, ``period`` = the ISO date the
  claim runs through; compensation: ``compensation`` / ``once``;
* a grouped email for several invoices: ``invoice`` = ``customer/<id>``, ``step`` =
  ``email/<template>``, ``period`` = a digest of its items' keys (each item keeps its
  own per-invoice key, so the outbox can record every invoice's step).

``IdempotencyKey.digest`` is a 32-hex-digit SHA-256 prefix for providers that limit
key length.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from policies.kinds.base import EscalationLevel
from policies.money import Money

ACCOUNT_SUMMARY_TEMPLATE = "account-summary"
"""The default onboarding entry template: a polite summary of every overdue invoice,
sent to customers already overdue when syncd goes live; it claims no earlier reminder."""


class ActionKind(StrEnum):
    """The built-in kinds. A kind is a plain string (its registry name,
    ``policies.kinds``); these members are kept for the engine's own code and callers."""

    EMAIL = "email"
    PROVIDER_EMAIL = "provider_email"
    NOTE = "note"
    LATE_FEE = "late_fee"
    INTEREST = "interest"
    COMPENSATION = "compensation"
    ESCALATE = "escalate"
    STOP = "stop"


@dataclass(frozen=True, slots=True, order=True)
class IdempotencyKey:
    org: str
    invoice: str
    step: str
    period: str

    def __str__(self) -> str:
        return ":".join(
            quote(p, safe="/-_.+") for p in (self.org, self.invoice, self.step, self.period)
        )

    @property
    def digest(self) -> str:
        return hashlib.sha256(str(self).encode()).hexdigest()[:32]


def step_key(org: str, invoice_id: str, step_id: str, kind: str) -> IdempotencyKey:
    return IdempotencyKey(org, invoice_id, f"{step_id}/{kind}", "once")


def fee_key(org: str, invoice_id: str, rule: str, period: int) -> IdempotencyKey:
    return IdempotencyKey(org, invoice_id, f"fee/{rule}", str(period))


def interest_key(org: str, invoice_id: str, step_id: str, through: date) -> IdempotencyKey:
    return IdempotencyKey(org, invoice_id, f"{step_id}/interest", through.isoformat())


def compensation_key(org: str, invoice_id: str) -> IdempotencyKey:
    return IdempotencyKey(org, invoice_id, "compensation", "once")


def group_key(
    org: str, customer_id: str, template: str, item_keys: list[IdempotencyKey]
) -> IdempotencyKey:
    blob = "\n".join(sorted(str(k) for k in item_keys)).encode()
    return IdempotencyKey(
        org, f"customer/{customer_id}", f"email/{template}", hashlib.sha256(blob).hexdigest()[:16]
    )


@dataclass(frozen=True, slots=True)
class EmailItem:
    """One invoice inside a (possibly grouped) reminder email."""

    invoice_id: str
    number: str
    step_id: str
    template: str
    key: IdempotencyKey
    due_date: date
    days_overdue: int
    balance: Money


@dataclass(frozen=True, slots=True)
class PlannedAction:
    """One thing to do. Kind-specific fields are None/empty for other kinds:

    * ``email``: ``template``, ``items`` (one per invoice due a reminder; the email is
      per customer when grouping is on), ``also_overdue`` (other overdue invoice ids of
      the customer to list in the same email); ``invoice_id`` is None when grouped;
    * ``note``: ``text``; ``late_fee`` / ``interest`` / ``compensation``: ``amount`` and
      ``text``, what the charge line on the customer's invoice says (``reason`` is for the
      bookkeeper: it names the policy, the step and what was missed);
    * ``escalate``: ``level``; ``provider_email`` and ``stop`` have no extra fields;
    * any other kind: ``data``, JSON-able values of its own (``to_dict`` puts them under
      ``"data"``, which the outbox payload keeps for the kind's executor handler).

    ``kind`` is the registry name (``policies.kinds``); built-in kinds use ``ActionKind``.

    ``scheduled_for`` (UTC) is the first open send slot at or after the cycle; the
    executor must not act before it.
    """

    kind: str
    key: IdempotencyKey
    org: str
    customer_id: str
    invoice_id: str | None
    invoice_number: str | None
    policy: str
    step_id: str | None
    scheduled_for: datetime
    reason: str
    template: str | None = None
    text: str | None = None
    amount: Money | None = None
    level: EscalationLevel | None = None
    items: tuple[EmailItem, ...] = ()
    also_overdue: tuple[str, ...] = ()
    coming_up: tuple[EmailItem, ...] = ()
    """Grouped emails: the customer's invoices not yet due, listed separately and never
    part of the amount demanded."""
    review: str | None = None
    """When set, hold the action for human review whatever the org's review mode says;
    the text says why (e.g. overdue 230 days at go-live)."""
    review_mode: str | None = None
    """The step's own override of the org's review mode: ``"always"`` / ``"never"``."""
    data: Mapping[str, Any] = field(default_factory=dict)
    """A registered kind's own fields (JSON-able); empty for the built-in kinds."""

    def invoice_ids(self) -> tuple[str, ...]:
        if self.items:
            return tuple(i.invoice_id for i in self.items)
        return (self.invoice_id,) if self.invoice_id is not None else ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form for ``syncd plan --json`` and the outbox payload."""
        return {
            "key": str(self.key),
            "org": self.org,
            "action": str(self.kind),
            "customer": self.customer_id,
            "invoice": (
                None
                if self.invoice_id is None
                else {"provider_id": self.invoice_id, "number": self.invoice_number}
            ),
            "invoices": [
                {
                    "provider_id": i.invoice_id,
                    "number": i.number,
                    "step": i.step_id,
                    "key": str(i.key),
                    "due_date": i.due_date.isoformat(),
                    "days_overdue": i.days_overdue,
                    "balance": str(i.balance.amount),
                    "currency": i.balance.currency,
                }
                for i in self.items
            ],
            "also_overdue": list(self.also_overdue),
            "coming_up": [
                {
                    "provider_id": i.invoice_id,
                    "number": i.number,
                    "due_date": i.due_date.isoformat(),
                    "balance": str(i.balance.amount),
                    "currency": i.balance.currency,
                }
                for i in self.coming_up
            ],
            "policy": self.policy,
            "step": self.step_id,
            "template": self.template,
            "text": self.text,
            "amount": None if self.amount is None else str(self.amount.amount),
            "currency": None if self.amount is None else self.amount.currency,
            "level": None if self.level is None else self.level.value,
            "scheduled_for": self.scheduled_for.isoformat(),
            "reason": self.reason,
            "review": self.review,
            "review_mode": self.review_mode,
            **({"data": dict(self.data)} if self.data else {}),
        }
