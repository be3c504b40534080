"""After a webhook sync: pending actions for invoices that are no longer open are skipped.

The executor's fresh read would skip them too, but only when their time comes and only after
one more provider call; skipping here makes a payment stop dunning as soon as it is known. A
row is skipped only when every invoice it names is closed in the store (a grouped email that
still covers an open invoice is left to the executor), and only while it is still ``pending``
(a conditional update, so a row the executor has just claimed is never touched).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update

from connectors.base import InvoiceStatus

from ..store import Store
from ..store.audit import record
from ..store.models import Invoice, OutboxAction, OutboxStatus


def _named(row: OutboxAction) -> set[str]:
    names = {row.invoice_provider_id} if row.invoice_provider_id else set()
    payload = row.payload if isinstance(row.payload, dict) else {}
    for item in payload.get("invoices") or ():
        if isinstance(item, dict) and item.get("provider_id"):
            names.add(str(item["provider_id"]))
    return names


def skip_closed(
    store: Store, org_id: int, touched: Iterable[str] | None, now: datetime
) -> list[str]:
    """Skip pending actions that only concern closed invoices, among those naming one of
    ``touched`` (None: any); returns their idempotency keys."""
    wanted = None if touched is None else set(touched)
    if wanted is not None and not wanted:
        return []
    skipped: list[str] = []
    with store.sessions.begin() as session:
        pending = list(
            session.scalars(
                select(OutboxAction).where(
                    OutboxAction.org_id == org_id,
                    OutboxAction.status == OutboxStatus.PENDING.value,
                )
            )
        )
        named = {row.id: _named(row) for row in pending}
        relevant = [r for r in pending if named[r.id] and (wanted is None or named[r.id] & wanted)]
        ids = set().union(*(named[row.id] for row in relevant)) if relevant else set()
        invoices = {
            inv.provider_id: inv
            for inv in session.scalars(
                select(Invoice).where(Invoice.org_id == org_id, Invoice.provider_id.in_(ids))
            )
        }
        for row in relevant:
            closed = [invoices.get(i) for i in sorted(named[row.id])]
            if not all(
                inv is not None and (inv.status != InvoiceStatus.OPEN.value or inv.balance <= 0)
                for inv in closed
            ):
                continue
            why = "invoice " + ", ".join(
                f"{inv.provider_id} is {inv.status}" for inv in closed if inv is not None
            )
            why += " now (webhook)"
            done = session.execute(
                update(OutboxAction)
                .where(
                    OutboxAction.id == row.id,
                    OutboxAction.status == OutboxStatus.PENDING.value,
                )
                .values(status=OutboxStatus.SKIPPED.value, last_error=why, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if getattr(done, "rowcount", 0) == 1:
                record(
                    session,
                    at=now,
                    event="action.skipped",
                    org_id=org_id,
                    subject_type="action",
                    subject_id=row.idempotency_key,
                    status=OutboxStatus.SKIPPED.value,
                    last_error=why,
                )
                skipped.append(row.idempotency_key)
    return skipped
