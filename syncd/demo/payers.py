"""Customers who pay: a deterministic share of reminded invoices is paid some days later.

Which invoices get paid, and when, depends only on the seed, the org and the invoice id, so
two runs with the same options tell the same story.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

#: Out of 100 reminded invoices, how many the customers pay.
PAY_SHARE = 40
#: A paying customer pays between 1 and this many days after the reminder.
MAX_DELAY = 6


@dataclass(frozen=True)
class Payment:
    org: str
    invoice_id: str
    number: str
    #: The demo day the customer pays on, and the reminder step that preceded it.
    day: int
    after_step: str


def _draw(seed: int, org: str, invoice_id: str, step: str) -> int:
    digest = hashlib.sha256(f"{seed}:{org}:{invoice_id}:{step}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


@dataclass
class Payers:
    seed: int
    scheduled: dict[tuple[str, str], Payment] = field(default_factory=dict)

    def reminded(self, org: str, day: int, payload: dict[str, Any]) -> None:
        """A reminder went out today: perhaps the customer pays the invoices it named."""
        items = payload.get("invoices") or ([payload["invoice"]] if payload.get("invoice") else [])
        for item in items:
            invoice_id = str(item.get("provider_id") or "")
            if not invoice_id or (org, invoice_id) in self.scheduled:
                continue
            step = str(item.get("step") or payload.get("step") or payload.get("action") or "")
            draw = _draw(self.seed, org, invoice_id, step)
            if draw % 100 >= PAY_SHARE:
                continue
            delay = 1 + (draw // 100) % MAX_DELAY
            self.scheduled[(org, invoice_id)] = Payment(
                org, invoice_id, str(item.get("number") or invoice_id), day + delay, step
            )

    def due(self, day: int) -> list[Payment]:
        return [p for p in self.scheduled.values() if p.day == day]

    def paid_by(self, day: int) -> list[Payment]:
        return [p for p in self.scheduled.values() if p.day <= day]
