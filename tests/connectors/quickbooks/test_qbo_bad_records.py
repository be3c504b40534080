"""Hostile provider records: each is mapped or skipped with its reason, never crashing a page.

The records are planted in the sandbox company (as a broken integration or a data import
would leave them) and pulled over HTTP by the real connector, then committed by the Syncer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from connectors.base import EntityKind, Page
from connectors.quickbooks import mapping
from syncd.store.models import Invoice

from .conftest import Bench
from .test_qbo_connector_writes import qbo

JSON = dict[str, Any]


def _open_invoice(bench: Bench, index: int = 0) -> JSON:
    truth = bench.sandbox.control.truth()["invoices"]
    ids = [t["id"] for t in truth if t["status"] == "open" and t["currency"] == "USD"]
    return bench.sandbox.company.entities["Invoice"][ids[index]]


def _pull(bench: Bench, entity: EntityKind) -> list[Page]:
    return list(qbo(bench).backfill(entity, None))


def _outcome(pages: list[Page], provider_id: str) -> tuple[str, Any]:
    for page in pages:
        for record in (*page.invoices, *page.payments, *page.customers):
            if record.provider_id == provider_id:
                return "mapped", record
        for skipped in page.skipped:
            if skipped.provider_id == provider_id:
                return "skipped", skipped.reason
    raise AssertionError(f"{provider_id} neither mapped nor skipped")


INVOICE_CASES: list[tuple[str, Callable[[JSON], None], str, str]] = [
    ("no due date", lambda i: i.pop("DueDate"), "mapped", "due = TxnDate"),
    (
        "no dates at all",
        lambda i: (i.pop("DueDate"), i.pop("TxnDate")),
        "skipped",
        "neither DueDate nor TxnDate",
    ),
    ("no customer", lambda i: i.pop("CustomerRef"), "skipped", "CustomerRef is missing"),
    ("unknown currency", lambda i: i.update(CurrencyRef={"value": "XYZ"}), "skipped", "ISO 4217"),
    ("lower-case currency", lambda i: i.update(CurrencyRef={"value": "usd"}), "skipped", "ISO"),
    (
        "negative total",
        lambda i: i.update(TotalAmt=Decimal("-50.00"), Balance=Decimal("0")),
        "skipped",
        "TotalAmt is negative",
    ),
    (
        "negative balance",
        lambda i: i.update(Balance=Decimal("-1.00")),
        "skipped",
        "Balance is negative",
    ),
    (
        "enormous amounts",
        lambda i: i.update(TotalAmt=Decimal("1E+15"), Balance=Decimal("1E+15")),
        "skipped",
        "beyond any real invoice",
    ),
    (
        "sub-cent precision beyond the store",
        lambda i: i.update(Balance=Decimal("1.0000001")),
        "skipped",
        "decimal places",
    ),
    ("lines not a list", lambda i: i.update(Line=42), "skipped", "unexpected shape"),
    (
        "HTML and Unicode in the number",
        lambda i: i.update(DocNumber="<script>x</script>Ω\x00"),
        "mapped",
        "<script>x</script>Ω",
    ),
]


@pytest.mark.parametrize(
    ("case", "damage", "expected", "detail"),
    INVOICE_CASES,
    ids=[c[0] for c in INVOICE_CASES],
)
def test_a_bad_invoice_is_mapped_or_skipped_and_the_page_survives(
    lite: Bench, case: str, damage: Callable[[JSON], None], expected: str, detail: str
) -> None:
    target = _open_invoice(lite)
    damage(target)
    pages = _pull(lite, EntityKind.INVOICES)
    outcome, value = _outcome(pages, target["Id"])
    assert outcome == expected
    if expected == "skipped":
        assert detail in value and value.startswith("Invoice: ")
    elif case == "no due date":
        assert value.due_date == date.fromisoformat(target["TxnDate"])
    else:
        assert value.number == detail
    mapped = sum(len(p.invoices) for p in pages)
    live = len(lite.sandbox.company.entities["Invoice"])
    assert mapped == live - (1 if expected == "skipped" else 0)


def test_bad_customers_are_mapped_verbatim_or_skipped(lite: Bench) -> None:
    customers = list(lite.sandbox.company.entities["Customer"].values())
    html, no_email, nameless, bad_currency = customers[:4]
    html["DisplayName"] = '<b onmouseover="x">Zoë & Søn</b> 株式会社\x07'
    no_email.pop("PrimaryEmailAddr", None)
    for key in ("DisplayName", "CompanyName", "FullyQualifiedName"):
        nameless[key] = "  "
    bad_currency["CurrencyRef"] = {"value": "ZZZ"}
    pages = _pull(lite, EntityKind.CUSTOMERS)
    assert _outcome(pages, html["Id"])[1].name == '<b onmouseover="x">Zoë & Søn</b> 株式会社'
    assert _outcome(pages, no_email["Id"])[1].email is None
    assert _outcome(pages, nameless["Id"]) == ("skipped", "Customer: customer has no DisplayName")
    assert "ISO 4217" in _outcome(pages, bad_currency["Id"])[1]


def test_bad_payments_are_skipped_with_their_reason(lite: Bench) -> None:
    payments = list(lite.sandbox.company.entities["Payment"].values())
    negative, unapplied = payments[:2]
    negative["TotalAmt"] = Decimal("-10.00")
    unapplied["UnappliedAmt"] = Decimal("-3.00")
    pages = _pull(lite, EntityKind.PAYMENTS)
    assert "TotalAmt is negative" in _outcome(pages, negative["Id"])[1]
    assert "UnappliedAmt is negative" in _outcome(pages, unapplied["Id"])[1]


def test_the_syncer_commits_the_good_records_around_the_bad_ones(bench: Bench) -> None:
    broken = _open_invoice(bench, 0)
    broken["CurrencyRef"] = {"value": "XYZ"}
    enormous = _open_invoice(bench, 1)
    enormous.update(TotalAmt=Decimal("1E+15"), Balance=Decimal("1E+15"))
    report = bench.syncer().backfill()
    assert report.result.skipped == 2
    truth = bench.sandbox.control.truth()["invoices"]
    with bench.store.sessions() as s:
        stored = set(s.scalars(select(Invoice.provider_id)))
    expected = {t["id"] for t in truth if t["status"] != "deleted"} - {
        broken["Id"],
        enormous["Id"],
    }
    assert stored == expected


def test_text_cleaning_keeps_html_and_unicode_but_drops_control_characters() -> None:
    assert mapping.clean_text("A\x00B\x1b C <i>é</i>\t") == "AB C <i>é</i>"
