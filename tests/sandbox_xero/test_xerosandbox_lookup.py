"""List serving that no longer walks every record: ``IDs=`` looked up, every status unfiltered,
the cached order checked by one number (records.py). Each test fails on the old full scans;
the answers are compared with what the full scan gives."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.xero.sandbox import XeroSandbox
from connectors.xero.sandbox.api import ApiRequest
from connectors.xero.sandbox.models import Invoice
from connectors.xero.sandbox.ordercache import OrderCache
from connectors.xero.sandbox.records import Records

NOW = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
ALL = "DRAFT,SUBMITTED,AUTHORISED,PAID,VOIDED,DELETED"


@pytest.fixture(scope="module")
def sandbox() -> XeroSandbox:
    return XeroSandbox(seed=5, invoices=300, now=NOW)


def _get(sb: XeroSandbox, path: str, params: dict[str, str]) -> dict[str, Any]:
    reply = sb.dispatcher.api.handle(ApiRequest("GET", [path], params, {}, b""))
    assert reply.status == 200, reply.body[:200]
    body: dict[str, Any] = json.loads(reply.body)
    body.pop("Id")
    body.pop("DateTimeUTC")  # the sandbox clock runs
    return body


class _NoScan(Records[Any]):
    """A table that refuses to be walked: only looked up."""

    def values(self) -> Any:
        raise AssertionError("every record walked")


def test_ids_are_looked_up_not_scanned(sandbox: XeroSandbox) -> None:
    org = sandbox.org
    wanted = sorted(org.invoices)[::37]
    params = {
        "ids": ",".join(
            [w.upper() for w in wanted] + [wanted[0], "00000000-0000-4000-8000-000000000001"]
        ),
        "statuses": ALL,
        "page": "1",
        "pagesize": "50",
    }
    scanned = _get(sandbox, "Invoices", params)
    real = org.invoices
    try:
        org.invoices = _NoScan(real)  # type: ignore[assignment]
        looked_up = _get(sandbox, "Invoices", params)
    finally:
        org.invoices = real
    assert looked_up == scanned
    assert sorted(i["InvoiceID"] for i in looked_up["Invoices"]) == wanted


def test_contact_ids_are_looked_up_not_scanned(sandbox: XeroSandbox) -> None:
    org = sandbox.org
    wanted = sorted(org.contacts)[::5]
    params = {"ids": ",".join(wanted), "includearchived": "true"}
    scanned = _get(sandbox, "Contacts", params)
    real = org.contacts
    try:
        org.contacts = _NoScan(real)  # type: ignore[assignment]
        looked_up = _get(sandbox, "Contacts", params)
    finally:
        org.contacts = real
    assert looked_up == scanned
    assert sorted(c["ContactID"] for c in looked_up["Contacts"]) == wanted


class _Counted(Invoice):
    """An invoice that counts reads of its status."""

    reads = 0

    @property  # type: ignore[override]
    def status(self) -> str:
        _Counted.reads += 1
        return str(self.__dict__["status"])

    @status.setter
    def status(self, value: str) -> None:
        self.__dict__["status"] = value


def test_every_status_asked_tests_no_row(sandbox: XeroSandbox) -> None:
    org = sandbox.org
    params = {"statuses": ALL, "where": 'Type=="ACCREC"', "page": "2", "pagesize": "10"}
    before = _get(sandbox, "Invoices", params)
    some = _get(sandbox, "Invoices", {**params, "statuses": "AUTHORISED,PAID"})
    for inv in org.invoices.values():
        inv.__class__ = _Counted
    try:
        _Counted.reads = 0
        after = _get(sandbox, "Invoices", params)
        reads = _Counted.reads
    finally:
        for inv in org.invoices.values():
            inv.__class__ = Invoice
    assert after == before
    assert before["pagination"]["itemCount"] > some["pagination"]["itemCount"]
    assert reads <= 5 * 10  # the rendered page's rows only, not every invoice's


class _Row:
    def __init__(self, ident: str, updated: datetime) -> None:
        self.ident = ident
        self.updated = updated


class _Unlistable:
    def __iter__(self) -> Any:
        raise AssertionError("records listed although the table did not change")


def _order(cache: OrderCache, records: Any, table: Records[_Row]) -> list[str]:
    rows = cache.ordered("Row", records, lambda r: r.updated, lambda r: r.ident, source=table)
    return [r.ident for r in rows]


def test_order_checked_by_the_tables_count() -> None:
    table: Records[_Row] = Records({f"r{i}": _Row(f"r{i}", NOW) for i in range(5)})
    cache = OrderCache()
    first = _order(cache, table.values(), table)
    assert _order(cache, _Unlistable(), table) == first


@pytest.mark.parametrize(
    "change",
    [
        lambda t, r: t.__setitem__(r.ident, r),
        lambda t, r: t.update({r.ident: r}),
        lambda t, r: t.setdefault(r.ident, r),
        lambda t, r: t.__ior__({r.ident: r}),
        lambda t, r: t.pop("r1"),
        lambda t, r: t.__delitem__("r2"),
        lambda t, r: t.popitem(),
        lambda t, r: t.clear(),
    ],
)
def test_any_change_to_the_table_renews_the_order(change: Any) -> None:
    table: Records[_Row] = Records({f"r{i}": _Row(f"r{i}", NOW) for i in range(5)})
    cache = OrderCache()
    _order(cache, table.values(), table)
    change(table, _Row("r0a", NOW))
    fresh = sorted(table.values(), key=lambda r: r.ident)
    assert _order(cache, table.values(), table) == [r.ident for r in fresh]
