"""The seed's bulk path leaves exactly the company that replaying it through the API rules does.

``seed_company(replay=True)`` sends every seeded write through the rules clients' writes go
through; the default writes the common ones (invoices, sends, payments) straight into their
stored shape (seedwriter.py). Both are run here for several seeds, countries and seed modes,
and everything the company holds is compared: every stored payload byte for byte (key order
included), the truth, deletions and voids with their times, payment applications, customer
links and balances, id and document counters. Then the same API writes are made on both, so
state the payloads do not show (the incremental balances) is compared by its effects too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from connectors.quickbooks.sandbox.bulk import add_bulk_imports
from connectors.quickbooks.sandbox.clock import SandboxClock
from connectors.quickbooks.sandbox.company import Company
from connectors.quickbooks.sandbox.lists import install_lists
from connectors.quickbooks.sandbox.money import dumps
from connectors.quickbooks.sandbox.sandbox import COUNTRIES, SETUP_DAYS_AGO
from connectors.quickbooks.sandbox.seed import seed_company

NOW = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)

CASES = [
    (1, "US", False),
    (2, "CA", True),
    (7, "GB", True),
    (7, "US", True),
    (11, "GB", False),
]


def _company(seed: int, country: str, bulk: bool, *, replay: bool) -> Company:
    timezone, home = COUNTRIES[country]
    company = Company(
        realm_id="1234",
        clock=SandboxClock(NOW, frozen=True),
        tz=ZoneInfo(timezone),
        home_currency=home,
        country=country,
    )
    install_lists(company, NOW - timedelta(days=SETUP_DAYS_AGO))
    seed_company(company, seed=seed, invoices=400, now=NOW, replay=replay)
    if bulk:
        add_bulk_imports(company, seed=seed, now=NOW, size=120, replay=replay)
    return company


def _state(company: Company) -> dict[str, Any]:
    customers = company.entities["Customer"]
    return {
        "snapshot": dumps(company.snapshot()),
        "truth": dumps(company.truth()),
        "journal": dumps(company.journal_copy()),
        "voided": {k: v.isoformat() for k, v in company.voided.items()},
        "tombstone_times": {k: t.deleted_at.isoformat() for k, t in company.tombstones.items()},
        "applied": dumps(company.applied),
        "payment_targets": company.payment_targets,
        "customer_txns": company.customer_txns,
        "names": company.names,
        "counters": (company.next_txn_id, company.next_customer_id, company.next_doc_number),
        "balances": {cid: str(company.customer_balance(cid)) for cid in customers},
        "row_order": {name: list(rows) for name, rows in company.entities.items()},
    }


def _api_writes(company: Company) -> str:
    """A payment, a sparse update and a void through the rules, as clients make them."""
    at = NOW + timedelta(minutes=5)
    opened = [
        invoice
        for invoice in company.snapshot()["entities"]["Invoice"]
        if invoice["Balance"] > 0 and invoice["Id"] not in company.voided
    ]
    out = []
    for invoice in opened[:4]:
        link = [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]
        half = invoice["Balance"] / 2
        body = {
            "CustomerRef": {"value": invoice["CustomerRef"]["value"]},
            "TotalAmt": half,
            "Line": [{"Amount": half, "LinkedTxn": link}],
        }
        out.append(company.create_payment(body, at=at))
        current = company.get("Invoice", invoice["Id"])
        update = {"Id": current["Id"], "SyncToken": current["SyncToken"], "PrivateNote": "x"}
        out.append(company.update_invoice(update, sparse=True, at=at + timedelta(seconds=1)))
    victim = company.get("Invoice", opened[5]["Id"])
    body = {"Id": victim["Id"], "SyncToken": victim["SyncToken"]}
    out.append(company.void_invoice(body, at=at + timedelta(seconds=2)))
    return dumps(out)


@pytest.mark.parametrize(("seed", "country", "bulk"), CASES)
def test_bulk_seed_is_the_replayed_seed(seed: int, country: str, bulk: bool) -> None:
    replayed = _company(seed, country, bulk, replay=True)
    written = _company(seed, country, bulk, replay=False)
    expected, actual = _state(replayed), _state(written)
    for key in expected:
        assert actual[key] == expected[key], key
    assert _api_writes(written) == _api_writes(replayed)
    assert _state(written) == _state(replayed)


def test_the_seed_is_a_company_with_history() -> None:
    """The comparison above means something only if the seed writes what it is meant to:
    sent, paid, part-paid, credited, voided and deleted invoices, prepayments."""
    company = _company(7, "US", True, replay=False)
    invoices = list(company.entities["Invoice"].values())
    payments = list(company.entities["Payment"].values())
    assert any(i["EmailStatus"] == "EmailSent" and "DeliveryInfo" in i for i in invoices)
    assert any(i["Balance"] == 0 and i["TotalAmt"] > 0 for i in invoices)
    assert any(0 < i["Balance"] < i["TotalAmt"] for i in invoices)
    assert any(len(i["LinkedTxn"]) > 1 for i in invoices)
    assert any(int(i["SyncToken"]) >= 2 for i in invoices)
    assert any(i["TxnTaxDetail"]["TotalTax"] > 0 for i in invoices)
    assert any(p["UnappliedAmt"] > 0 and not p["Line"] for p in payments)
    assert any(len(p["Line"]) == 2 and p["TotalAmt"] == 0 for p in payments)
    assert company.voided and company.tombstones and company.entities["CreditMemo"]
    for customer_id, customer in company.entities["Customer"].items():
        assert customer["Balance"] == company.customer_balance_rescan(customer_id)
