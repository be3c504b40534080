"""The fast read path maps every record exactly as the old one did, and keeps Xero's text.

Old path: ``json.loads(body, parse_float=Decimal)`` then the dict mapper as it was, kept
verbatim in ``legacy_mapping.py``. Fast path: :mod:`connectors.xero.wire` (each record decoded
into its Struct, its bytes kept) then :mod:`connectors.xero.mapping`. Records compare equal on
every field but ``raw``/``raw_json`` (which dataclass equality leaves out); ``raw`` (parsed
from the text only when read) is compared separately, and ``raw_json`` must read back as the
record Xero sent (a contact's without ``Balances``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from connectors.base import Page
from connectors.xero import wire
from connectors.xero.client import XeroConnector
from connectors.xero.transport import RawResponse
from tests.connectors.xero import legacy_mapping
from tests.connectors.xero.conftest import Bench, make_bench

REFERENCE = Path("/work/shared/reference/xero/nango-recorded")
STREAMS = {
    "contacts": "Contacts",
    "invoices": "Invoices",
    "payments": "Payments",
    "credit_notes": "CreditNotes",
    "prepayments": "Prepayments",
    "overpayments": "Overpayments",
}


def _old_page(connector: XeroConnector, stream: str, data: bytes) -> Page:
    body = RawResponse(200, {}, data).json()
    rows = [r for r in body.get(STREAMS[stream]) or [] if isinstance(r, dict)]
    return legacy_mapping.build(stream, rows, None, None, connector.options.home_currency)


def _new_page(connector: XeroConnector, stream: str, data: bytes) -> Page:
    return connector._page(stream, wire.decode(data, STREAMS[stream]).rows, None)


def _records(page: Page) -> list[Any]:
    return [*page.customers, *page.invoices, *page.payments, *page.deletions, *page.skipped]


def assert_same(connector: XeroConnector, stream: str, data: bytes) -> int:
    old, new = _old_page(connector, stream, data), _new_page(connector, stream, data)
    assert _records(new) == _records(old)
    assert [type(r) for r in _records(new)] == [type(r) for r in _records(old)]
    rows = {
        str(r.get("ContactID") or r.get("InvoiceID") or "")
        for r in (json.loads(data, parse_float=Decimal).get(STREAMS[stream]) or [])
        if isinstance(r, dict)
    }
    for before, after in zip(
        [*old.customers, *old.invoices, *old.payments],
        [*new.customers, *new.invoices, *new.payments],
        strict=True,
    ):
        assert after.raw == before.raw
        assert before.raw_json is None and after.raw_json is not None
        sent = json.loads(after.raw_json, parse_float=Decimal)
        if stream == "contacts":
            assert "Balances" not in sent
            assert sent == before.raw
        elif stream == "invoices":
            assert sent["InvoiceID"] in rows and sent["Total"] == after.raw["Total"]
        else:
            assert sent == before.raw
    return len(wire.decode(data, STREAMS[stream]).rows)


def _pages(bench: Bench, connector: XeroConnector, stream: str) -> Iterator[bytes]:
    api, tenant = connector.api, connector.tenant_id
    fetch = {
        "contacts": lambda **kw: api.get_contacts(tenant, include_archived=True, **kw),
        "invoices": lambda **kw: api.get_invoices(tenant, **kw),
        "payments": lambda **kw: api.get_payments(tenant, **kw),
        "credit_notes": lambda **kw: api.get_credit_notes(tenant, **kw),
        "prepayments": lambda **kw: api.get_prepayments(tenant, **kw),
        "overpayments": lambda **kw: api.get_overpayments(tenant, **kw),
    }[stream]
    page = 1
    while True:
        reply = fetch(page=page, page_size=100, _preload_content=False)
        assert isinstance(reply, RawResponse)
        yield reply.data
        if len(json.loads(reply.data).get(STREAMS[stream]) or []) < 100:
            return
        page += 1


@pytest.mark.parametrize(
    ("seed", "region", "strict"),
    [(3, "NZ", False), (11, "GB", True), (29, "AU", False), (41, "US", True)],
)
def test_fast_path_maps_seeded_sandbox_data_exactly_as_before(
    tmp_path: Path, store_url: str, seed: int, region: str, strict: bool
) -> None:
    for bench in make_bench(
        tmp_path,
        store_url,
        invoices=250,
        seed=seed,
        region=region,
        sandbox_options={"strict": strict},
    ):
        connector = bench.connector()
        counted = {stream: 0 for stream in STREAMS}
        for stream in STREAMS:
            for data in _pages(bench, connector, stream):
                counted[stream] += assert_same(connector, stream, data)
        assert counted["invoices"] > 250 and counted["contacts"] > 0 and counted["payments"] > 0
        connector.close()


class _Recorded(msgspec.Struct):
    response: msgspec.Raw = msgspec.Raw(b"null")


def _recorded(name: str) -> list[bytes]:
    """Each recorded Xero response body in a Nango test file, as the exact text stored."""
    path = REFERENCE / name
    if not path.exists():
        pytest.skip(f"recorded Xero payloads not present at {REFERENCE}")

    class File(msgspec.Struct):
        api: dict[str, dict[str, msgspec.Raw]]

    out: list[bytes] = []
    for paths in msgspec.json.decode(path.read_bytes(), type=File).api.values():
        for entry in paths.values():
            calls = msgspec.json.decode(entry, type=_Recorded | list[_Recorded])
            for call in calls if isinstance(calls, list) else [calls]:
                out.append(bytes(call.response))
    return out


@pytest.mark.parametrize(
    ("name", "stream"),
    [
        ("invoices.test.json", "invoices"),
        ("get-invoice.test.json", "invoices"),
        ("contacts.test.json", "contacts"),
        ("payments.test.json", "payments"),
    ],
)
def test_fast_path_maps_recorded_xero_payloads_exactly_as_before(
    bench: Bench, name: str, stream: str
) -> None:
    connector = bench.connector()
    total = 0
    for data in _recorded(name):
        total += assert_same(connector, stream, data)
    assert total > 0
    connector.close()


def test_malformed_records_are_skipped_with_a_reason_on_the_fast_path(bench: Bench) -> None:
    connector = bench.connector()
    data = (
        b'{"Invoices": [{"Type": "ACCREC", "InvoiceID": "a", "Status": "AUTHORISED",'
        b' "Total": 1.5, "AmountDue": "x", "Contact": {"ContactID": "c"},'
        b' "UpdatedDateUTC": "/Date(1731741537538+0000)/", "CurrencyCode": "NZD"},'
        b' 7, {"Type": "ACCREC", "InvoiceID": "b", "Status": "PAID", "Total": 2.10,'
        b' "AmountDue": 0, "Contact": {"ContactID": "c"}, "CurrencyCode": "NZD",'
        b' "UpdatedDateUTC": "/Date(1731741537538+0000)/"}]}'
    )
    page = _new_page(connector, "invoices", data)
    assert [s.provider_id for s in page.skipped] == ["a"]
    assert "AmountDue" in page.skipped[0].reason
    assert [i.provider_id for i in page.invoices] == ["b"]
    assert page.invoices[0].total == Decimal("2.10")
    assert page.invoices[0].raw_json is not None and '"Total": 2.10' in page.invoices[0].raw_json
    assert _records(page) == _records(_old_page(connector, "invoices", data))
    connector.close()


def test_a_body_cut_short_is_transient_on_the_fast_path() -> None:
    from connectors.base import TransientError

    with pytest.raises(TransientError):
        wire.decode(b'{"Invoices": [{"InvoiceID": "a", "Total": 1.', "Invoices")
    assert wire.decode(b"", "Invoices").rows == []


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ('{"a":1,"Balances":{"x":1.50},"b":2}', '{"a":1,"b":2}'),
        ('{"Balances":{"x":1},"b":2}', '{"b":2}'),
        ('{"b":2,"Balances":{}}', '{"b":2}'),
        ('{"Balances":{}}', "{}"),
        ('{"b": 2.10, "Balances": {"x": 1}}', '{"b":2.10}'),
        ('{"n":"\\"Balances\\":{}","Balances":{}}', '{"n":"\\"Balances\\":{}"}'),
        ('{"b":1}', '{"b":1}'),
    ],
)
def test_a_contacts_text_loses_only_its_balances(text: str, kept: str) -> None:
    assert wire.without(text, ("Balances",)) == kept
