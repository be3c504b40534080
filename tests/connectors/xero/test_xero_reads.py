"""Batched fresh reads, the organisation's profile and pre-flight checks, against the sandbox."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.base import Deletion, EntityKind, FindingSeverity, PaymentKind
from connectors.xero import contacts

from .conftest import Bench, make_bench


def _ids(rows: list[dict[str, Any]], key: str) -> list[str]:
    return [r[key] for r in rows]


def test_fetch_records_reads_invoices_in_chunks_and_reports_missing_ids(bench: Bench) -> None:
    truth = bench.truth()
    wanted = _ids(truth["invoices"], "invoice_id")[:60]
    ghost = str(uuid.uuid4())
    bench.control.clear_requests()
    page = bench.connector().fetch_records(EntityKind.INVOICES, [*wanted, ghost, "not-a-guid"])
    assert sorted(i.provider_id for i in page.invoices) == sorted(wanted)
    assert all(i.lines for i in page.invoices), "batched reads carry line items"
    assert {(d.entity, d.provider_id) for d in page.deletions} == {
        (EntityKind.INVOICES, ghost),
        (EntityKind.INVOICES, "not-a-guid"),
    }
    assert page.cursor is None
    calls = [r for r in bench.api_requests() if r["path"].endswith("/Invoices")]
    assert len(calls) == 2  # 61 GUIDs in chunks of 50
    by_id = {t["invoice_id"]: t for t in truth["invoices"]}
    for inv in page.invoices:
        assert inv.balance == Decimal(by_id[inv.provider_id]["amount_due"])


def test_fetch_records_reads_payments_and_credit_notes_by_id(bench: Bench) -> None:
    truth = bench.truth()
    payment_ids = _ids(truth["payments"], "payment_id")[:30]
    note_ids = _ids(truth["credit_notes"], "credit_note_id")
    assert note_ids, "the seed has credit notes"
    ghost = str(uuid.uuid4())
    page = bench.connector().fetch_records(EntityKind.PAYMENTS, [*payment_ids, *note_ids, ghost])
    live = {p["payment_id"] for p in truth["payments"][:30] if p["status"] != "DELETED"}
    dead = {p["payment_id"] for p in truth["payments"][:30] if p["status"] == "DELETED"}
    got = {p.provider_id for p in page.payments if p.kind is PaymentKind.PAYMENT}
    assert got == live
    assert {p.provider_id for p in page.payments if p.kind is PaymentKind.CREDIT_NOTE} == set(
        note_ids
    )
    deleted = {d.provider_id: d for d in page.deletions}
    assert set(deleted) == dead | {ghost}
    assert deleted[ghost].kind is None  # a payment or a credit note: both are covered


def test_fetch_records_maps_contact_groups_country_phone_and_business(bench: Bench) -> None:
    sandbox_contacts = bench.sandbox.org.contacts
    ids = [c.contact_id for c in sandbox_contacts.values() if c.is_customer]
    page = bench.connector().fetch_records(EntityKind.CUSTOMERS, ids)
    assert len(page.customers) == len(ids)
    for record in page.customers:
        seeded = sandbox_contacts[record.provider_id]
        assert record.groups == tuple(seeded.groups)
        assert record.country == contacts.country_code(seeded.country)
        assert record.is_business is (True if seeded.tax_number else None)
        assert record.phone is not None and record.phone.startswith("+64 09 ")
        assert record.address[0] == seeded.address[0].strip()
    grouped = [r for r in page.customers if r.groups]
    assert grouped and any("Key accounts" in r.groups for r in grouped)
    assert "NZ" in {r.country for r in page.customers}


def test_fetch_records_of_nothing_makes_no_call(bench: Bench) -> None:
    bench.control.clear_requests()
    page = bench.connector().fetch_records(EntityKind.INVOICES, [])
    assert page == type(page)() and bench.api_requests() == []


def test_company_info_is_the_xero_organisation(bench: Bench) -> None:
    info = bench.connector().company_info()
    assert info.name == "Kowhai Sandbox Trading Ltd"
    assert info.legal_name == "Kowhai Sandbox Trading Limited"
    assert info.country == "NZ" and info.base_currency == "NZD"
    assert info.phone == "+64 09 379 4410"
    assert info.address == (
        "Level 2, 18 Customs Street East",
        "Auckland 1010",
        "New Zealand",
    )


@pytest.mark.parametrize(
    ("options", "check", "needle"),
    [
        ({"late_fee_account_code": "265"}, "late_fee_account_code", "ARCHIVED"),
        ({"late_fee_account_code": "404"}, "late_fee_account_code", "not revenue"),
        ({"late_fee_account_code": "999"}, "late_fee_account_code", "does not exist"),
        ({"late_fee_tax_type": "OUTPUT"}, "late_fee_tax_type", "DELETED"),
        ({"late_fee_tax_type": "INPUT2"}, "late_fee_tax_type", "cannot be used on sales"),
        ({"late_fee_tax_type": "GST15"}, "late_fee_tax_type", "does not exist"),
    ],
)
def test_preflight_names_the_option_to_fix(
    tmp_path: Path, store_url: str, options: dict[str, str], check: str, needle: str
) -> None:
    for bench in make_bench(tmp_path, store_url, **options):
        bench.control.clear_requests()
        findings = bench.connector().preflight()
        errors = [f for f in findings if f.severity is FindingSeverity.ERROR]
        assert [f.check for f in errors] == [check]
        assert needle in errors[0].detail and check in errors[0].detail
        assert {r["method"] for r in bench.api_requests()} == {"GET"}, "pre-flight only reads"


def test_preflight_passes_a_good_configuration(bench: Bench) -> None:
    findings = bench.connector().preflight()
    assert all(f.severity is FindingSeverity.OK for f in findings), findings
    assert {f.check for f in findings} >= {
        "organisation",
        "late_fee_account_code",
        "late_fee_tax_type",
        "reminder_channel",
    }


@pytest.fixture
def au_bench(tmp_path: Path, store_url: str) -> Iterator[Bench]:
    yield from make_bench(tmp_path, store_url, region="AU")


def test_an_australian_org_has_no_none_tax_rate(au_bench: Bench) -> None:
    """The default late_fee_tax_type ("NONE") is refused by an Australian organisation."""
    findings = {f.check: f for f in au_bench.connector().preflight()}
    tax = findings["late_fee_tax_type"]
    assert tax.severity is FindingSeverity.ERROR
    assert "BASEXCLUDED (BAS Excluded)" in tax.detail and "OUTPUT (GST on Income)" in tax.detail


def test_deletion_entries_are_deletions(bench: Bench) -> None:
    ghost = str(uuid.uuid4())
    page = bench.connector().fetch_records(EntityKind.CUSTOMERS, [ghost])
    assert page.deletions and isinstance(page.deletions[0], Deletion)
    assert page.customers == ()
