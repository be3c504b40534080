"""A small hand-made receivables history, written into a real store, with an independent
day-by-day replay that the tests compare every report figure against.

The replay walks forward from each invoice's original total, one event at a time, which is
not how the reports work (they reason back from today's balance with a ledger model).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from syncd.store.models import (
    Customer,
    Invoice,
    InvoiceLine,
    OutboxAction,
    Payment,
    PaymentAllocation,
)

TODAY = date(2026, 6, 30)
ORG = "books"


@dataclass(frozen=True)
class Pay:
    id: str
    on: date
    amount: Decimal
    kind: str = "payment"  # or credit_note
    #: Refunded (deleted at the provider): the store saw the deletion on this day.
    reversed_on: date | None = None
    #: Money received when less than ``amount``: a QuickBooks payment that also applies a
    #: credit memo links the invoice for the whole amount (``TotalAmt`` is the cash).
    cash: Decimal | None = None


@dataclass
class Inv:
    id: str
    customer: str
    currency: str
    issued: date
    due: date
    principal: Decimal
    pays: list[Pay] = field(default_factory=list)
    #: (day added, amount): a late fee syncd posted as a line.
    fee: tuple[date, Decimal] | None = None

    @property
    def total(self) -> Decimal:
        return self.principal + (self.fee[1] if self.fee else Decimal(0))

    def events(self) -> list[tuple[date, Decimal]]:
        """Forward events: + owed, - paid (a refund owes again)."""
        ev: list[tuple[date, Decimal]] = [(self.issued, self.principal)]
        if self.fee:
            ev.append(self.fee)
        for p in self.pays:
            ev.append((p.on, -p.amount))
            if p.reversed_on:
                ev.append((p.reversed_on, p.amount))
        return ev

    def owed(self, day: date) -> Decimal:
        if day < self.issued:
            return Decimal(0)
        return max(Decimal(0), sum((a for d, a in self.events() if d <= day), Decimal(0)))

    @property
    def balance(self) -> Decimal:
        return self.owed(TODAY)

    def settled(self, after: date) -> date | None:
        d = after
        while d <= TODAY:
            if self.owed(d) == 0:
                return d
            d = date.fromordinal(d.toordinal() + 1)
        return None


D = Decimal
CUSTOMERS = {"c1": "Alder Ltd", "c2": "Birch GmbH", "c3": "Cedar KK"}
INVOICES = [
    # Partial payments, then paid off.
    Inv(
        "i1",
        "c1",
        "USD",
        date(2026, 1, 5),
        date(2026, 2, 4),
        D("1000.00"),
        [Pay("p1", date(2026, 3, 1), D("300.00")), Pay("p2", date(2026, 5, 20), D("700.00"))],
    ),
    # A credit note, then part-paid; still open; a late fee added in April.
    Inv(
        "i2",
        "c1",
        "USD",
        date(2026, 2, 10),
        date(2026, 3, 12),
        D("500.00"),
        [
            Pay("cn1", date(2026, 3, 20), D("120.00"), "credit_note"),
            Pay("p3", date(2026, 6, 10), D("100.00")),
        ],
        fee=(date(2026, 4, 15), D("25.00")),
    ),
    # Paid, then the payment refunded: open again.
    Inv(
        "i3",
        "c2",
        "EUR",
        date(2026, 3, 1),
        date(2026, 3, 31),
        D("800.00"),
        [Pay("p4", date(2026, 4, 2), D("800.00"), reversed_on=date(2026, 5, 5))],
    ),
    # Untouched, long overdue (EUR).
    Inv("i4", "c2", "EUR", date(2025, 12, 1), date(2025, 12, 31), D("260.50")),
    # A zero-decimal currency, paid 40 days after due.
    Inv(
        "i5",
        "c3",
        "JPY",
        date(2026, 1, 20),
        date(2026, 2, 19),
        D("54000"),
        [Pay("p5", date(2026, 3, 31), D("54000"))],
    ),
    # Not yet due at the end.
    Inv("i6", "c3", "JPY", date(2026, 6, 15), date(2026, 7, 15), D("12000")),
    # Paid with 400 of money and a 100 credit memo, in one QuickBooks payment.
    Inv(
        "i8",
        "c1",
        "USD",
        date(2026, 4, 1),
        date(2026, 5, 1),
        D("500.00"),
        [Pay("p7", date(2026, 5, 10), D("500.00"), cash=D("400.00"))],
    ),
    # Issued in May, paid promptly.
    Inv(
        "i7",
        "c1",
        "USD",
        date(2026, 5, 2),
        date(2026, 6, 1),
        D("240.00"),
        [Pay("p6", date(2026, 5, 25), D("240.00"))],
    ),
]
BY_ID = {i.id: i for i in INVOICES}

#: syncd's own actions: (outbox id, kind, status, done on, step, invoices, fee amount)
ACTIONS: list[tuple[int, str, str, date, str, list[str], Decimal | None]] = [
    (1, "email", "done", date(2026, 2, 11), "reminder-1", ["i1"], None),
    (2, "email", "done", date(2026, 3, 13), "reminder-1", ["i2"], None),
    (3, "email", "done", date(2026, 4, 1), "reminder-1", ["i3", "i4"], None),
    (4, "email", "done", date(2026, 3, 3), "reminder-1", ["i5"], None),
    (5, "email", "done", date(2026, 4, 10), "final", ["i1", "i2"], None),
    (6, "late_fee", "done", date(2026, 4, 15), "late-fee", ["i2"], D("25.00")),
    (7, "late_fee", "skipped", date(2026, 5, 1), "late-fee", ["i4"], D("30.00")),
    (8, "email", "done", date(2026, 5, 10), "final", ["i3"], None),
    (9, "email", "failed", date(2026, 5, 11), "final", ["i4"], None),
    (10, "email", "done", date(2026, 5, 2), "reminder-1", ["i8"], None),
]


def _at(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def write_history(session: Session, org_id: int) -> None:
    base: dict[str, Any] = {
        "org_id": org_id,
        "provider_updated_at": _at(TODAY),
        "fingerprint": "x",
        "raw": {},
        "synced_at": _at(TODAY),
    }
    for cid, name in CUSTOMERS.items():
        session.add(Customer(provider_id=cid, name=name, **base))
    fee_key = {a[5][0]: f"books|{a[5][0]}|fee|{a[0]}" for a in ACTIONS if a[1] == "late_fee"}
    for inv in INVOICES:
        row = Invoice(
            provider_id=inv.id,
            number=f"N-{inv.id}",
            customer_provider_id=inv.customer,
            issue_date=inv.issued,
            due_date=inv.due,
            currency=inv.currency,
            total=inv.total,
            balance=inv.balance,
            status="open" if inv.balance > 0 else "paid",
            **base,
        )
        row.lines = [InvoiceLine(position=0, amount=inv.principal, description="work")]
        if inv.fee:
            row.lines.append(InvoiceLine(position=1, amount=inv.fee[1], fee_key=fee_key[inv.id]))
        session.add(row)
        for p in inv.pays:
            pay = Payment(
                kind=p.kind,
                provider_id=p.id,
                customer_provider_id=inv.customer,
                date=p.on,
                currency=inv.currency,
                amount=p.cash if p.cash is not None else p.amount,
                unapplied=Decimal(0),
                deleted=p.reversed_on is not None,
                **{**base, "provider_updated_at": _at(p.reversed_on or p.on)},
            )
            pay.allocations = [PaymentAllocation(invoice_provider_id=inv.id, amount=p.amount)]
            session.add(pay)
            if p.cash is not None:  # the credit memo it consumed: reaches invoices only so
                session.add(
                    Payment(
                        kind="credit_note",
                        provider_id=f"cm-{p.id}",
                        customer_provider_id=inv.customer,
                        date=p.on,
                        currency=inv.currency,
                        amount=p.amount - p.cash,
                        unapplied=Decimal(0),
                        deleted=False,
                        **base,
                    )
                )
    for seq, kind, status, on, step, ids, amount in ACTIONS:
        first = BY_ID[ids[0]]
        payload = {
            "policy": "standard",
            "step": step,
            "invoice": {"provider_id": ids[0], "number": f"N-{ids[0]}"} if len(ids) == 1 else None,
            "invoices": [{"provider_id": i, "step": step} for i in ids] if kind == "email" else [],
            "amount": None if amount is None else str(amount),
            "currency": None if amount is None else first.currency,
        }
        session.add(
            OutboxAction(
                id=seq,
                org_id=org_id,
                idempotency_key=fee_key.get(ids[0], f"k{seq}") if kind == "late_fee" else f"k{seq}",
                kind=kind,
                invoice_provider_id=ids[0] if len(ids) == 1 else None,
                customer_provider_id=first.customer,
                payload=payload,
                status=status,
                scheduled_for=_at(on),
                created_at=_at(on),
                updated_at=_at(on),
            )
        )


def config_text(store_url: str) -> str:
    return (
        f'[store]\nurl = "{store_url}"\n\n[[orgs]]\nname = "{ORG}"\nconnector = "quickbooks"\n'
        'policy = "standard"\ntimezone = "UTC"\n\n[orgs.credentials]\nclient_id = "id"\n'
        'client_secret = "secret"\nrefresh_token = "rt"\nrealm_id = "1"\n'
    )


def write_config(tmp_path: Path, store_url: str) -> Path:
    path = tmp_path / "syncd.toml"
    path.write_text(config_text(store_url), encoding="utf-8")
    return path


# -- the independent computations ------------------------------------------------------------


def bucket(days: int) -> str:
    for limit, name in ((0, "current"), (30, "days_1_30"), (60, "days_31_60"), (90, "days_61_90")):
        if days <= limit:
            return name
    return "days_90_plus"


def expected_aging(as_of: date) -> dict[tuple[str, str], dict[str, Decimal]]:
    out: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for inv in INVOICES:
        owed = inv.owed(as_of)
        if owed:
            out[(inv.customer, inv.currency)][bucket((as_of - inv.due).days)] += owed
    return out


def expected_reaches() -> dict[tuple[str, str], date]:
    first: dict[tuple[str, str], date] = {}
    for _seq, _kind, status, on, step, ids, _ in ACTIONS:
        if status == "done":
            for i in ids:
                first.setdefault((step, i), on)
                first[(step, i)] = min(first[(step, i)], on)
    return first


def expected_step(step: str) -> dict[str, Any]:
    reached = {i: on for (s, i), on in expected_reaches().items() if s == step}
    out: dict[str, Any] = {"reached": len(reached)}
    for w in (7, 14, 30):
        watched = [i for i, on in reached.items() if (TODAY - on).days >= w]
        paid = [
            i
            for i in watched
            if (s := BY_ID[i].settled(reached[i])) is not None and (s - reached[i]).days <= w
        ]
        out[w] = (len(paid), len(watched))
    days = [(s - on).days for i, on in reached.items() if (s := BY_ID[i].settled(on)) is not None]
    out["median"] = float(statistics.median(days)) if days else None
    return out
