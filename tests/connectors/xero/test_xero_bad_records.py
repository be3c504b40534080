"""Hostile provider records: each one mapped or skipped with its reason, never failing a page.

The sandbox forces the bad fields into the invoices' JSON (``raw_invoice``) or edits a
contact the way a user could; the connector then backfills through xero-python and the
store holds every good record plus one skipped record, with its reason, per bad one.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from connectors.base import PermanentError
from syncd.store.models import Customer, Invoice, SkippedRecordRow

from .conftest import Bench

HOSTILE_NAME = '<b>Ōtāhuhu</b> & Søn "Ltd" 🚀 <script>alert(1)</script> مرحبا'


def _authorised(bench: Bench, count: int) -> list[dict[str, Any]]:
    rows = [
        t
        for t in bench.truth()["invoices"]
        if t["status"] == "AUTHORISED" and Decimal(t["amount_paid"]) == 0
    ]
    assert len(rows) >= count
    return rows[:count]


@pytest.fixture
def spoiled(bench: Bench) -> dict[str, Any]:
    """Six invoices spoiled in six ways, one contact renamed, one left without email."""
    no_due, no_contact, odd_currency, negative, enormous, renamed = _authorised(bench, 6)
    control = bench.control
    control.raw_invoice(no_due["invoice_id"], DueDate=None, DueDateString=None)
    control.raw_invoice(no_contact["invoice_id"], Contact=None)
    control.raw_invoice(odd_currency["invoice_id"], CurrencyCode="XBT")
    control.raw_invoice(negative["invoice_id"], Total=-50, AmountDue=-50, SubTotal=-50)
    control.raw_invoice(enormous["invoice_id"], Total=1e15, AmountDue=1e15)
    control.edit_contact(renamed["contact_id"], name=HOSTILE_NAME)
    silent = next(c for c in bench.truth()["contacts"] if c["email"])
    control.edit_contact(silent["contact_id"], email="")
    return {
        "no_due": no_due["invoice_id"],
        "no_contact": no_contact["invoice_id"],
        "odd_currency": odd_currency["invoice_id"],
        "negative": negative["invoice_id"],
        "enormous": enormous["invoice_id"],
        "renamed": renamed["contact_id"],
        "silent": silent["contact_id"],
    }


def test_bad_records_are_mapped_or_skipped_with_a_reason(
    bench: Bench, spoiled: dict[str, Any]
) -> None:
    bench.syncer().backfill()
    with bench.store.sessions() as s:
        skipped = {r.provider_id: r.reason for r in s.scalars(select(SkippedRecordRow))}
        invoices = {i.provider_id: i for i in s.scalars(select(Invoice))}
        customers = {c.provider_id: c for c in s.scalars(select(Customer))}
    assert skipped == {
        spoiled["no_contact"]: "invoices: Contact.ContactID is missing",
        spoiled["odd_currency"]: "invoices: CurrencyCode is not an ISO 4217 currency code: 'XBT'",
        spoiled["negative"]: (
            "invoices: a sales invoice with a negative amount (Total -50, AmountDue -50)"
        ),
        spoiled["enormous"]: (
            "invoices: Total 1000000000000000 is beyond any amount syncd accepts (10^12)"
        ),
    }
    for bad in ("no_contact", "odd_currency", "negative", "enormous"):
        assert spoiled[bad] not in invoices
    truth = bench.truth()
    assert len(invoices) == len(truth["invoices"]) - 4, "every other invoice arrived"
    no_due = invoices[spoiled["no_due"]]
    assert no_due.due_date is None and no_due.status == "open"
    assert customers[spoiled["renamed"]].name == HOSTILE_NAME
    assert customers[spoiled["silent"]].email is None


def test_a_fresh_read_of_a_bad_invoice_is_a_permanent_error(
    bench: Bench, spoiled: dict[str, Any]
) -> None:
    connector = bench.connector()
    with pytest.raises(PermanentError, match="negative amount"):
        connector.fetch_invoice(spoiled["negative"])
    record = connector.fetch_invoice(spoiled["no_due"])
    assert record is not None and record.due_date is None


def test_batched_reads_skip_bad_records_and_keep_the_rest(
    bench: Bench, spoiled: dict[str, Any]
) -> None:
    from connectors.base import EntityKind

    ids = [spoiled[k] for k in ("no_due", "no_contact", "odd_currency", "negative", "enormous")]
    page = bench.connector().fetch_records(EntityKind.INVOICES, ids)
    assert [i.provider_id for i in page.invoices] == [spoiled["no_due"]]
    assert {s.provider_id for s in page.skipped} == set(ids[1:])
    assert page.deletions == (), "a skipped record is not a deleted one"
