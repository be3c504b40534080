"""Every real QuickBooks payload in ../shared/reference parses into the store correctly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connectors.base import InvoiceStatus, Page
from connectors.quickbooks import mapping
from syncd.store import Store, apply_page, ensure_org
from syncd.store.models import Customer, Invoice, Payment

# The repository's sibling ``shared`` directory (a worktree sits one level deeper).
REFERENCE = next(
    (
        parent / "shared" / "reference" / "quickbooks"
        for parent in Path(__file__).resolve().parents
        if (parent / "shared" / "reference").is_dir()
    ),
    Path(__file__).resolve().parents[4] / "shared" / "reference" / "quickbooks",
)
RECORDED = REFERENCE / "nango-recorded"
pytestmark = pytest.mark.skipif(
    not RECORDED.is_dir(), reason=f"reference payloads not present at {RECORDED}"
)
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def responses(name: str) -> Iterator[dict[str, Any]]:
    data = json.loads((RECORDED / name).read_text(encoding="utf-8"), parse_float=Decimal)
    for by_path in data["api"].values():
        for exchange in by_path.values():
            yield exchange["response"]


def rows(name: str, entity: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for response in responses(name):
        if "QueryResponse" in response:
            out.extend(response["QueryResponse"].get(entity, []))
        elif entity in response:
            out.append(response[entity])
    assert out, f"{name} holds no {entity}"
    return out


def test_recorded_invoices_map_exactly(store: Store) -> None:
    raw = rows("list-invoices.test.json", "Invoice")
    records = [mapping.invoice(r, "USD") for r in raw]
    by_id = {r["Id"]: r for r in raw}
    assert len(by_id) == len(raw)
    for rec, src in zip(
        [*records, *(mapping.invoice(r, "USD") for r in rows("get-invoice.test.json", "Invoice"))],
        [*raw, *rows("get-invoice.test.json", "Invoice")],
        strict=True,
    ):
        assert rec.total == Decimal(str(src["TotalAmt"]))
        assert rec.balance == Decimal(str(src["Balance"]))
        assert rec.currency == src["CurrencyRef"]["value"]
        assert rec.customer_provider_id == src["CustomerRef"]["value"]
        assert rec.version == src["SyncToken"]
        assert rec.updated_at.tzinfo is not None
        assert rec.status is (InvoiceStatus.OPEN if rec.balance > 0 else InvoiceStatus.PAID)
        sales = [ln for ln in src["Line"] if ln["DetailType"] != "SubTotalLineDetail"]
        assert len(rec.lines) == len(sales)
    with store.sessions.begin() as s:
        org_id = ensure_org(s, "ref", "quickbooks", NOW).id
        apply_page(s, org_id, Page(invoices=tuple(records)), now=NOW)
    with store.sessions() as s:
        stored = {i.provider_id: i for i in s.scalars(select(Invoice))}
    assert set(stored) == set(by_id)
    for pid, inv in stored.items():
        assert inv.balance == Decimal(str(by_id[pid]["Balance"]))
        assert inv.raw["Id"] == pid


def test_recorded_payments_keep_their_invoice_links(store: Store) -> None:
    raw = rows("list-payments.test.json", "Payment")
    records = [mapping.payment(r, "USD") for r in raw]
    linked = [r for r in records if r.allocations]
    assert linked, "the sample has payments applied to invoices"
    single = rows("get-payment.test.json", "Payment")
    for rec, src in zip(
        [*records, *(mapping.payment(r, "USD") for r in single)], [*raw, *single], strict=True
    ):
        applied = sum((a.amount for a in rec.allocations), Decimal(0))
        # QuickBooks links a credit memo to an invoice through a (often zero) payment: the
        # invoice side is then paid by cash plus the credit consumed.
        credits = sum(
            (
                Decimal(str(line["Amount"]))
                for line in src["Line"]
                if any(t["TxnType"] == "CreditMemo" for t in line.get("LinkedTxn", []))
            ),
            Decimal(0),
        )
        assert rec.amount == Decimal(str(src["TotalAmt"]))
        assert applied + rec.unapplied == rec.amount + credits
    with store.sessions.begin() as s:
        org_id = ensure_org(s, "ref", "quickbooks", NOW).id
        apply_page(s, org_id, Page(payments=tuple(records)), now=NOW)
    with store.sessions() as s:
        stored = s.scalars(select(Payment)).all()
        assert {p.provider_id for p in stored} == {r["Id"] for r in raw}
        pay = next(p for p in stored if p.provider_id == linked[0].provider_id)
        assert [a.invoice_provider_id for a in pay.allocations] == [
            a.invoice_provider_id for a in linked[0].allocations
        ]


def test_recorded_customers_map_with_their_email(store: Store) -> None:
    raw = rows("list-customers.test.json", "Customer")
    records = [mapping.customer(r, "USD") for r in raw]
    with_email = [r for r in raw if r.get("PrimaryEmailAddr", {}).get("Address")]
    assert with_email
    single = rows("get-customer.test.json", "Customer")
    for rec, src in zip(
        [*records, *(mapping.customer(r, "USD") for r in single)], [*raw, *single], strict=True
    ):
        assert rec.name == src["DisplayName"]
        assert rec.email == (src.get("PrimaryEmailAddr") or {}).get("Address")
    with store.sessions.begin() as s:
        org_id = ensure_org(s, "ref", "quickbooks", NOW).id
        apply_page(s, org_id, Page(customers=tuple(records)), now=NOW)
    with store.sessions() as s:
        assert len(s.scalars(select(Customer)).all()) == len({r["Id"] for r in raw})


def test_recorded_writes_map_too() -> None:
    for name in ("create-invoice.test.json", "update-invoice.test.json", "send-invoice.test.json"):
        for response in responses(name):
            rec = mapping.invoice(response["Invoice"], "USD")
            assert rec.provider_id == response["Invoice"]["Id"]
    sent = next(responses("send-invoice.test.json"))["Invoice"]
    assert sent["EmailStatus"] == "EmailSent"


def test_floats_are_refused() -> None:
    raw = json.loads((RECORDED / "get-invoice.test.json").read_text(encoding="utf-8"))
    invoice = next(iter(next(iter(raw["api"].values())).values()))["response"]["Invoice"]
    with pytest.raises(mapping.MappingError, match="float"):
        mapping.invoice(invoice | {"Balance": 10.5}, "USD")
