"""The list texts written directly (render_text.py, render_text_docs.py) equal the dict
rendering's, byte for byte, for every invoice, payment and credit note of organisations of
every region, strict and not, after payments, credit allocations, prepayments, renames and
forced overrides, with the memos kept or emptied; and lists serve them."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connectors.xero.sandbox import XeroSandbox, listing, render_text, render_text_docs
from connectors.xero.sandbox.api import ApiRequest
from connectors.xero.sandbox.errors import dumps
from connectors.xero.sandbox.money import json_number
from connectors.xero.sandbox.render import credit_note_json, invoice_json, payment_json

NOW = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)


def _control(sb: XeroSandbox, method: str, path: str, body: object) -> None:
    reply = sb.dispatcher.control.handle(method, "/_sandbox/" + path, {}, json.dumps(body).encode())
    assert reply.status == 200, reply.body[:200]


def _assert_same(sb: XeroSandbox) -> None:
    org = sb.org
    for forget in (False, True):
        if forget:
            render_text.forget()
        for inv in org.invoices.values():
            assert render_text.invoice_list_text(org, inv) == dumps(invoice_json(org, inv, "list"))
        for pay in org.payments.values():
            assert render_text_docs.payment_text(org, pay) == dumps(payment_json(org, pay))
        for note in org.credit_notes.values():
            assert render_text_docs.credit_note_text(org, note) == dumps(
                credit_note_json(org, note)
            )


@pytest.mark.parametrize(
    ("seed", "region", "strict"),
    [(1, "NZ", False), (2, "AU", True), (3, "UK", False), (4, "US", True)],
)
def test_every_invoice_written_as_the_dicts_give(seed: int, region: str, strict: bool) -> None:
    sb = XeroSandbox(seed=seed, invoices=400, region=region, now=NOW, strict=strict)
    org = sb.org
    _assert_same(sb)
    open_ones = sorted(
        i.invoice_id
        for i in org.invoices.values()
        if i.type == "ACCREC" and i.status == "AUTHORISED"
    )
    _control(sb, "POST", "payments", {"invoice_id": open_ones[0], "amount": "3.33"})
    contact = org.invoices[open_ones[1]].contact_id
    _control(sb, "PATCH", f"contacts/{contact}", {"name": 'Quote " \\ \u00e9 \u2028 \x01 Ltd'})
    _control(sb, "POST", f"raw/invoices/{open_ones[2]}", {"Reference": None, "Future": 7})
    org.invoices[open_ones[3]].sent_to_contact = True
    org.invoices[open_ones[3]].line_items[0].discount_rate = Decimal("12.5")
    org.invoices[open_ones[4]].reference = 12  # type: ignore[assignment]  # not a str: dict way
    payments = sorted(org.payments)
    org.payments[payments[0]].is_reconciled = True
    org.payments[payments[1]].reference = 'Ref " \\ \u00e9'
    # A moment where a day belongs: written as the dicts do (ms_date takes its date part).
    org.payments[payments[2]].date = datetime(2026, 3, 4, 23, 30, tzinfo=UTC)  # type: ignore[assignment]
    note = org.credit_notes[sorted(org.credit_notes)[0]]
    note.line_items[0].quantity = Decimal("0.00001")  # written by repr as 1e-05: json's way
    note.reference = "\u2028\x02"
    _assert_same(sb)


def test_an_amount_of_another_type_goes_the_dict_way() -> None:
    """An int equal to an amount memoised before is not written as that amount's text."""
    sb = XeroSandbox(seed=7, invoices=60, now=NOW)
    org = sb.org
    _assert_same(sb)
    inv = next(i for i in org.invoices.values() if i.line_items)
    inv.line_items[0].tax_type = 5  # type: ignore[assignment]
    assert render_text.invoice_list_text(org, inv) == dumps(invoice_json(org, inv, "list"))
    inv.line_items[0].tax_type = "NONE"
    inv.line_items[0].quantity = 1  # type: ignore[assignment]
    with pytest.raises(AttributeError):  # json_number wants a Decimal, as on main
        render_text.invoice_list_text(org, inv)


def test_list_pages_serve_the_written_text(monkeypatch: pytest.MonkeyPatch) -> None:
    sb = XeroSandbox(seed=6, invoices=200, now=NOW)
    monkeypatch.setattr(listing, "invoice_list_text", lambda org, inv: b'{"Written":1}')

    def rows(params: dict[str, str]) -> list[object]:
        reply = sb.dispatcher.api.handle(ApiRequest("GET", ["Invoices"], params, {}, b""))
        found: list[object] = json.loads(reply.body)["Invoices"]
        return found

    paged = rows({"page": "1", "pagesize": "1000"})
    assert paged == [{"Written": 1}] * len(sb.org.invoices)
    # Other shapes (unpaged lists carry no lines, summaries less) still go the dict way.
    assert {"Written": 1} not in rows({})
    assert {"Written": 1} not in rows({"page": "1", "summaryonly": "true"})


def test_amounts_written_from_their_text_as_json_number_gives() -> None:
    """The short way (trailing zeros dropped) writes what repr of json_number's value does,
    for amounts of any size and scale; what it does not cover goes the exact way."""
    rng = random.Random(19)
    texts = ["0", "-0", "0.00", "-0.00", "1E+2", "1E-7", "0.0001", "0.00001", "-0.0001"]
    texts += ["NaN", "123456789012345.6", "1234567890123456.7", "0.10", "-5.50"]
    for _ in range(20_000):
        digits = rng.randint(1, 18)
        value = Decimal(rng.randint(-(10**digits), 10**digits)).scaleb(-rng.randint(0, 8))
        texts.append(str(value))
    for text in texts:
        value = Decimal(text)
        expected = repr(json_number(value)) if not value.is_nan() else "nan"
        assert render_text._number(str(value)) == expected, text
        # The renderers key amounts by to_eng_string's text (its exponent placed otherwise).
        assert render_text._number(value.to_eng_string()) == expected, text
