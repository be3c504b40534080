"""Paid-after-step curves: the share of invoices settled within d days of a step.

For each d, only invoices watched for at least d days count (an invoice reached yesterday
says nothing about day 20), so every point has its own sample size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from .effectiveness import Reach
from .ledger import LedgerInvoice


@dataclass(frozen=True)
class Curve:
    org: str
    policy: str
    step: str
    days: tuple[int, ...]
    share: tuple[float, ...]
    sample: tuple[int, ...]


def paid_curves(
    reached: Iterable[Reach],
    ledger: Mapping[tuple[str, str], LedgerInvoice],
    start: date,
    end: date,
    observed_until: date,
    max_days: int = 60,
) -> list[Curve]:
    groups: dict[tuple[str, str, str], list[int | None]] = defaultdict(list)
    watched: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for r in reached:
        inv = ledger.get((r.org, r.invoice_id))
        if inv is None or not start <= r.on <= end:
            continue
        settled = inv.settled_on(r.on)
        key = (r.org, r.policy, r.step)
        ok = settled is not None and settled <= observed_until
        groups[key].append((settled - r.on).days if ok and settled else None)
        watched[key].append((observed_until - r.on).days)
    out: list[Curve] = []
    for key in sorted(groups):
        days, share, sample = [], [], []
        for d in range(max_days + 1):
            seen = [p for p, w in zip(groups[key], watched[key], strict=True) if w >= d]
            if not seen:
                break
            days.append(d)
            sample.append(len(seen))
            share.append(sum(1 for p in seen if p is not None and p <= d) / len(seen))
        if days:
            out.append(Curve(*key, tuple(days), tuple(share), tuple(sample)))
    return out
