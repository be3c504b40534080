"""Naming an invoice the way people do: by the number on it, or by the provider's id.

Bookkeepers see invoice numbers; scripts and logs carry provider ids. Every command that
takes an invoice resolves it here, so they all accept both and all refuse a guess: a
reference that could mean two invoices is reported with both candidates instead of picking
one.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .models import Invoice


class InvoiceRefError(LookupError):
    """The reference names no invoice, or more than one; the message says which."""

    def __init__(self, message: str, candidates: tuple[Invoice, ...] = ()) -> None:
        super().__init__(message)
        self.candidates = candidates


def describe(invoice: Invoice) -> str:
    """How an invoice is named in messages: its number and its provider id."""
    number = invoice.number or "(no number)"
    return f"number {number} (provider id {invoice.provider_id}, {invoice.status})"


def resolve_invoice(session: Session, org_id: int, ref: str, *, org_name: str = "") -> Invoice:
    """The one invoice of the org whose number or provider id is ``ref``.

    Raises :class:`InvoiceRefError` when none matches, or when the reference matches two
    invoices (a number used twice, or a number equal to another invoice's provider id).
    """
    ref = ref.strip()
    where = f" in org {org_name!r}" if org_name else ""
    if not ref:
        raise InvoiceRefError(f"an empty invoice reference{where}")
    rows = session.scalars(
        select(Invoice)
        .where(Invoice.org_id == org_id, or_(Invoice.number == ref, Invoice.provider_id == ref))
        .order_by(Invoice.id)
    ).all()
    if not rows:
        raise InvoiceRefError(f"no invoice with number or provider id {ref!r}{where}")
    if len(rows) > 1:
        listed = "; ".join(describe(r) for r in rows)
        raise InvoiceRefError(
            f"invoice reference {ref!r} is ambiguous{where}: it matches {listed}. "
            "Use the provider id of the one you mean.",
            tuple(rows),
        )
    return rows[0]
