"""Paging through the SDK returns exactly the sandbox's truth."""

from __future__ import annotations

from decimal import Decimal

from connectors.xero.sandbox import XeroSandbox


def test_paging_accrec_invoices_equals_truth(new_session, start) -> None:  # type: ignore[no-untyped-def]
    with XeroSandbox(seed=3, invoices=1200, now=start, minute_limit=500) as sandbox:
        session = new_session(sandbox)
        seen: dict[str, object] = {}
        page = 1
        while True:
            result = session.api.get_invoices(
                session.tenant_id,
                where='Type=="ACCREC"',
                order="UpdatedDateUTC ASC",
                page=page,
                page_size=250,
            )
            assert result.pagination.page == page
            assert result.pagination.page_size == 250
            if not result.invoices:
                assert page == result.pagination.page_count + 1
                break
            for inv in result.invoices:
                assert inv.invoice_id not in seen
                seen[inv.invoice_id] = inv
            page += 1
        truth = session.control.truth()["invoices"]
        assert set(seen) == {row["invoice_id"] for row in truth}
        for row in truth:
            inv = seen[row["invoice_id"]]
            assert inv.invoice_number == row["invoice_number"]  # type: ignore[attr-defined]
            assert inv.status == row["status"]  # type: ignore[attr-defined]
            assert inv.currency_code.value == row["currency"]  # type: ignore[attr-defined]
            assert Decimal(str(inv.total)) == Decimal(row["total"])  # type: ignore[attr-defined]
            assert Decimal(str(inv.amount_due)) == Decimal(row["amount_due"])  # type: ignore[attr-defined]
        updated = [seen[i].updated_date_utc for i in seen]  # type: ignore[attr-defined]
        assert updated == sorted(updated)


def test_default_page_size_and_pagination_block(session, raw_get) -> None:  # type: ignore[no-untyped-def]
    first = session.api.get_invoices(session.tenant_id, page=1)
    total = first.pagination.item_count
    assert first.pagination.page_size == 100
    assert len(first.invoices) == min(100, total)
    assert first.invoices[0].line_items, "paged invoices carry line items"
    beyond = session.api.get_invoices(session.tenant_id, page=99)
    assert beyond.invoices == []
    assert beyond.pagination.item_count == total


def test_page_size_is_capped_at_1000(session, raw_get) -> None:  # type: ignore[no-untyped-def]
    body = raw_get(session, "/Invoices", page="1", pageSize="5000").json()
    assert body["pagination"]["pageSize"] == 1000


def test_unpaged_list_has_everything_without_line_items(session, raw_get) -> None:  # type: ignore[no-untyped-def]
    body = raw_get(session, "/Invoices").json()
    assert "pagination" not in body
    assert all("LineItems" not in inv for inv in body["Invoices"])
    paged = session.api.get_invoices(session.tenant_id, page=1, page_size=1000)
    assert len(body["Invoices"]) == paged.pagination.item_count


def test_contacts_and_payments_page(session, raw_get) -> None:  # type: ignore[no-untyped-def]
    truth = session.control.truth()
    contacts = session.api.get_contacts(
        session.tenant_id, page=1, page_size=5, include_archived=True
    )
    assert contacts.pagination.item_count == len(truth["contacts"])
    payments = []
    page = 1
    while True:
        batch = session.api.get_payments(session.tenant_id, page=page, page_size=20).payments
        if not batch:
            break
        payments += batch
        page += 1
    accrec = {p["payment_id"] for p in truth["payments"]}
    got = {p.payment_id for p in payments if p.invoice.type == "ACCREC"}
    assert got == accrec
