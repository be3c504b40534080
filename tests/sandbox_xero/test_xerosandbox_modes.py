"""Unkind modes, bulk imports, lock dates and the lost-response fault, through the real SDK."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import requests
from xero_python.accounting import HistoryRecord, HistoryRecords, Invoice, Invoices, RequestEmpty
from xero_python.exceptions import ApiException

from connectors.xero.sandbox import XeroSandbox, XeroSandboxClient
from connectors.xero.sandbox.client import SandboxControlError

from .conftest import NOW, SdkSession


def _text(value: Any) -> str:
    return str(getattr(value, "value", value))


def _ids(body: Any, key: str, field: str) -> list[str]:
    return [r[field] for r in body[key]]


def _tied_pages(session: SdkSession, raw_get: Any) -> list[list[str]]:
    return [
        _ids(raw_get(session, "/Invoices", page="1", pageSize="50").json(), "Invoices", "InvoiceID")
        for _ in range(3)
    ]


def test_bulk_import_stamps_every_record_with_one_instant(session: SdkSession) -> None:
    imported = session.control.bulk_import(120, seed=1)
    truth = session.control.truth()
    stamps = {i["updated_ms"] for i in truth["invoices"] if i["invoice_id"] in imported["invoices"]}
    assert len(imported["invoices"]) == 120 and len(stamps) == 1
    paid = {p["payment_id"]: p for p in truth["payments"]}
    assert imported["payments"] and all(
        paid[p]["updated"] == imported["at"] for p in imported["payments"]
    )


def test_ties_are_stable_by_default_and_shuffled_in_the_unkind_mode(
    session: SdkSession, raw_get: Any
) -> None:
    session.control.clear_requests()
    session.control.bulk_import(200, seed=2)
    since = session.control.truth()["now"]
    headers = {"If-Modified-Since": since[:19]}
    session.control.advance(1)

    def first_page() -> list[str]:
        body = raw_get(session, "/Invoices", headers=headers, page="1", pageSize="50").json()
        return _ids(body, "Invoices", "InvoiceID")

    assert first_page() == first_page(), "kind default: ties ordered by id"
    session.control.modes(shuffle_ties=True)
    pages = [first_page() for _ in range(3)]
    assert len({tuple(p) for p in pages}) == 3, "every call orders the tied rows anew"


def test_idempotency_replay_expires_after_the_ttl(session: SdkSession) -> None:
    api, tenant = session.api, session.tenant_id
    invoice_id = session.control.truth()["invoices"][0]["invoice_id"]
    note = HistoryRecords(history_records=[HistoryRecord(details="ttl note")])
    session.control.modes(idempotency_ttl=60)
    api.create_invoice_history(tenant, invoice_id, note, idempotency_key="ttl-1")
    session.control.advance(30)
    api.create_invoice_history(tenant, invoice_id, note, idempotency_key="ttl-1")
    assert len(session.control.writes()["history_notes"]) == 1, "replayed inside the window"
    session.control.advance(31)
    api.create_invoice_history(tenant, invoice_id, note, idempotency_key="ttl-1")
    assert len(session.control.writes()["history_notes"]) == 2, "runs again after it"


def test_email_can_ignore_the_idempotency_key(session: SdkSession) -> None:
    truth = session.control.truth()
    reachable = {c["contact_id"] for c in truth["contacts"] if c["email_recipients"]}
    target = next(
        i for i in truth["invoices"] if i["status"] == "AUTHORISED" and i["contact_id"] in reachable
    )
    api, tenant = session.api, session.tenant_id
    for _ in range(2):
        api.email_invoice(tenant, target["invoice_id"], RequestEmpty(), idempotency_key="em-1")
    assert len(session.control.writes()["emails"]) == 1
    session.control.modes(email_idempotent=False)
    api.email_invoice(tenant, target["invoice_id"], RequestEmpty(), idempotency_key="em-1")
    assert len(session.control.writes()["emails"]) == 2


def test_strict_turns_every_unkind_mode_on() -> None:
    with XeroSandbox(seed=3, invoices=10, now=NOW, strict=True) as sandbox:
        control = XeroSandboxClient(sandbox.base_url)
        assert control.modes() == {
            "shuffle_ties": True,
            "idempotency_ttl": 60.0,
            "email_idempotent": False,
        }
        stamps = [i["updated_ms"] for i in control.truth()["invoices"]]
        assert max(stamps.count(s) for s in stamps) == 240
        assert control.config()["strict"] is True
        with pytest.raises(SandboxControlError, match="unknown mode"):
            control.modes(sort_ties=True)


def test_lock_dates_refuse_edits_with_xeros_message(session: SdkSession) -> None:
    api, tenant = session.api, session.tenant_id
    truth = session.control.truth()
    target = next(
        i for i in truth["invoices"] if i["status"] == "AUTHORISED" and i["amount_paid"] == "0.00"
    )
    lock = date.fromisoformat(target["date"]) + timedelta(days=1)
    session.control.lock_dates(end_of_year_lock_date=lock)
    with pytest.raises(ApiException) as refused:
        api.update_invoice(
            tenant, target["invoice_id"], Invoices(invoices=[Invoice(reference="x")])
        )
    expected = f"currently set at {lock.strftime('%d-%b-%Y')}"
    body = (
        refused.value.body.decode() if isinstance(refused.value.body, bytes) else refused.value.body
    )
    assert "The document date cannot be before the end of year lock date" in body
    assert expected in body
    org = api.get_organisations(tenant).organisations[0]
    assert org.end_of_year_lock_date == lock and org.period_lock_date is None
    session.control.lock_dates(end_of_year_lock_date=None, period_lock_date=lock)
    with pytest.raises(ApiException, match="period lock date"):
        api.update_invoice(
            tenant, target["invoice_id"], Invoices(invoices=[Invoice(reference="y")])
        )
    session.control.lock_dates(period_lock_date=None)
    api.update_invoice(tenant, target["invoice_id"], Invoices(invoices=[Invoice(reference="z")]))


def test_a_lost_answer_means_the_request_was_carried_out(session: SdkSession) -> None:
    invoice_id = session.control.truth()["invoices"][0]["invoice_id"]
    session.control.add_fault("lost", method="PUT", path="/api.xro/2.0/Invoices/")
    with pytest.raises(requests.ConnectionError):
        requests.put(
            f"{session.sandbox.api_url}/Invoices/{invoice_id}/History",
            json={"HistoryRecords": [{"Details": "lost answer"}]},
            headers={
                "Authorization": f"Bearer {session.token['access_token']}",
                "xero-tenant-id": session.tenant_id,
            },
            timeout=10,
        )
    assert [n["details"] for n in session.control.writes()["history_notes"]] == ["lost answer"]


def test_skip_lets_requests_through_before_a_fault_fires(session: SdkSession) -> None:
    session.control.add_fault("503", method="GET", path="/api.xro/2.0/Contacts", skip=1)
    session.api.get_contacts(session.tenant_id)
    with pytest.raises(ApiException):
        session.api.get_contacts(session.tenant_id)


@pytest.mark.parametrize(
    ("region", "currency", "sales_tax", "no_tax"),
    [("NZ", "NZD", "OUTPUT2", "NONE"), ("UK", "GBP", "OUTPUT2", "NONE"),
     ("AU", "AUD", "OUTPUT", "BASEXCLUDED"), ("US", "USD", "TAX001", "NONE")],
)  # fmt: skip
def test_each_edition_has_its_own_tax_rates_and_base_currency(
    new_session: Any, region: str, currency: str, sales_tax: str, no_tax: str
) -> None:
    with XeroSandbox(seed=4, invoices=30, now=NOW, region=region, minute_limit=1000) as sandbox:
        session = new_session(sandbox)
        api, tenant = session.api, session.tenant_id
        org = api.get_organisations(tenant).organisations[0]
        assert _text(org.base_currency) == currency
        rates = {r.tax_type: r for r in api.get_tax_rates(tenant).tax_rates}
        assert _text(rates[sales_tax].status) == _text(rates[no_tax].status) == "ACTIVE"
        assert ("NONE" in rates) == (region != "AU")
        lines = {
            line.tax_type
            for inv in api.get_invoices(tenant, page=1, page_size=100).invoices
            if inv.type == "ACCREC"
            for line in inv.line_items
        }
        assert sales_tax in lines and lines <= set(rates)
        assert session.sandbox.org_options()["late_fee_tax_type"] == no_tax
