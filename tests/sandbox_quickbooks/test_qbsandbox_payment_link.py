"""A payment linked to an invoice changes the invoice as QBO does (provider-api-facts.md: the
SyncToken increments on every write; a stale token is Fault 5010 "Stale Object Error"): its
Balance drops, its SyncToken and LastUpdatedTime advance, and an update sent with the token
read before the payment is refused - the invoice keeps the payment and not the update. The
outbox relies on this to never act on an invoice paid after it was read."""

from __future__ import annotations

import time
from datetime import datetime
from decimal import Decimal

import pytest
from quickbooks import QuickBooks
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.invoice import Invoice

from connectors.quickbooks.sandbox import QuickBooksSandbox


def _open_invoice_id(sandbox: QuickBooksSandbox) -> str:
    for inv in sandbox.control.truth()["invoices"]:
        if inv["status"] == "open" and Decimal(inv["balance"]) > 1:
            return str(inv["id"])
    raise AssertionError("seed has no open invoice")


def test_linked_payment_moves_the_invoice_and_makes_old_tokens_stale(
    qb: QuickBooks, sandbox: QuickBooksSandbox
) -> None:
    invoice_id = _open_invoice_id(sandbox)
    before = Invoice.get(invoice_id, qb=qb)
    before_stamp = datetime.fromisoformat(before.MetaData.LastUpdatedTime)
    # The page the connector would have read, served (and cached) before the payment.
    stamp_text = before.MetaData.LastUpdatedTime
    page = Invoice.query(
        f"SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime >= '{stamp_text}' "
        "ORDERBY MetaData.LastUpdatedTime STARTPOSITION 1 MAXRESULTS 1000",
        qb=qb,
    )
    assert invoice_id in {inv.Id for inv in page}
    time.sleep(1.1)  # LastUpdatedTime has whole seconds
    amount = (Decimal(str(before.Balance)) / 2).quantize(Decimal("0.01"))
    payment = sandbox.control.add_payment([{"invoice_id": invoice_id, "amount": str(amount)}])

    after = Invoice.get(invoice_id, qb=qb)
    assert Decimal(str(after.Balance)) == Decimal(str(before.Balance)) - amount
    assert after.SyncToken == str(int(before.SyncToken) + 1)
    assert datetime.fromisoformat(after.MetaData.LastUpdatedTime) > before_stamp
    assert payment["Id"] in [link.TxnId for link in after.LinkedTxn if link.TxnType == "Payment"]

    # The same keyset query now serves the invoice's new state, not the cached old one.
    again = Invoice.query(
        f"SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > '{stamp_text}' "
        "ORDERBY MetaData.LastUpdatedTime STARTPOSITION 1 MAXRESULTS 1000",
        qb=qb,
    )
    served = {inv.Id: inv for inv in again}
    assert served[invoice_id].SyncToken == after.SyncToken
    assert Decimal(str(served[invoice_id].Balance)) == Decimal(str(after.Balance))

    before.PrivateNote = "late fee reminder written before the payment arrived"
    with pytest.raises(QuickbooksException) as info:
        before.save(qb=qb)
    assert info.value.error_code == 5010
    assert info.value.message == "Stale Object Error"
    unchanged = Invoice.get(invoice_id, qb=qb)
    assert unchanged.SyncToken == after.SyncToken
    assert unchanged.PrivateNote == after.PrivateNote
    assert Decimal(str(unchanged.Balance)) == Decimal(str(after.Balance))
