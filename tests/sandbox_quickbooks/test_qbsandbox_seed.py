"""The seed generator: deterministic, internally consistent, shaped like a small business."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from connectors.quickbooks.sandbox import QuickBooksSandbox
from connectors.quickbooks.sandbox.money import dumps

from .conftest import NOW

_DIGEST_SNIPPET = """
import hashlib, sys
from datetime import datetime
from connectors.quickbooks.sandbox import QuickBooksSandbox
from connectors.quickbooks.sandbox.money import dumps
now = datetime.fromisoformat(sys.argv[3])
sb = QuickBooksSandbox(seed=int(sys.argv[1]), invoices=int(sys.argv[2]), now=now)
print(hashlib.sha256(dumps(sb.company.snapshot()).encode()).hexdigest())
sb.stop()
"""


def _digest(seed: int, invoices: int, now: datetime) -> str:
    sb = QuickBooksSandbox(seed=seed, invoices=invoices, now=now)
    try:
        return hashlib.sha256(dumps(sb.company.snapshot()).encode()).hexdigest()
    finally:
        sb.stop()


def test_same_seed_and_now_give_identical_state_across_processes() -> None:
    here = _digest(5, 300, NOW)
    assert here == _digest(5, 300, NOW)
    repo = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONHASHSEED="12345")
    other = subprocess.run(
        [sys.executable, "-c", _DIGEST_SNIPPET, "5", "300", NOW.isoformat()],
        capture_output=True,
        text=True,
        check=True,
        cwd=repo,
        env=env,
    ).stdout.strip()
    assert other == here
    assert _digest(6, 300, NOW) != here
    assert _digest(5, 300, datetime(2026, 5, 6, 17, 0, tzinfo=UTC)) != here


def test_books_reconcile() -> None:
    with QuickBooksSandbox(seed=9, invoices=300, now=NOW) as sb:
        truth = sb.control.truth()
    applied: dict[str, Decimal] = defaultdict(Decimal)
    for payment in truth["payments"]:
        net = Decimal("0")
        for alloc in payment["allocations"]:
            applied[alloc["txn_id"]] += Decimal(alloc["amount"])
            net += Decimal(alloc["amount"]) * (1 if alloc["txn_type"] == "Invoice" else -1)
        assert Decimal(payment["total"]) - net == Decimal(payment["unapplied"])
        assert Decimal(payment["unapplied"]) >= 0
    for inv in truth["invoices"]:
        if inv["status"] in ("open", "paid"):
            assert Decimal(inv["total"]) - applied[inv["id"]] == Decimal(inv["balance"])
            assert (inv["status"] == "paid") == (Decimal(inv["balance"]) == 0)
        if inv["status"] == "voided":
            assert inv["total"] == inv["balance"] == "0.00"
    for memo in truth["credit_memos"]:
        assert Decimal(memo["total"]) - applied[memo["id"]] == Decimal(memo["remaining"])
    balances: dict[str, Decimal] = defaultdict(Decimal)
    for inv in truth["invoices"]:
        if inv["status"] in ("open", "paid"):
            balances[inv["customer_id"]] += Decimal(inv["balance"])
    for payment in truth["payments"]:
        balances[payment["customer_id"]] -= Decimal(payment["unapplied"])
    for memo in truth["credit_memos"]:
        balances[memo["customer_id"]] -= Decimal(memo["remaining"])
    for customer in truth["customers"]:
        assert Decimal(customer["balance"]) == balances[customer["id"]]


def test_seed_looks_like_a_small_business() -> None:
    with QuickBooksSandbox(seed=3, invoices=800, now=NOW) as sb:
        truth = sb.control.truth()
        snapshot = sb.company.snapshot()
    customers = truth["customers"]
    assert len(customers) == 100
    assert Counter(c["currency"] for c in customers)["USD"] > len(customers) // 2
    assert len({c["currency"] for c in customers}) >= 3
    assert any(c["email"] is None for c in customers)
    assert any(not c["active"] for c in customers)
    status = Counter(i["status"] for i in truth["invoices"])
    assert status["paid"] > status["open"] > 0 and status["voided"] > 0 and status["deleted"] > 0
    today = NOW.date().isoformat()
    assert any(i["status"] == "open" and i["due_date"] < today for i in truth["invoices"])
    assert any(
        i["status"] == "open" and Decimal(i["balance"]) < Decimal(i["total"])
        for i in truth["invoices"]
    )
    assert any(len(p["allocations"]) > 1 for p in truth["payments"])
    assert any(not p["allocations"] for p in truth["payments"])
    assert any(a["txn_type"] == "CreditMemo" for p in truth["payments"] for a in p["allocations"])
    dates = sorted(i["txn_date"] for i in truth["invoices"])
    assert dates[0] >= "2024-11-01" and dates[-1] < today
    terms = Counter(i.get("SalesTermRef", {}).get("name") for i in snapshot["entities"]["Invoice"])
    assert {"Net 15", "Net 30", "Net 60", "Due on receipt"} <= set(terms)
    # Ids follow creation order, as on the real service.
    created = [(i["MetaData"]["CreateTime"], int(i["Id"])) for i in snapshot["entities"]["Invoice"]]
    by_time = [i for _, i in sorted((datetime.fromisoformat(t), i) for t, i in created)]
    assert by_time == sorted(by_time)


def test_ten_thousand_invoices_seed_quickly_enough() -> None:
    # No timing assertion (machines differ); this guards memory/complexity regressions only
    # by completing inside the suite budget at all.
    sb = QuickBooksSandbox(seed=1, invoices=10_000, now=NOW)
    try:
        assert (
            len(sb.company.entities["Invoice"])
            + sum(1 for (entity, _) in sb.company.tombstones if entity == "Invoice")
            == 10_000
        )
    finally:
        sb.stop()
