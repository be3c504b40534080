"""The fast paths give the same answers as the plain ones they replaced.

``FastRandom`` must draw exactly what ``random.Random`` draws (every seeded organisation
depends on it), and the cached default order must follow every change to a record.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta

from connectors.xero.sandbox.api import AccountingApi, ApiRequest
from connectors.xero.sandbox.clock import SandboxClock
from connectors.xero.sandbox.fastrand import FastRandom
from connectors.xero.sandbox.seed import build_organisation

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_fastrandom_draws_what_random_draws() -> None:
    plain, fast = random.Random("xero-sandbox:7"), FastRandom("xero-sandbox:7")
    for i in range(20_000):
        n = 1 + i % 997
        assert plain.randint(-3, n) == fast.randint(-3, n)
        assert plain.randrange(5, 5 + n) == fast.randrange(5, 5 + n)
        assert plain.randrange(n) == fast.randrange(n)
        seq = tuple(range(n))
        assert plain.choice(seq) == fast.choice(seq)
        assert plain.sample(seq, min(3, n)) == fast.sample(seq, min(3, n))
        assert str(uuid.UUID(int=plain.getrandbits(128), version=4)) == fast.uuid4()
        assert plain.random() == fast.random()


def _ids(api: AccountingApi, params: dict[str, str], headers: dict[str, str]) -> list[str]:

    reply = api.handle(ApiRequest("GET", ["Invoices"], params, headers, b""))
    assert reply.status == 200
    return [row["InvoiceID"] for row in json.loads(reply.body)["Invoices"]]


def test_cached_order_follows_payments_and_new_invoices() -> None:
    clock = SandboxClock(NOW)
    org = build_organisation(seed=4, invoices=400, now=NOW, clock=clock)
    api = AccountingApi(org)
    everything = {"page": "1", "pagesize": "1000"}
    before = _ids(api, everything, {})
    expected = sorted(org.invoices.values(), key=lambda i: (i.updated, i.invoice_id))
    assert before == [i.invoice_id for i in expected]
    assert _ids(api, everything, {}) == before  # served from the cache

    clock.advance(60)
    target = next(i for i in expected[:50] if i.status == "AUTHORISED" and i.amount_due > 0)
    org.add_payment(target.invoice_id)
    after = _ids(api, everything, {})
    assert after[-1] == target.invoice_id
    assert sorted(after) == sorted(before)

    since = (clock.now() - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%S")
    assert _ids(api, everything, {"if-modified-since": since}) == [target.invoice_id]

    del org.invoices[target.invoice_id]
    assert target.invoice_id not in _ids(api, everything, {})
