"""How invoices fared after each step syncd actually took.

Evidence comes only from syncd's own actions that were carried out (outbox rows ``done``),
never from plans. For every policy step: the invoices that reached it in the period (first
time only), the share settled within 7, 14 and 30 days after it, the median days to
settlement and the money received after it.

Two choices, stated in the output as well:

- An invoice reached too recently to have been watched for N days is left out of the
  "within N days" share (its denominator is given); it is not counted as unpaid.
- Money received is credited to the last step reached before it arrived (so the column
  adds up to what came in after syncd acted, without counting a payment twice).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .ledger import ZERO, LedgerInvoice

WINDOWS = (7, 14, 30)
FEE_KINDS = ("late_fee", "interest", "compensation")


@dataclass(frozen=True, slots=True)
class DoneAction:
    """One outbox action as the report needs it (``on``: the local day it was done)."""

    org: str
    kind: str
    status: str
    on: date
    policy: str | None
    #: (invoice provider id, step id) for every invoice the action was about.
    items: tuple[tuple[str, str | None], ...]
    amount: Decimal | None = None
    currency: str | None = None
    #: Order in which syncd decided the actions (the outbox id): breaks same-day ties.
    seq: int = 0


@dataclass(frozen=True, slots=True)
class Reach:
    org: str
    policy: str
    step: str
    invoice_id: str
    on: date
    seq: int = 0


@dataclass
class StepStats:
    org: str
    policy: str
    step: str
    reached: int = 0
    #: window -> (settled within it, invoices watched that long)
    within: dict[int, tuple[int, int]] = field(default_factory=dict)
    median_days: float | None = None
    collected: dict[str, Decimal] = field(default_factory=dict)

    def share(self, window: int) -> float | None:
        paid, seen = self.within.get(window, (0, 0))
        return None if seen == 0 else paid / seen

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "org": self.org,
            "policy": self.policy,
            "step": self.step,
            "reached": self.reached,
        }
        for w in WINDOWS:
            paid, seen = self.within.get(w, (0, 0))
            share = self.share(w)
            out[f"paid_{w}d"] = None if share is None else round(share, 4)
            out[f"paid_{w}d_n"] = seen
            out[f"paid_{w}d_count"] = paid
        out["median_days_to_payment"] = self.median_days
        out["collected"] = {k: str(v) for k, v in sorted(self.collected.items())}
        return out


def reaches(actions: Iterable[DoneAction]) -> list[Reach]:
    """The first day each invoice reached each step, from the actions carried out."""
    first: dict[tuple[str, str, str, str], tuple[date, int]] = {}
    for a in actions:
        if a.status != "done":
            continue
        for invoice_id, step in a.items:
            if step is None:
                continue
            key = (a.org, a.policy or "", step, invoice_id)
            if key not in first or (a.on, a.seq) < first[key]:
                first[key] = (a.on, a.seq)
    return [Reach(o, p, s, i, on, seq) for (o, p, s, i), (on, seq) in sorted(first.items())]


def step_stats(
    reached: Iterable[Reach],
    ledger: Mapping[tuple[str, str], LedgerInvoice],
    start: date,
    end: date,
    observed_until: date,
) -> list[StepStats]:
    """Figures per step for the reaches within ``start``..``end``; payments are watched up
    to ``observed_until`` (usually today)."""
    all_reaches = list(reached)
    later: dict[tuple[str, str], list[tuple[date, int]]] = defaultdict(list)
    for r in all_reaches:
        later[(r.org, r.invoice_id)].append((r.on, r.seq))
    stats: dict[tuple[str, str, str], StepStats] = {}
    days: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for r in all_reaches:
        inv = ledger.get((r.org, r.invoice_id))
        if inv is None or not start <= r.on <= end:
            continue
        key = (r.org, r.policy, r.step)
        s = stats.setdefault(key, StepStats(r.org, r.policy, r.step))
        s.reached += 1
        settled = inv.settled_on(r.on)
        if settled is not None and settled > observed_until:
            settled = None
        if settled is not None:
            days[key].append((settled - r.on).days)
        for w in WINDOWS:
            paid, seen = s.within.get(w, (0, 0))
            if (observed_until - r.on).days >= w:
                ok = settled is not None and (settled - r.on).days <= w
                s.within[w] = (paid + int(ok), seen + 1)
            else:
                s.within[w] = (paid, seen)
        nxt = min((d for d in later[(r.org, r.invoice_id)] if d > (r.on, r.seq)), default=None)
        until = min(nxt[0], observed_until) if nxt is not None else observed_until
        got = inv.paid_between(r.on, until)
        if got:
            s.collected[inv.currency] = s.collected.get(inv.currency, ZERO) + got
    for key, values in days.items():
        stats[key].median_days = float(statistics.median(values))
    return [stats[k] for k in sorted(stats)]


@dataclass
class FeeStats:
    """Fees per currency: charged (done), collected (invoice since paid in full), waived
    (held for review and skipped by a person)."""

    charged: dict[str, Decimal] = field(default_factory=dict)
    charged_count: int = 0
    collected: dict[str, Decimal] = field(default_factory=dict)
    collected_count: int = 0
    waived: dict[str, Decimal] = field(default_factory=dict)
    waived_count: int = 0

    def to_dict(self) -> dict[str, object]:
        def m(d: dict[str, Decimal]) -> dict[str, str]:
            return {k: str(v) for k, v in sorted(d.items())}

        return {
            "charged": m(self.charged),
            "charged_count": self.charged_count,
            "collected": m(self.collected),
            "collected_count": self.collected_count,
            "waived": m(self.waived),
            "waived_count": self.waived_count,
        }


def _add(bucket: dict[str, Decimal], currency: str, amount: Decimal) -> None:
    bucket[currency] = bucket.get(currency, ZERO) + amount


def fee_stats(
    actions: Iterable[DoneAction],
    ledger: Mapping[tuple[str, str], LedgerInvoice],
    start: date,
    end: date,
    observed_until: date,
) -> FeeStats:
    out = FeeStats()
    for a in actions:
        if a.kind not in FEE_KINDS or a.amount is None or a.currency is None:
            continue
        if not start <= a.on <= end:
            continue
        if a.status == "done":
            _add(out.charged, a.currency, a.amount)
            out.charged_count += 1
            invoice_id = a.items[0][0] if a.items else None
            inv = ledger.get((a.org, invoice_id or ""))
            settled = inv.settled_on(a.on) if inv is not None else None
            if settled is not None and settled <= observed_until:
                _add(out.collected, a.currency, a.amount)
                out.collected_count += 1
        elif a.status == "skipped":
            _add(out.waived, a.currency, a.amount)
            out.waived_count += 1
    return out
