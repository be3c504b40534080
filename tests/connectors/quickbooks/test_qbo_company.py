"""fetch_records, company_info, preflight and the customer profile (types, country, business
flag) against the QuickBooks sandbox over HTTP. Connector-level: a SQLite store only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.base import CustomerRecord, EntityKind, FindingSeverity
from connectors.kit.countries import to_alpha2
from connectors.quickbooks import mapping

from .conftest import Bench, make_bench


def _bench_with(tmp_path: Path, **options: Any) -> Iterator[Bench]:
    return make_bench(tmp_path, f"sqlite:///{tmp_path / 's.db'}", invoices=8, seed=2, **options)


def test_fetch_records_reads_many_in_chunked_queries_and_reports_missing_as_deletions(
    lite: Bench,
) -> None:
    truth = lite.sandbox.control.truth()
    live = [t["id"] for t in truth["invoices"] if t["status"] != "deleted"]
    deleted = [t["id"] for t in truth["invoices"] if t["status"] == "deleted"]
    assert deleted, "the seed deletes a few invoices"
    connector = lite.connector()
    before = len(lite.sandbox.control.requests())
    page = connector.fetch_records(EntityKind.INVOICES, [*live, *deleted, "999999"])
    queries = lite.sandbox.control.requests()[before:]
    assert sorted(i.provider_id for i in page.invoices) == sorted(live)
    assert sorted(d.provider_id for d in page.deletions) == sorted([*deleted, "999999"])
    assert page.cursor is None
    # 160 invoices: two IN lists of at most 100, not one read per invoice.
    assert len(live) > 100
    assert [q["path"].rsplit("/", 1)[-1] for q in queries if "/v3/" in q["path"]] == ["query"] * 2


def test_fetch_records_finds_payments_and_credit_memos_and_inactive_customers(
    lite: Bench,
) -> None:
    truth = lite.sandbox.control.truth()
    payment_ids = [p["id"] for p in truth["payments"]][:3]
    memo_ids = [c["id"] for c in truth["credit_memos"]][:2]
    connector = lite.connector()
    page = connector.fetch_records(EntityKind.PAYMENTS, [*payment_ids, *memo_ids])
    assert sorted(p.provider_id for p in page.payments) == sorted([*payment_ids, *memo_ids])
    assert page.deletions == ()
    inactive = [c["id"] for c in truth["customers"] if not c["active"]]
    assert inactive, "the seed deactivates some customers"
    customers = connector.fetch_records(EntityKind.CUSTOMERS, inactive).customers
    assert [c.provider_id for c in customers] == inactive and not customers[0].active


def test_fetch_records_never_puts_a_foreign_string_into_a_query(lite: Bench) -> None:
    page = lite.connector().fetch_records(EntityKind.INVOICES, ["1') OR ('1"])
    assert page.invoices == () and page.deletions == ()
    assert "not a QuickBooks id" in page.skipped[0].reason


def test_company_info_comes_from_the_companyinfo_entity(lite: Bench) -> None:
    info = lite.connector().company_info()
    assert info.name == "Harbor Lane Creative LLC"
    assert info.legal_name == "Harbor Lane Creative, LLC"
    assert info.email == "accounts@harborlanecreative.example"
    assert info.country == "US" and info.base_currency == "USD"
    assert info.address[0] == "2500 Garcia Ave" and info.phone


def test_customers_carry_type_names_country_phone_address_and_business_flag(
    lite: Bench,
) -> None:
    connector = lite.connector()
    customers: list[CustomerRecord] = [
        c for page in connector.backfill(EntityKind.CUSTOMERS, None) for c in page.customers
    ]
    raw_by_id = {c["Id"]: c for c in lite.sandbox.company.entities["Customer"].values()}
    typed = [c for c in customers if raw_by_id[c.provider_id].get("CustomerTypeRef")]
    assert typed and len(typed) < len(customers)
    type_names = {"Commercial", "Residential", "Government", "Non-profit", "Trade partner"}
    for record in customers:
        raw = raw_by_id[record.provider_id]
        if raw.get("CustomerTypeRef"):
            assert len(record.groups) == 1 and record.groups[0] in type_names
        else:
            assert record.groups == ()
        assert record.is_business is (True if raw.get("CompanyName") else None)
        assert record.phone == raw["PrimaryPhone"]["FreeFormNumber"]
        assert record.address[0] == raw["BillAddr"]["Line1"]
        assert record.country == to_alpha2(raw["BillAddr"].get("Country"))
    assert {c.country for c in customers} >= {"US", None}
    # One page of customers, and CustomerType's names read once for all of them.
    queries = [r for r in lite.sandbox.control.requests() if r["path"].endswith("/query")]
    assert len(queries) == 2


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("USA", "US"),
        ("United States", "US"),
        ("us", "US"),
        ("UK", "GB"),
        ("England", "GB"),
        ("Deutschland", "DE"),
        ("Canada", "CA"),
        ("  ", None),
        ("Atlantis", None),
        ("ZZ", None),
    ],
)
def test_typed_countries_map_to_iso_alpha2(typed: str, expected: str | None) -> None:
    assert to_alpha2(typed) == expected


def test_business_flag_rule() -> None:
    assert mapping.is_business({"CompanyName": "Oak Law LLC"}) is True
    assert mapping.is_business({"CompanyName": "  "}) is None
    assert mapping.is_business({"GivenName": "Amy"}) is None


def _findings(bench: Bench) -> dict[str, tuple[FindingSeverity, str]]:
    return {f.check: (f.severity, f.detail) for f in bench.connector().preflight()}


def test_preflight_accepts_the_configured_late_fee_item(lite: Bench) -> None:
    findings = _findings(lite)
    assert {s for s, _ in findings.values()} == {FindingSeverity.OK}
    assert "Late Fee" in findings["late_fee_item"][1]
    assert set(findings) == {"connection", "late_fee_item", "late_fee_tax_code", "reminder_channel"}
    writes = [
        r for r in lite.sandbox.control.requests() if "/v3/" in r["path"] and r["method"] == "POST"
    ]
    assert all(r["path"].endswith("/query") for r in writes), "pre-flight writes nothing"


@pytest.mark.parametrize(
    ("item", "words"),
    [
        ("404", "names no item"),
        ("11", "inactive"),
        ("7", "Inventory item"),
        ("12", "Group item"),
    ],
)
def test_preflight_refuses_unusable_late_fee_items(tmp_path: Path, item: str, words: str) -> None:
    for bench in _bench_with(tmp_path, late_fee_item_id=item):
        severity, detail = _findings(bench)["late_fee_item"]
        assert severity is FindingSeverity.ERROR
        assert words in detail and f'late_fee_item_id = "{item}"' in detail


def test_preflight_refuses_a_non_us_tax_code_in_a_us_company(tmp_path: Path) -> None:
    for bench in _bench_with(tmp_path, late_fee_tax_code_id="2"):
        severity, detail = _findings(bench)["late_fee_tax_code"]
        assert severity is FindingSeverity.ERROR and '"TAX" or "NON"' in detail
