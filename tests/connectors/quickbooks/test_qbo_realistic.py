"""Real companies' invoices: sales tax, tax codes on every line outside the US, description-only,
discount and bundle lines; fees on them; a UK company end to end."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.base import EntityKind, FindingSeverity, LateFee, PermanentError
from tests.support.quickbooks_truth import mismatches

from .conftest import Bench, make_bench
from .test_qbo_connector_writes import qbo


def _kinds(raw: dict[str, Any]) -> set[str]:
    return {line.get("DetailType") for line in raw["Line"]}


def _uk(tmp_path: Path, store_url: str, **options: Any) -> Iterator[Bench]:
    return make_bench(
        tmp_path,
        store_url,
        invoices=80,
        seed=8,
        sandbox_options={"country": "GB"},
        home_currency="GBP",
        **options,
    )


def test_every_seeded_invoice_maps_whatever_its_lines(lite: Bench) -> None:
    pages = list(qbo(lite).backfill(EntityKind.INVOICES, None))
    assert [s for p in pages for s in p.skipped] == []
    records = {i.provider_id: i for p in pages for i in p.invoices}
    raw = {i["Id"]: i for i in lite.sandbox.company.entities["Invoice"].values()}
    seen: set[str] = set()
    for invoice_id, record in records.items():
        payload = raw[invoice_id]
        seen |= _kinds(payload)
        tax = Decimal(str(payload["TxnTaxDetail"]["TotalTax"]))
        # Lines (discounts negative, bundles by their inner lines) plus tax make the total.
        assert sum(line.amount for line in record.lines) + tax == record.total, invoice_id
    assert {"DescriptionOnly", "DiscountLineDetail", "GroupLineDetail"} <= seen
    taxed = [i for i in raw.values() if i["TxnTaxDetail"]["TotalTax"] > 0]
    assert taxed and all("TaxLine" in i["TxnTaxDetail"] for i in taxed)


def test_a_fee_goes_onto_an_invoice_with_bundle_discount_and_description_lines(
    lite: Bench,
) -> None:
    truth = {t["id"]: t for t in lite.sandbox.control.truth()["invoices"]}
    target = next(
        i
        for i in lite.sandbox.company.entities["Invoice"].values()
        if truth[i["Id"]]["status"] == "open"
        and i["CurrencyRef"]["value"] == "USD"
        and len(_kinds(i) & {"DescriptionOnly", "DiscountLineDetail", "GroupLineDetail"}) >= 1
    )
    before = Decimal(str(target["Balance"]))
    kinds = _kinds(target)
    result = qbo(lite).add_charge(
        target["Id"], LateFee(Decimal("20.00"), "USD", "Late fee"), idempotency_key="r:1:fee"
    )
    assert result.invoice is not None and result.invoice.balance == before + Decimal("20.00")
    after = lite.sandbox.company.entities["Invoice"][target["Id"]]
    assert _kinds(after) == kinds  # nothing of the user's invoice was lost on the way
    fee_line = [ln for ln in after["Line"] if "[syncd:r:1:fee]" in str(ln.get("Description"))]
    assert fee_line[0]["SalesItemLineDetail"]["TaxCodeRef"] == {"value": "NON"}


def test_uk_company_backfill_and_sync_equal_truth(tmp_path: Path, store_url: str) -> None:
    for bench in _uk(tmp_path, store_url, late_fee_tax_code_id="12"):
        bench.syncer().backfill()
        bench.sandbox.control.advance_clock(seconds=120)
        open_id = next(
            t["id"] for t in bench.sandbox.control.truth()["invoices"] if t["status"] == "open"
        )
        bench.sandbox.control.add_payment([{"invoice_id": open_id, "amount": "1.00"}])
        bench.syncer().sync()
        with bench.store.sessions() as s:
            assert mismatches(s, bench.sandbox.control.truth()) == []
        info = bench.connector().company_info()
        assert info.country == "GB" and info.base_currency == "GBP"


def _open_gbp(bench: Bench) -> str:
    return next(
        t["id"]
        for t in bench.sandbox.control.truth()["invoices"]
        if t["status"] == "open" and t["currency"] == "GBP"
    )


def test_uk_company_refuses_a_fee_line_without_a_tax_code(tmp_path: Path) -> None:
    for bench in _uk(tmp_path, f"sqlite:///{tmp_path / 's.db'}"):
        invoice_id = _open_gbp(bench)
        fee = LateFee(Decimal("40.00"), "GBP", "Late payment fee")
        with pytest.raises(PermanentError, match="VAT rate"):
            qbo(bench).add_charge(invoice_id, fee, idempotency_key="r:2:fee")
        findings = {f.check: f for f in bench.connector().preflight()}
        tax = findings["late_fee_tax_code"]
        assert tax.severity is FindingSeverity.ERROR and "late_fee_tax_code_id" in tax.detail


def test_uk_company_fee_carries_the_configured_tax_code(tmp_path: Path) -> None:
    for bench in _uk(tmp_path, f"sqlite:///{tmp_path / 's.db'}", late_fee_tax_code_id="12"):
        invoice_id = _open_gbp(bench)
        fee = LateFee(Decimal("40.00"), "GBP", "Late payment fee")
        result = qbo(bench).add_charge(invoice_id, fee, idempotency_key="r:3:fee")
        assert result.invoice is not None
        line = bench.sandbox.company.entities["Invoice"][invoice_id]["Line"][-2]
        assert line["SalesItemLineDetail"]["TaxCodeRef"] == {"value": "12"}
        findings = {f.check: f.severity for f in bench.connector().preflight()}
        assert set(findings.values()) == {FindingSeverity.OK}


def test_uk_preflight_refuses_an_inactive_tax_code(tmp_path: Path) -> None:
    for bench in _uk(tmp_path, f"sqlite:///{tmp_path / 's.db'}", late_fee_tax_code_id="9"):
        tax = {f.check: f for f in bench.connector().preflight()}["late_fee_tax_code"]
        assert tax.severity is FindingSeverity.ERROR and "inactive" in tax.detail


def test_books_closed_fee_falls_back_to_a_separate_invoice_once(lite: Bench) -> None:
    truth = lite.sandbox.control.truth()["invoices"]
    target = next(t for t in truth if t["status"] == "open" and t["currency"] == "USD")
    txn_date = lite.sandbox.company.entities["Invoice"][target["id"]]["TxnDate"]
    assert lite.sandbox.control.settings(closing_date=txn_date)["closing_date"] == txn_date
    fee = LateFee(Decimal("20.00"), "USD", "Late fee")
    first = qbo(lite).add_charge(target["id"], fee, idempotency_key="r:4:fee")
    again = qbo(lite).add_charge(target["id"], fee, idempotency_key="r:4:fee")
    assert first.detail and first.detail.startswith("fee invoice for")
    assert again.remote_id == first.remote_id and again.detail and "exists" in again.detail
    created = lite.sandbox.control.writes()["invoices_created"]
    assert [c["invoice_id"] for c in created] == [first.remote_id]
    assert lite.sandbox.company.entities["Invoice"][target["id"]]["Balance"] == Decimal(
        target["balance"]
    )
    with pytest.raises(PermanentError, match="closing date"):
        qbo(lite).add_note(target["id"], "Reminder", idempotency_key="r:4:note")
