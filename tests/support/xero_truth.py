"""Compare syncd's store with a Xero sandbox's truth; every difference is reported.

The truth is the sandbox's own state (``GET /_sandbox/truth``), written independently of the
connector's mapping, so the expectations below restate Xero's rules from the outside:
AUTHORISED with nothing due counts as paid, voided and deleted invoices owe nothing, a
contact's address is its primary email or else the first person Xero includes in emails,
deleted payments and voided or deleted credit notes no longer count.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.store.models import Customer, Invoice, Payment

_STATUS = {
    "DRAFT": "draft",
    "SUBMITTED": "draft",
    "PAID": "paid",
    "VOIDED": "voided",
    "DELETED": "deleted",
}


def expected_status(t: dict[str, Any]) -> str:
    if t["status"] == "AUTHORISED":
        return "open" if Decimal(t["amount_due"]) > 0 else "paid"
    return _STATUS[t["status"]]


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
        inv = invoices.pop(t["invoice_id"], None)
        status = expected_status(t)
        if inv is None:
            if status != "deleted":
                problems.append(f"invoice {t['invoice_id']} missing")
            continue
        if status == "deleted":
            if (inv.status, inv.balance) != ("deleted", Decimal(0)):
                problems.append(f"invoice {t['invoice_id']} deleted at Xero, {inv.status} here")
            continue
        balance = Decimal(0) if status == "voided" else Decimal(t["amount_due"])
        got = (
            inv.status,
            inv.balance,
            inv.total,
            inv.currency,
            inv.customer_provider_id,
            inv.number,
            str(inv.issue_date),
            str(inv.due_date) if inv.due_date else None,
        )
        want = (
            status,
            balance,
            Decimal(t["total"]),
            t["currency"],
            t["contact_id"],
            t["invoice_number"],
            t["date"],
            t["due_date"],
        )
        if got != want:
            problems.append(f"invoice {t['invoice_id']}: store {got} != Xero {want}")
    problems += [
        f"invoice {pid} unknown to Xero" for pid, inv in invoices.items() if inv.status != "deleted"
    ]

    for t in truth["contacts"]:
        c = customers.pop(t["contact_id"], None)
        recipients = t["email_recipients"]
        email = t["email"] or (recipients[0] if recipients else None)
        want_c = (t["name"], email, t["status"] == "ACTIVE")
        got_c = (c.name, c.email, c.active) if c is not None else None
        if got_c != want_c:
            problems.append(f"contact {t['contact_id']}: store {got_c} != Xero {want_c}")
    problems += [f"contact {pid} unknown to Xero" for pid in customers]

    for t in truth["payments"]:
        p = payments.pop(("payment", t["payment_id"]), None)
        if t["status"] == "DELETED":
            if p is not None and not p.deleted:
                problems.append(f"payment {t['payment_id']} deleted at Xero, live here")
            continue
        if p is None:
            problems.append(f"payment {t['payment_id']} missing")
            continue
        allocations = sorted((a.invoice_provider_id, a.amount) for a in p.allocations)
        got_p = (p.deleted, p.amount, allocations)
        want_p = (False, Decimal(t["amount"]), [(t["invoice_id"], Decimal(t["amount"]))])
        if got_p != want_p:
            problems.append(f"payment {t['payment_id']}: store {got_p} != Xero {want_p}")

    for t in truth["credit_notes"]:
        cn = payments.pop(("credit_note", t["credit_note_id"]), None)
        if t["status"] in ("VOIDED", "DELETED"):
            if cn is not None and not cn.deleted:
                problems.append(f"credit note {t['credit_note_id']} voided at Xero, live here")
            continue
        if t["status"] not in ("AUTHORISED", "PAID"):
            if cn is not None and not cn.deleted:
                problems.append(f"credit note {t['credit_note_id']} is a draft, counted here")
            continue
        if cn is None:
            problems.append(f"credit note {t['credit_note_id']} missing")
            continue
        merged: dict[str, Decimal] = {}
        for a in t["allocations"]:  # the store keeps one row per (note, invoice)
            merged[a["invoice_id"]] = merged.get(a["invoice_id"], Decimal(0)) + Decimal(a["amount"])
        want_alloc = sorted(merged.items())
        total = Decimal(t["total"])
        want_cn = (False, total, total - sum((a for _, a in want_alloc), Decimal(0)), want_alloc)
        got_cn = (
            cn.deleted,
            cn.amount,
            cn.unapplied,
            sorted((a.invoice_provider_id, a.amount) for a in cn.allocations),
        )
        if got_cn != want_cn:
            problems.append(f"credit note {t['credit_note_id']}: store {got_cn} != Xero {want_cn}")
    problems += _prepaid_mismatches(payments, truth.get("prepaid", []))
    problems += [
        f"{kind} {pid} unknown to Xero" for (kind, pid), p in payments.items() if not p.deleted
    ]
    return problems


def _prepaid_mismatches(payments: dict[tuple[str, str], Any], rows: list[Any]) -> list[str]:
    """Prepayments and overpayments are kept as payments allocated to invoices."""
    problems: list[str] = []
    for t in rows:
        p = payments.pop(("payment", t["id"]), None)
        if t["status"] == "VOIDED":
            if p is not None and not p.deleted:
                problems.append(f"{t['kind']} {t['id']} voided at Xero, live here")
            continue
        if p is None:
            problems.append(f"{t['kind']} {t['id']} missing")
            continue
        merged: dict[str, Decimal] = {}
        for a in t["allocations"]:
            merged[a["invoice_id"]] = merged.get(a["invoice_id"], Decimal(0)) + Decimal(a["amount"])
        want = (False, Decimal(t["total"]), Decimal(t["remaining"]), sorted(merged.items()))
        got = (
            p.deleted,
            p.amount,
            p.unapplied,
            sorted((a.invoice_provider_id, a.amount) for a in p.allocations),
        )
        if got != want:
            problems.append(f"{t['kind']} {t['id']}: store {got} != Xero {want}")
    return problems
