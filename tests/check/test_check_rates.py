"""The pre-flight rate check: statutory interest needs a reference rate for every date the
law points at; a gap is reported with the policy and the invoices that need it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from connectors.base import CustomerRecord, FindingSeverity, InvoiceRecord, InvoiceStatus, Page
from policies import preset_policies, validate_settings
from syncd.check import Finding
from syncd.check.store_checks import reference_rates
from syncd.dunning.snapshots import load_inputs
from syncd.store import Store, apply_page, ensure_org

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _invoice(pid: str, due: date, currency: str = "GBP") -> InvoiceRecord:
    return InvoiceRecord(
        provider_id=pid,
        number=f"INV-{pid}",
        customer_provider_id="C1",
        issue_date=due,
        due_date=due,
        currency=currency,
        total=Decimal("500.00"),
        balance=Decimal("500.00"),
        status=InvoiceStatus.OPEN,
        updated_at=T0,
        raw={},
    )


def _check(store: Store, boe: list[dict[str, object]], today: date) -> list[Finding]:
    with store.sessions.begin() as session:
        org_id = ensure_org(session, "uk", "xero", T0).id
        customer = CustomerRecord(
            provider_id="C1",
            name="Trade Co Ltd",
            email="a@trade.example",
            currency="GBP",
            updated_at=T0,
            is_business=True,
        )
        invoices = (
            _invoice("1", date(2025, 11, 20)),
            _invoice("2", date(2026, 1, 15)),
            _invoice("3", date(2026, 1, 20), currency="USD"),  # not a GBP debt: no UK interest
        )
        apply_page(session, org_id, Page(customers=(customer,), invoices=invoices), now=T0)
    with store.sessions() as session:
        inputs = load_inputs(session, org_id, ZoneInfo("Europe/London"))
    settings = validate_settings({"rates": {"boe_base": boe}})
    return list(reference_rates("uk", "uk-statutory", preset_policies(), settings, inputs, today))


def test_a_table_that_covers_every_needed_date_passes(store: Store) -> None:
    # A debt due in November 2025 takes the rate in force on 30 June 2025, one due in
    # January 2026 the rate on 31 December 2025: a table from May 2025 covers both.
    covered = _check(store, [{"since": date(2025, 5, 8), "percent": "4.25"}], date(2026, 3, 1))
    assert [(f.severity, f.check) for f in covered] == [(FindingSeverity.OK, "reference_rates")]


def test_missing_rates_fail_the_check(store: Store) -> None:
    # The table starts after both reference dates (30 Jun and 31 Dec 2025).
    findings = _check(store, [{"since": date(2026, 2, 1), "percent": "4.00"}], date(2026, 3, 1))
    assert findings and all(f.severity is FindingSeverity.ERROR for f in findings)
    text = " ".join(f.detail for f in findings)
    assert "uk-statutory" in text and "INV-1" in text and "INV-2" in text
    assert "INV-3" not in text  # a USD debt needs no Bank of England rate
    assert "Bank of England" in text
