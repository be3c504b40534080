"""Query language through the real SDK: paging, filters, ordering, counts, faults."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from quickbooks import QuickBooks
from quickbooks.exceptions import ValidationException
from quickbooks.objects.creditmemo import CreditMemo
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.payment import Payment

from connectors.quickbooks.sandbox import QuickBooksSandbox

from .conftest import NOW, make_client


def _live_invoices(truth: dict) -> dict[str, dict]:
    return {i["id"]: i for i in truth["invoices"] if i["status"] != "deleted"}


def test_paging_over_several_pages_equals_truth(insecure_transport: None) -> None:
    with QuickBooksSandbox(seed=11, invoices=1150, now=NOW) as sb:
        qb = make_client(sb)
        seen: dict[str, Invoice] = {}
        pages = 0
        start = 1
        while True:
            page = Invoice.all(order_by="Id", start_position=start, max_results=1000, qb=qb)
            if not page:
                break
            pages += 1
            for inv in page:
                assert inv.Id not in seen
                seen[inv.Id] = inv
            start += len(page)
        truth = _live_invoices(sb.control.truth())
        assert pages == 2
        assert set(seen) == set(truth)
        for inv_id, inv in seen.items():
            assert Decimal(str(inv.Balance)).quantize(Decimal("0.01")) == Decimal(
                truth[inv_id]["balance"]
            )
            assert inv.SyncToken == truth[inv_id]["sync_token"]


def test_response_envelope_matches_qbo(sandbox: QuickBooksSandbox, qb: QuickBooks) -> None:
    raw = qb.query("SELECT * FROM Invoice STARTPOSITION 3 MAXRESULTS 7")
    body = raw["QueryResponse"]
    assert body["startPosition"] == 3
    assert body["maxResults"] == 7 == len(body["Invoice"])
    assert isinstance(raw["time"], str) and raw["time"][-6] in "+-"
    empty = qb.query("SELECT * FROM Invoice WHERE DocNumber = 'no-such-number'")
    assert "Invoice" not in empty["QueryResponse"]
    assert Invoice.where("DocNumber = 'no-such-number'", qb=qb) == []


def test_maxresults_above_cap_is_clamped(qb: QuickBooks, sandbox: QuickBooksSandbox) -> None:
    total = len(_live_invoices(sandbox.control.truth()))
    body = qb.query("select * from invoice maxresults 5000")["QueryResponse"]
    assert body["maxResults"] == min(total, 1000)


def test_where_filters_match_truth(qb: QuickBooks, sandbox: QuickBooksSandbox) -> None:
    truth = _live_invoices(sandbox.control.truth())
    open_ids = {i.Id for i in Invoice.where("Balance > '0'", max_results=1000, qb=qb)}
    assert open_ids == {k for k, v in truth.items() if Decimal(v["balance"]) > 0}
    assert open_ids  # the seed has open invoices

    some = sorted(truth.values(), key=lambda i: i["txn_date"])[len(truth) // 2]
    since = some["txn_date"]
    recent = Invoice.where(f"TxnDate >= '{since}' AND Balance = '0'", max_results=1000, qb=qb)
    expected = {
        k for k, v in truth.items() if v["txn_date"] >= since and Decimal(v["balance"]) == 0
    }
    assert {i.Id for i in recent} == expected

    customer_id = some["customer_id"]
    mine = Invoice.filter(CustomerRef=customer_id, max_results=1000, qb=qb)
    assert {i.Id for i in mine} == {k for k, v in truth.items() if v["customer_id"] == customer_id}

    picks = [v["doc_number"] for v in list(truth.values())[:3]]
    chosen = Invoice.choose(picks, field="DocNumber", qb=qb)
    assert sorted(i.DocNumber for i in chosen) == sorted(picks)

    by_id = Invoice.where(f"Id = '{some['id']}'", qb=qb)
    assert [i.Id for i in by_id] == [some["id"]]


def test_metadata_datetime_filter_with_offset(qb: QuickBooks, sandbox: QuickBooksSandbox) -> None:
    truth = _live_invoices(sandbox.control.truth())
    # Offsets differ across DST, so compare instants, not strings.
    stamps = sorted(datetime.fromisoformat(v["last_updated"]) for v in truth.values())
    pivot = stamps[len(stamps) // 2]
    rows = Invoice.where(
        f"MetaData.LastUpdatedTime >= '{pivot.isoformat()}'",
        order_by="MetaData.LastUpdatedTime ASC",
        max_results=1000,
        qb=qb,
    )
    got = [datetime.fromisoformat(r.MetaData.LastUpdatedTime) for r in rows]
    assert got == sorted(got)
    assert len(rows) == sum(1 for s in stamps if s >= pivot)


def test_order_by_both_spellings_and_desc(qb: QuickBooks) -> None:
    asc = qb.query("SELECT * FROM Invoice ORDER BY TotalAmt ASC MAXRESULTS 50")["QueryResponse"]
    desc = qb.query("SELECT * FROM Invoice ORDERBY TotalAmt DESC MAXRESULTS 50")["QueryResponse"]
    asc_amounts = [Decimal(str(r["TotalAmt"])) for r in asc["Invoice"]]
    desc_amounts = [Decimal(str(r["TotalAmt"])) for r in desc["Invoice"]]
    assert asc_amounts == sorted(asc_amounts)
    assert desc_amounts == sorted(desc_amounts, reverse=True)
    everything = [Decimal(str(i.TotalAmt)) for i in Invoice.all(max_results=1000, qb=qb)]
    assert asc_amounts == sorted(everything)[:50]
    assert desc_amounts == sorted(everything, reverse=True)[:50]


def test_count(qb: QuickBooks, sandbox: QuickBooksSandbox) -> None:
    truth = sandbox.control.truth()
    live = _live_invoices(truth)
    assert Invoice.count(qb=qb) == len(live)
    assert Invoice.count("Balance > '0'", qb=qb) == sum(
        1 for v in live.values() if Decimal(v["balance"]) > 0
    )
    raw = qb.query("SELECT COUNT(*) FROM Payment")
    assert raw["QueryResponse"] == {"totalCount": len(truth["payments"])}


def test_customers_default_to_active_only(qb: QuickBooks, sandbox: QuickBooksSandbox) -> None:
    truth = sandbox.control.truth()["customers"]
    inactive = {c["id"] for c in truth if not c["active"]}
    assert inactive, "seed should contain an inactive customer"
    default = {c.Id for c in Customer.all(max_results=1000, qb=qb)}
    assert default == {c["id"] for c in truth if c["active"]}
    everyone = Customer.where("Active IN (true, false)", max_results=1000, qb=qb)
    assert {c.Id for c in everyone} == {c["id"] for c in truth}
    active = next(c for c in truth if c["active"] and "'" not in c["display_name"])
    prefix = active["display_name"][:4]
    like = Customer.where(f"DisplayName LIKE '{prefix}%'", qb=qb)
    assert active["id"] in {c.Id for c in like}
    assert all(c.DisplayName.lower().startswith(prefix.lower()) for c in like)


def test_deleted_never_appear_voided_do(qb: QuickBooks, sandbox: QuickBooksSandbox) -> None:
    truth = sandbox.control.truth()["invoices"]
    deleted = {i["id"] for i in truth if i["status"] == "deleted"}
    voided = {i["id"] for i in truth if i["status"] == "voided"}
    assert deleted and voided
    listed = {i.Id for i in Invoice.all(max_results=1000, qb=qb)}
    assert not (deleted & listed)
    assert voided <= listed
    for inv_id in voided:
        inv = Invoice.get(inv_id, qb=qb)
        assert inv.TotalAmt == 0 and inv.Balance == 0
        assert inv.PrivateNote.startswith("Voided")


def test_credit_memos_and_payments_query(qb: QuickBooks, sandbox: QuickBooksSandbox) -> None:
    truth = sandbox.control.truth()
    memos = CreditMemo.all(max_results=1000, qb=qb)
    assert {m.Id for m in memos} == {m["id"] for m in truth["credit_memos"]}
    payments = Payment.where("TotalAmt >= '0'", max_results=1000, qb=qb)
    assert {p.Id for p in payments} == {p["id"] for p in truth["payments"]}


@pytest.mark.parametrize(
    ("statement", "code"),
    [
        ("SELECT * FROM Invoice WHERE", "4000"),
        ("SELECT * FROM Invoice WHERE Balance > '0' OR TotalAmt > '1'", "4000"),
        ("SELEKT * FROM Invoice", "4000"),
        ("SELECT * FROM Invoice WHERE NoSuchField = '1'", "4001"),
        ("SELECT * FROM Invoice ORDER BY Bogus", "4001"),
        ("SELECT * FROM Widget", "4001"),
    ],
)
def test_bad_queries_are_validation_faults(qb: QuickBooks, statement: str, code: str) -> None:
    with pytest.raises(ValidationException) as info:
        qb.query(statement)
    assert info.value.error_code == int(code)
