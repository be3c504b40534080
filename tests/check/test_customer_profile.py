"""Customers as the providers know them: stored, fingerprinted, and handed to the engine."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from connectors.base import (
    CompanyInfo,
    CustomerRecord,
    InvoiceRecord,
    InvoiceStatus,
    Page,
)
from syncd.company import company_from_dict, save_company, stored_company
from syncd.dunning.snapshots import load_inputs
from syncd.store import Store, apply_page, ensure_org
from syncd.store.models import Customer, Org

T0 = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def _customer(at: datetime = T0, **fields: object) -> CustomerRecord:
    values: dict[str, object] = {
        "provider_id": "C1",
        "name": "Müller & Söhne <GmbH>",
        "email": None,
        "currency": "EUR",
        "updated_at": at,
        "groups": ("Trade", "Wholesale"),
        "country": "DE",
        "is_business": None,
        "phone": "+49 30 1234567",
        "address": ("Hauptstraße 1", "10115 Berlin"),
        "raw": {"Id": "C1"},
    }
    values.update(fields)
    return CustomerRecord(**values)  # type: ignore[arg-type]


def _invoice() -> InvoiceRecord:
    return InvoiceRecord(
        provider_id="I1",
        number="1001",
        customer_provider_id="C1",
        issue_date=date(2026, 8, 1),
        due_date=date(2026, 8, 31),
        currency="EUR",
        total=Decimal("100.00"),
        balance=Decimal("100.00"),
        status=InvoiceStatus.OPEN,
        updated_at=T0,
        raw={"Id": "I1"},
    )


def _org(store: Store) -> int:
    with store.sessions.begin() as session:
        return ensure_org(session, "acme", "xero", T0).id


def test_customer_fields_are_stored_and_part_of_the_fingerprint(store: Store) -> None:
    org_id = _org(store)
    with store.sessions.begin() as session:
        first = apply_page(session, org_id, Page(customers=(_customer(),)), now=T0)
    assert first.inserted == 1
    with store.sessions() as session:
        row = session.scalars(select(Customer)).one()
        assert row.groups == ["Trade", "Wholesale"]
        assert (row.country, row.is_business, row.phone) == ("DE", None, "+49 30 1234567")
        assert row.address == ["Hauptstraße 1", "10115 Berlin"]
    # The same record again changes nothing; a new group alone is an update.
    later = T0 + timedelta(hours=1)
    with store.sessions.begin() as session:
        same = apply_page(session, org_id, Page(customers=(_customer(),)), now=later)
        moved = apply_page(
            session,
            org_id,
            Page(customers=(_customer(later, groups=("Trade", "VIP"), is_business=True),)),
            now=later,
        )
    assert (same.unchanged, moved.updated) == (1, 1)
    with store.sessions() as session:
        row = session.scalars(select(Customer)).one()
        assert (row.groups, row.is_business) == (["Trade", "VIP"], True)


def test_snapshots_carry_groups_country_and_the_business_flag(store: Store) -> None:
    org_id = _org(store)
    with store.sessions.begin() as session:
        apply_page(session, org_id, Page(customers=(_customer(),), invoices=(_invoice(),)), now=T0)
    tz = ZoneInfo("Europe/Berlin")
    with store.sessions() as session:
        plain = load_inputs(session, org_id, tz)
        marked = load_inputs(session, org_id, tz, business_groups=["wholesale"])
    customer = plain[0].customer
    assert customer.groups == frozenset({"Trade", "Wholesale"})
    assert customer.country == "DE"
    # The provider does not say; without business_groups the policy decides (None).
    assert customer.is_business is None
    # A config group marks the customer a business, matched without regard to case.
    assert marked[0].customer.is_business is True


def test_provider_flag_stands_when_no_business_group_matches(store: Store) -> None:
    org_id = _org(store)
    with store.sessions.begin() as session:
        apply_page(
            session,
            org_id,
            Page(customers=(_customer(is_business=False),), invoices=(_invoice(),)),
            now=T0,
        )
    with store.sessions() as session:
        inputs = load_inputs(session, org_id, ZoneInfo("UTC"), business_groups=["Retail"])
    assert inputs[0].customer.is_business is False


def test_company_info_is_cached_with_the_org(store: Store) -> None:
    org_id = _org(store)
    info = CompanyInfo(
        name="Acme Widgets Ltd",
        legal_name="Acme Widgets Limited",
        address=("1 High Street", "London", "EC1A 1AA"),
        country="GB",
        base_currency="GBP",
    )
    with store.sessions.begin() as session:
        assert stored_company(session, org_id) is None
        save_company(session, org_id, info, T0)
    with store.sessions() as session:
        assert stored_company(session, org_id) == info
        org = session.get(Org, org_id)
        assert org is not None and org.company_name == "Acme Widgets Ltd"
    assert company_from_dict({"name": ""}) is None
