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
from connectors.xero.sandbox.organisation import Organisation
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


READER = {
    "order": "UpdatedDateUTC ASC",
    "where": 'Type=="ACCREC"',
    "statuses": "DRAFT,SUBMITTED,AUTHORISED,PAID,VOIDED,DELETED",
    "page": "1",
    "pagesize": "1000",
}


def _expected(org: Organisation, since: datetime | None) -> list[str]:
    """What a keyset reader's query means, computed the plain way."""
    rows = [
        i
        for i in org.invoices.values()
        if i.type == "ACCREC" and (since is None or i.updated > since)
    ]
    return [i.invoice_id for i in sorted(rows, key=lambda i: (i.updated, i.invoice_id))]


def test_keyset_reader_query_follows_every_change() -> None:
    """order=UpdatedDateUTC ASC with a Type filter is served from the cached order and a kept
    filter; it must still see new stamps, new invoices, removed ones and the cut-off."""
    clock = SandboxClock(NOW)
    org = build_organisation(seed=5, invoices=600, now=NOW, clock=clock)
    api = AccountingApi(org)
    assert _ids(api, READER, {}) == _expected(org, None)
    assert _ids(api, READER, {}) == _expected(org, None)  # served from the cache

    clock.advance(60)
    target = next(
        i
        for i in sorted(org.invoices.values(), key=lambda i: i.updated)
        if i.type == "ACCREC" and i.status == "AUTHORISED" and i.amount_due > 0
    )
    org.add_payment(target.invoice_id)
    after = _ids(api, READER, {})
    assert after == _expected(org, None) and after[-1] == target.invoice_id

    # A stamp assigned directly (no organisation method, no new record) still reorders.
    first = next(
        i
        for i in sorted(org.invoices.values(), key=lambda i: (i.updated, i.invoice_id))
        if i.type == "ACCREC"
    )
    first.updated = clock.advance(5)
    assert _ids(api, READER, {})[-1] == first.invoice_id
    assert _ids(api, READER, {}) == _expected(org, None)

    middle = sorted(org.invoices.values(), key=lambda i: i.updated)[300].updated
    header = {"if-modified-since": middle.strftime("%Y-%m-%dT%H:%M:%S")}
    cut = middle.replace(microsecond=0)
    assert _ids(api, READER, header) == _expected(org, cut)

    payments = {"order": "UpdatedDateUTC ASC", "where": 'PaymentType=="ACCRECPAYMENT"'}
    paid = [
        p.payment_id
        for p in sorted(org.payments.values(), key=lambda p: (p.updated, p.payment_id))
        if org.invoices[p.invoice_id].type == "ACCREC"
    ]
    reply = api.handle(ApiRequest("GET", ["Payments"], payments, {}, b""))
    assert [p["PaymentID"] for p in json.loads(reply.body)["Payments"]] == paid

    removed = next(
        i for i in org.invoices.values() if i.type == "ACCREC" and not org.invoice_payments(i)
    )
    del org.invoices[removed.invoice_id]
    assert _ids(api, READER, {}) == _expected(org, None)
