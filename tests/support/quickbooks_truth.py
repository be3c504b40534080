"""Compare syncd's store with a QuickBooks sandbox's truth; every difference is reported."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.store.models import Customer, Invoice, Payment


def mismatches(session: Session, truth: dict[str, Any], org_id: int | None = None) -> list[str]:
    problems: list[str] = []

    def rows(model: Any) -> list[Any]:
        stmt = select(model)
        if org_id is not None:
            stmt = stmt.where(model.org_id == org_id)
        return list(session.scalars(stmt))

    invoices = {i.provider_id: i for i in rows(Invoice)}
    customers = {c.provider_id: c for c in rows(Customer)}
    payments = {(p.kind, p.provider_id): p for p in rows(Payment)}
    for t in truth["invoices"]:
        inv = invoices.pop(t["id"], None)
        if inv is None:
            if t["status"] != "deleted":
                problems.append(f"invoice {t['id']} missing")
            continue
        if t["status"] == "deleted":
            if inv.status != "deleted":
                problems.append(f"invoice {t['id']} deleted at the provider, {inv.status} here")
            continue
        got = (
            inv.status,
            inv.balance,
            inv.total,
            inv.currency,
            inv.customer_provider_id,
            inv.number,
            str(inv.due_date),
        )
        want = (
            t["status"],
            Decimal(t["balance"]),
            Decimal(t["total"]),
            t["currency"],
            t["customer_id"],
            t["doc_number"],
            t["due_date"],
        )
        if got != want:
            problems.append(f"invoice {t['id']}: store {got} != provider {want}")
    problems += [
        f"invoice {pid} unknown to the provider"
        for pid, inv in invoices.items()
        if inv.status != "deleted"
    ]
    for t in truth["customers"]:
        c = customers.get(t["id"])
        want = (t["display_name"], t["email"], t["active"], t["currency"])
        if c is None or (c.name, c.email, c.active, c.currency) != want:
            problems.append(f"customer {t['id']}: {c and (c.name, c.email, c.active)} != {want}")
    for t in truth["payments"]:
        p = payments.get(("payment", t["id"]))
        if p is None:
            problems.append(f"payment {t['id']} missing")
            continue
        want_alloc = sorted(
            (a["txn_id"], Decimal(a["amount"]))
            for a in t["allocations"]
            if a["txn_type"] == "Invoice"
        )
        got_alloc = sorted((a.invoice_provider_id, a.amount) for a in p.allocations)
        if (p.amount, p.unapplied, got_alloc) != (
            Decimal(t["total"]),
            Decimal(t["unapplied"]),
            want_alloc,
        ):
            problems.append(f"payment {t['id']} differs")
    for t in truth["credit_memos"]:
        cm = payments.get(("credit_note", t["id"]))
        want_cm = (Decimal(t["total"]), Decimal(t["remaining"]))
        if cm is None or (cm.amount, cm.unapplied) != want_cm:
            problems.append(f"credit memo {t['id']} differs")
    return problems
