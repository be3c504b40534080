"""Bulk imports: what a migration or a recurring-invoice run leaves in a real company.

QBO stamps ``MetaData.LastUpdatedTime`` to the second, and an import writes hundreds of
records in the same second. The seed's ordinary history almost never produces ties, so this
seed mode (``bulk_import``) adds, after the history:

* a migration forty days ago: ``size`` historical invoices (dated over the past year) and
  payments for about half of them, every one stamped with the same instant;
* a recurring-invoice run two days ago: ``size // 2`` invoices in one second.

It uses its own random stream, so a seed's ordinary history is the same with or without it.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from .catalog import ITEMS
from .company import Company
from .money import money
from .seedwriter import seed_writes

JSON = dict[str, Any]

MIGRATION_DAYS_AGO = 40
RECURRING_DAYS_AGO = 2


def _invoice_body(rng: random.Random, company: Company, customer: JSON, txn_date: str) -> JSON:
    item = ITEMS[rng.choice(("1", "2", "5", "6", "8"))]
    qty = Decimal(rng.randrange(1, 12))
    line: JSON = {
        "Description": item.description,
        "Amount": money(qty * item.unit_price),
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {
            "ItemRef": {"value": item.id},
            "Qty": qty,
            "UnitPrice": item.unit_price,
        },
    }
    if company.country != "US":
        line["SalesItemLineDetail"]["TaxCodeRef"] = {"value": company.default_tax_code()}
    body: JSON = {
        "CustomerRef": {"value": customer["Id"]},
        "TxnDate": txn_date,
        "Line": [line],
        "PrivateNote": "Imported",
    }
    if customer.get("PrimaryEmailAddr"):
        body["BillEmail"] = {"Address": customer["PrimaryEmailAddr"]["Address"]}
    return body


def add_bulk_imports(
    company: Company, *, seed: int, now: datetime, size: int, replay: bool = False
) -> None:
    """``replay`` as in ``seed_company``: through the API rules, or the bulk writer."""
    writes = seed_writes(company, replay=replay)
    rng = random.Random(f"bulk-{seed}")  # noqa: S311 - reproducible data
    customers = [c for c in company.entities["Customer"].values() if c.get("Active", True)]
    if not customers or size <= 0:
        return
    migration = (now - timedelta(days=MIGRATION_DAYS_AGO)).replace(microsecond=0)
    imported: list[JSON] = []
    for _ in range(size):
        customer = rng.choice(customers)
        txn = (migration - timedelta(days=rng.randrange(10, 365))).astimezone(company.tz)
        body = _invoice_body(rng, company, customer, txn.date().isoformat())
        imported.append(writes.create_invoice(body, at=migration, source="seed"))
    for invoice in imported:
        if rng.random() < 0.5:
            writes.create_payment(
                {
                    "CustomerRef": {"value": invoice["CustomerRef"]["value"]},
                    "TotalAmt": invoice["TotalAmt"],
                    "TxnDate": invoice["TxnDate"],
                    "PrivateNote": "Imported",
                    "Line": [
                        {
                            "Amount": invoice["TotalAmt"],
                            "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}],
                        }
                    ],
                },
                at=migration,
            )
    run = (now - timedelta(days=RECURRING_DAYS_AGO)).replace(microsecond=0)
    run_date = run.astimezone(company.tz).date().isoformat()
    for _ in range(size // 2):
        writes.create_invoice(
            _invoice_body(rng, company, rng.choice(customers), run_date), at=run, source="seed"
        )
