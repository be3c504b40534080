"""The fast read path maps every record exactly as the old dict mapper did.

The oracle is the old mapper, kept verbatim in ``legacy_mapping.py``: each record is parsed
the old way (``json.loads(parse_float=Decimal)`` of the text received) and mapped by it, and
mapped by the fast path from the same bytes; the records must be equal in every field (``raw``
and ``raw_json`` excluded, they are the payload itself), and a record one skips the other
skips too. Records come from seeded sandboxes over HTTP (several seeds, countries, kind and
strict modes, the seeded bulk imports), from hostile variants of a real invoice, and from the
recorded payloads in ../shared/reference (skipped with a reason when absent).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from connectors.base import EntityKind
from connectors.quickbooks import keyset, pages
from connectors.quickbooks.client import QuickBooksConnector
from connectors.quickbooks.wire import Received

from . import legacy_mapping
from .conftest import Bench, make_bench
from .test_qbo_bad_records import INVOICE_CASES
from .test_qbo_connector_writes import qbo
from .test_qbo_reference_payloads import RECORDED

_ENCODE = msgspec.json.Encoder(decimal_format="number")
STREAMS = (
    (EntityKind.CUSTOMERS, "Customer"),
    (EntityKind.INVOICES, "Invoice"),
    (EntityKind.PAYMENTS, "Payment"),
    (EntityKind.PAYMENTS, "CreditMemo"),
)


def _received(entity: str, text: bytes) -> Received:
    return Received(entity, msgspec.Raw(text))


def _assert_same(row: Received, home: str, names: Callable[[str | None], Mapping[str, str]]) -> str:
    """One record through both mappers; returns ``mapped`` or ``skipped``."""

    def old_names(raw: Mapping[str, Any]) -> Mapping[str, str]:
        ref = raw.get("CustomerTypeRef")
        value = ref.get("value") if isinstance(ref, Mapping) else None
        return names(None if value in (None, "") else str(value))

    old = legacy_mapping.map_row(
        row.entity, json.loads(row.text, parse_float=Decimal), home, old_names
    )
    page = pages.build([row], None, home, names)
    new = [*page.customers, *page.invoices, *page.payments, *page.deletions]
    if old is None:
        assert not new, f"{row.entity} {row.id}: the old mapper skipped it, the fast one mapped"
        assert [s.provider_id for s in page.skipped] == [row.id]
        return "skipped"
    assert not page.skipped, f"{row.entity} {row.id}: skipped by the fast path only: {page}"
    assert len(new) == 1 and type(new[0]) is type(old), (row.entity, row.id)
    for field in type(old).__dataclass_fields__:
        if field not in ("raw", "raw_json"):
            mine, theirs = getattr(new[0], field), getattr(old, field)
            # Plain messages: pytest's diff of whole records with their payloads is slow.
            assert mine == theirs, f"{row.entity} {row.id} {field}: {mine!r} != {theirs!r}"
    if hasattr(new[0], "raw_json"):
        assert new[0].raw_json == row.text  # type: ignore[union-attr]
        assert dict(new[0].raw) == json.loads(row.text, parse_float=Decimal)  # type: ignore[union-attr]
    return "mapped"


def _all_rows(connector: QuickBooksConnector) -> Iterator[Received]:
    for _, entity in STREAMS:
        for _, rows, _ in keyset.pull(connector._rows, (entity,), None, 1000):
            yield from rows


@pytest.mark.parametrize(
    ("seed", "country", "sandbox_options"),
    [
        (3, "US", {}),
        (11, "US", {"strict": True}),
        (29, "GB", {"strict": True}),
        (41, "CA", {}),
    ],
    ids=["us-kind", "us-strict", "gb-strict", "ca-kind"],
)
def test_every_sandbox_record_maps_as_before(
    tmp_path: Path, seed: int, country: str, sandbox_options: dict[str, Any]
) -> None:
    bench = make_bench(
        tmp_path,
        f"sqlite:///{tmp_path / 's.db'}",
        invoices=300,
        seed=seed,
        sandbox_options={"country": country, **sandbox_options},
        page_size=1000,
    )
    for lite in bench:
        connector = qbo(lite)
        try:
            _compare_all(connector)
        finally:
            connector.close()


def _compare_all(connector: QuickBooksConnector) -> None:
    home = connector.options.home_currency
    names = connector._customer_types.names_for
    outcomes: dict[str, int] = {}
    for row in _all_rows(connector):
        key = f"{row.entity}:{_assert_same(row, home, names)}"
        outcomes[key] = outcomes.get(key, 0) + 1
    # Every stream was compared, not an empty pull.
    for _, entity in STREAMS:
        assert outcomes.get(f"{entity}:mapped", 0) > 0, (entity, outcomes)


def _no_names(_: str | None) -> Mapping[str, str]:
    return {}


@pytest.mark.parametrize(
    ("case", "damage"),
    [(c[0], c[1]) for c in INVOICE_CASES],
    ids=[c[0] for c in INVOICE_CASES],
)
def test_hostile_invoices_map_or_skip_as_before(
    lite: Bench, case: str, damage: Callable[[dict[str, Any]], None]
) -> None:
    for original in list(lite.sandbox.company.entities["Invoice"].values())[:5]:
        invoice = copy.deepcopy(original)
        damage(invoice)
        _assert_same(_received("Invoice", _ENCODE.encode(invoice)), "USD", _no_names)


#: Shapes QuickBooks does not send but a broken integration might; each keeps its outcome.
ODD_SHAPES: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("numeric ids", lambda i: i.update(Id=17, SyncToken=3, DocNumber=1001)),
    ("numeric customer ref", lambda i: i.update(CustomerRef={"value": 5})),
    ("amount as text", lambda i: i.update(TotalAmt=str(i["TotalAmt"]))),
    ("amount not a number", lambda i: i.update(Balance="lots")),
    ("meta missing", lambda i: i.pop("MetaData")),
    ("timestamp without offset", lambda i: i["MetaData"].update(LastUpdatedTime="2026-01-01")),
    ("null line list", lambda i: i.update(Line=None)),
    ("deleted in CDC", lambda i: i.update(status="Deleted")),
    ("voided by status", lambda i: i.update(status="Voided")),
    ("empty id", lambda i: i.update(Id="")),
    ("null private note", lambda i: i.update(PrivateNote=None)),
    ("pay link", lambda i: i.update(InvoiceLink="https://connect.intuit.com/pay/x")),
    ("voided note", lambda i: i.update(TotalAmt=0, Balance=0, PrivateNote=" Voided by Sam")),
    ("group line without amount", lambda i: i["Line"].insert(0, _group_line())),
    ("discount line", lambda i: i["Line"].insert(0, _discount_line())),
    ("description-only line", lambda i: i["Line"].insert(0, {"DetailType": "DescriptionOnly"})),
]


def _group_line() -> dict[str, Any]:
    inner = {"Amount": Decimal("2.50"), "DetailType": "SalesItemLineDetail"}
    return {
        "Id": "90",
        "DetailType": "GroupLineDetail",
        "GroupLineDetail": {"GroupItemRef": {"value": "4"}, "Line": [inner, inner]},
    }


def _discount_line() -> dict[str, Any]:
    return {"Amount": Decimal("1.00"), "DetailType": "DiscountLineDetail", "Description": "10%"}


@pytest.mark.parametrize(("case", "damage"), ODD_SHAPES, ids=[c[0] for c in ODD_SHAPES])
def test_odd_shapes_map_or_skip_as_before(
    lite: Bench, case: str, damage: Callable[[dict[str, Any]], None]
) -> None:
    for original in list(lite.sandbox.company.entities["Invoice"].values())[:5]:
        invoice = copy.deepcopy(original)
        damage(invoice)
        _assert_same(_received("Invoice", _ENCODE.encode(invoice)), "USD", _no_names)


@pytest.mark.skipif(not RECORDED.is_dir(), reason=f"reference payloads not present at {RECORDED}")
def test_recorded_payloads_map_as_before() -> None:
    compared = 0
    for path in sorted(RECORDED.glob("*.json")):
        for entity, raw in _records(json.loads(path.read_text("utf-8"), parse_float=Decimal)):
            _assert_same(_received(entity, _ENCODE.encode(raw)), "USD", _no_names)
            compared += 1
    assert compared > 0


def _records(data: Any) -> Iterator[tuple[str, Any]]:
    """Every Customer/Invoice/Payment/CreditMemo object anywhere in a recorded payload."""
    if isinstance(data, Mapping):
        for key, value in data.items():
            if key in ("Customer", "Invoice", "Payment", "CreditMemo"):
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, Mapping):
                        yield key, item
            else:
                yield from _records(value)
    elif isinstance(data, list):
        for item in data:
            yield from _records(item)
