"""Kept record texts never go stale: every page read after a write equals a fresh render.

The sandbox keeps each record's JSON text between writes (rendercache.py).  Each test reads
pages over HTTP (so the texts get kept), changes something that reaches records other than
the one written (a payment reaches its invoice and its contact's balances, a contact edit the
invoices, payments and credit notes that embed the contact...), reads again, and compares
every record served with what the render functions give for the organisation as it now is.
"""

from __future__ import annotations

import json
import urllib.request
from datetime import timedelta
from typing import Any

from connectors.xero.sandbox.render import (
    contact_json,
    credit_note_json,
    invoice_json,
    payment_json,
    receivable_balances,
)
from connectors.xero.sandbox.rendercache import RenderCache

PAGED = {"page": "1", "pageSize": "1000"}


def _get(session, collection: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    query = "&".join(f"{k}={v}" for k, v in (params or PAGED).items())
    request = urllib.request.Request(
        f"{session.sandbox.api_url}/{collection}?{query}",
        headers={
            "Authorization": f"Bearer {session.token['access_token']}",
            "xero-tenant-id": session.tenant_id,
            "Accept": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        rows: list[dict[str, Any]] = json.loads(resp.read())[collection]
    return rows


def _fresh(org, collection: str, row: dict[str, Any], summary: bool = False) -> Any:  # type: ignore[no-untyped-def]
    """What the render functions give for ``row``'s record now (round-tripped through JSON)."""
    if collection == "Invoices":
        mode = "summary" if summary else "list"
        value = invoice_json(org, org.invoices[row["InvoiceID"]], mode)
    elif collection == "Payments":
        value = payment_json(org, org.payments[row["PaymentID"]])
    elif collection == "CreditNotes":
        value = credit_note_json(org, org.credit_notes[row["CreditNoteID"]])
    else:
        contact = org.contacts[row["ContactID"]]
        owed = receivable_balances(org, org.clock.now().date())
        value = contact_json(contact, owed.get(contact.contact_id) if contact.is_customer else None)
    return json.loads(json.dumps(value))


def _assert_fresh(session, *collections: str) -> None:  # type: ignore[no-untyped-def]
    org = session.sandbox.org
    for collection in collections or ("Contacts", "Invoices", "Payments", "CreditNotes"):
        rows = _get(session, collection)
        assert rows, collection
        for row in rows:
            assert row == _fresh(org, collection, row), (collection, row)


def _read_all_twice(session) -> None:  # type: ignore[no-untyped-def]
    for _ in range(2):
        for collection in ("Contacts", "Invoices", "Payments", "CreditNotes"):
            _get(session, collection)


def _open_invoice(session) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    truth = session.control.truth()
    return next(
        i
        for i in truth["invoices"]
        if i["status"] == "AUTHORISED" and i["amount_paid"] in ("0", "0.00")
    )


def test_a_payment_reaches_its_invoice_and_the_contact_balances(session) -> None:  # type: ignore[no-untyped-def]
    _read_all_twice(session)
    inv = _open_invoice(session)
    before = next(r for r in _get(session, "Invoices") if r["InvoiceID"] == inv["invoice_id"])
    session.control.add_payment(inv["invoice_id"], "1.00")
    after = next(r for r in _get(session, "Invoices") if r["InvoiceID"] == inv["invoice_id"])
    assert after["AmountDue"] != before["AmountDue"]
    assert len(after["Payments"]) == len(before["Payments"]) + 1
    _assert_fresh(session)


def test_a_contact_edit_reaches_every_record_that_embeds_it(session) -> None:  # type: ignore[no-untyped-def]
    _read_all_twice(session)
    payments = _get(session, "Payments")
    contact_id = payments[0]["Invoice"]["Contact"]["ContactID"]
    session.control.edit_contact(contact_id, name="Renamed Ltd <&> \u00e9")
    embedded = [
        p["Invoice"]["Contact"]["Name"]
        for p in _get(session, "Payments")
        if p["Invoice"]["Contact"]["ContactID"] == contact_id
    ]
    assert embedded and set(embedded) == {"Renamed Ltd <&> \u00e9"}
    _assert_fresh(session)


def test_api_writes_and_raw_fields_show_at_once(session) -> None:  # type: ignore[no-untyped-def]
    _read_all_twice(session)
    org = session.sandbox.org
    inv = {
        "invoice_id": next(
            i.invoice_id
            for i in org.invoices.values()
            if i.type == "ACCREC"
            and i.status == "AUTHORISED"
            and not i.sent_to_contact
            and org.contacts[i.contact_id].email_recipients()
        )
    }
    session.api.email_invoice(session.tenant_id, inv["invoice_id"], {})
    row = next(r for r in _get(session, "Invoices") if r["InvoiceID"] == inv["invoice_id"])
    assert row["SentToContact"] is True
    session.control.raw_invoice(inv["invoice_id"], Reference=None, Future=7)
    row = next(r for r in _get(session, "Invoices") if r["InvoiceID"] == inv["invoice_id"])
    assert "Reference" not in row and row["Future"] == 7
    session.control.void_invoice(_open_invoice(session)["invoice_id"])
    _assert_fresh(session)


def test_summary_and_contact_pages_follow_the_date(session) -> None:  # type: ignore[no-untyped-def]
    """A contact's Overdue depends on today: a new day is never served yesterday's text."""
    _read_all_twice(session)
    _get(session, "Invoices", {"page": "1", "summaryOnly": "true"})
    session.control.advance(timedelta(days=45).total_seconds())
    session.api_client.refresh_oauth2_token()  # the access token aged out too
    _assert_fresh(session, "Contacts")
    org = session.sandbox.org
    for row in _get(session, "Invoices", {"page": "1", "summaryOnly": "true"}):
        assert row == _fresh(org, "Invoices", row, summary=True)


def test_deleting_a_payment_and_a_credit_allocation_show_at_once(session) -> None:  # type: ignore[no-untyped-def]
    _read_all_twice(session)
    truth = session.control.truth()
    paid = next(p for p in truth["payments"] if p["status"] == "AUTHORISED")
    session.control.delete_payment(paid["payment_id"])
    _assert_fresh(session)


def test_kept_texts_are_bounded_and_a_render_overtaken_by_a_write_is_not_kept() -> None:
    cache = RenderCache(max_texts=3)
    rendered: list[object] = []

    def render(key: object) -> dict[str, object]:
        rendered.append(key)
        return {"key": str(key)}

    for key in range(5):
        assert cache.text(cache.generation, key, lambda k=key: render(k)) == (b'{"key":"%d"}' % key)
    rendered.clear()
    for key in (4, 3, 2, 0):  # the three newest were kept, the two oldest dropped
        cache.text(cache.generation, key, lambda k=key: render(k))
    assert rendered == [0]

    started = cache.generation
    cache.written()  # a write lands while a reader renders from the old state
    cache.text(started, "late", lambda: render("stale"))
    rendered.clear()
    assert cache.text(cache.generation, "late", lambda: render("fresh")) == b'{"key":"fresh"}'
    assert rendered == ["fresh"]
