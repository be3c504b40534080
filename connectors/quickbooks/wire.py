"""The fast read path: one HTTP call through syncd's session, one parse, records kept as sent.

python-quickbooks' ``query`` parses the whole body with ``json.loads(parse_float=Decimal)``
into nested dicts (36 ms for a 1,000-invoice page, ~2 MB) that the connector then walked and
re-encoded to store. Here the envelope is decoded by ``msgspec`` with every record left as
:class:`msgspec.Raw` (the exact bytes Intuit sent); each record is then decoded on its own
into its :mod:`shapes` Struct, reading only the fields syncd maps, money as exact ``Decimal``.
A record that does not fit is kept undecoded with msgspec's reason, so one bad record costs
one skipped record, never the page. A clean answer (status 200, no fault, every row fits) is
read in two scans of the body, each decoding the envelope with its rows: once as Structs,
once as the texts received; anything else takes the general path above.

The request itself is the SDK's (same URL, headers, ``minorversion``, bearer token), sent
through the same :class:`~connectors.quickbooks.auth.ApiSession`, so rate limiting, telemetry
and HTTP error classification are unchanged; a ``Fault`` body goes through the SDK's own
``handle_exceptions`` so the connector's error mapping sees the exceptions it always did.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import msgspec
from quickbooks import QuickBooks
from quickbooks.exceptions import QuickbooksException

from connectors.kit.lazyjson import LazyJson

from . import shapes

_HEADERS = {"Accept": "application/json", "User-Agent": "python-quickbooks V3 library"}


class _Envelope(msgspec.Struct):
    """The parts of an answer the read path needs; everything else is skipped, not parsed."""

    QueryResponse: dict[str, msgspec.Raw] | None = None
    CDCResponse: list[msgspec.Raw] | None = None
    Fault: msgspec.Raw | None = None
    time: str | None = None


class _CdcBlock(msgspec.Struct):
    QueryResponse: list[dict[str, msgspec.Raw]] | None = None


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_CDC_BLOCK = msgspec.json.Decoder(_CdcBlock)
_ROWS = msgspec.json.Decoder(list[msgspec.Raw])
_LOOSE = msgspec.json.Decoder(shapes.Loose)
_DECODERS = {name: msgspec.json.Decoder(shape) for name, shape in shapes.SHAPES.items()}


def _page_decoder(shape: type[shapes.Record]) -> msgspec.json.Decoder[list[shapes.Record]]:
    return msgspec.json.Decoder(list[shape])  # type: ignore[valid-type]  # a runtime type


_PAGE_DECODERS = {name: _page_decoder(shape) for name, shape in shapes.SHAPES.items()}


def _answer_decoder(entity: str, rows: Any) -> msgspec.json.Decoder[Any]:
    """An answer to a query for ``entity`` whose rows decode as ``rows``, in the same pass as
    the envelope (a generic envelope is one more scan of the whole body)."""
    response = msgspec.defstruct(f"_{entity}Rows", [(entity, rows | None, None)])
    answer = msgspec.defstruct(
        f"_{entity}Answer",
        [("QueryResponse", response | None, None), ("Fault", msgspec.Raw | None, None)],
    )
    return msgspec.json.Decoder(answer)


#: Per entity: the answer with its rows as Structs, and with them as the texts received.
_SHAPED_ANSWERS = {
    name: _answer_decoder(name, list[shape])  # type: ignore[valid-type]  # a runtime type
    for name, shape in shapes.SHAPES.items()
}
_RAW_ANSWERS = {name: _answer_decoder(name, list[msgspec.Raw]) for name in shapes.SHAPES}


class Received:
    """One record of an answer: its text as sent, and its Struct or why it has none."""

    __slots__ = ("entity", "error", "loose", "shape", "text")

    def __init__(self, entity: str, raw: msgspec.Raw, shape: shapes.Record | None = None) -> None:
        self.entity = entity
        self.text = str(raw, "utf-8")  # straight from the buffer: no intermediate bytes copy
        self.shape = shape
        self.loose: shapes.Loose | None = None
        self.error: str | None = None
        if shape is not None:
            return
        try:
            self.shape = _DECODERS[entity].decode(raw)
        except msgspec.ValidationError as exc:
            self.error = str(exc)
            with contextlib.suppress(msgspec.ValidationError):  # else not even an object
                self.loose = _LOOSE.decode(raw)

    @property
    def id(self) -> str | None:
        value = self.shape.Id if self.shape else self.loose.Id if self.loose else None
        return None if value in (None, "") else str(value)

    @property
    def stamp(self) -> str | None:
        """``MetaData.LastUpdatedTime`` as sent (keyset paging compares it as text)."""
        if self.shape is not None:
            meta = self.shape.MetaData
            return meta.LastUpdatedTime or None if meta else None
        meta_data = self.loose.MetaData if self.loose else None
        value = meta_data.get("LastUpdatedTime") if isinstance(meta_data, dict) else None
        return str(value) if value else None

    def raw(self) -> Mapping[str, Any]:
        return LazyJson(self.text)


def _fitting(entity: str, items: list[msgspec.Raw], found: list[shapes.Record]) -> list[Received]:
    """The rows of a page that decoded whole, built without ``__init__``'s call and checks:
    the slots are stored directly (a 100,000-invoice backfill makes 190,000 rows)."""
    rows: list[Received] = []
    append, new = rows.append, object.__new__
    for item, shape in zip(items, found, strict=True):
        row = new(Received)
        row.entity = entity
        row.text = str(item, "utf-8")
        row.shape = shape
        row.loose = row.error = None
        append(row)
    return rows


def _received(entity: str, value: msgspec.Raw) -> list[Received]:
    """The rows with their texts; the whole page decoded in one call while every row fits,
    row by row (so that one bad record costs one record) as soon as one does not."""
    try:
        items = _ROWS.decode(value)
    except msgspec.ValidationError:
        return []  # not a list of rows (QBO sends none): nothing to map
    try:
        decoded = _PAGE_DECODERS[entity].decode(value)
    except msgspec.ValidationError:
        return [Received(entity, item) for item in items]
    return _fitting(entity, items, decoded)


def _shaped_rows(entity: str, body: bytes) -> list[Received] | None:
    """A clean page's rows in two scans of the body, or None when the answer needs the
    general path (a fault, a record that does not fit, anything unexpected)."""
    try:
        shaped = _SHAPED_ANSWERS[entity].decode(body)
        if shaped.Fault is not None:
            return None
        found = getattr(shaped.QueryResponse, entity) if shaped.QueryResponse else None
        if found is None:
            return []
        items = getattr(_RAW_ANSWERS[entity].decode(body).QueryResponse, entity)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return _fitting(entity, items, found)


def _envelope(body: bytes, status: int) -> _Envelope:
    """The answer, or the SDK's exception for it (so ``errors.classify`` maps it as before)."""
    try:
        envelope = _ENVELOPE.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        text = body.decode("utf-8", "replace")
        raise QuickbooksException(f"Error reading json response: {text}", 10000) from None
    if envelope.Fault is not None:
        QuickBooks.handle_exceptions(json.loads(bytes(envelope.Fault), parse_float=Decimal))
    if status != 200:
        text = body.decode("utf-8", "replace")
        raise QuickbooksException(f"Error returned with status code '{status}': {text}", 10000)
    return envelope


def _send(qb: QuickBooks, method: str, path: str, **kwargs: Any) -> tuple[bytes, int]:
    """The SDK's request, minus its parse: same URL, headers, minor version and token."""
    url = f"{qb.api_url}/company/{qb.company_id}/{path}"
    params = {**kwargs.pop("params", {}), "minorversion": qb.minorversion}
    headers = {**_HEADERS, **kwargs.pop("headers", {})}
    headers["Authorization"] = "Bearer " + qb.session.access_token
    response = qb.session.request(method, url, headers=headers, params=params, **kwargs)
    if response.status_code == 401:
        raise QuickbooksException("Application authentication failed", 401)
    return response.content, response.status_code


def query(qb: QuickBooks, statement: str, entity: str) -> list[Received]:
    """``POST /query`` for one of the mapped entities: its rows, as received."""
    body, status = _send(
        qb, "POST", "query", data=statement, headers={"Content-Type": "application/text"}
    )
    rows = _shaped_rows(entity, body) if status == 200 else None
    if rows is not None:
        return rows
    envelope = _envelope(body, status)
    found = (envelope.QueryResponse or {}).get(entity)
    return _received(entity, found) if found is not None else []


def change_data_capture(
    qb: QuickBooks, entities: str, changed_since: str
) -> tuple[dict[str, list[Received]], str | None]:
    """``GET /cdc``: rows by entity (mapped entities only), and the answer's server time."""
    envelope = _envelope(
        *_send(
            qb,
            "GET",
            "cdc",
            params={"entities": entities, "changedSince": changed_since},
            headers={"Content-Type": "application/json"},
        )
    )
    by_entity: dict[str, list[Received]] = {}
    blocks = envelope.CDCResponse or []
    try:
        responses = (_CDC_BLOCK.decode(blocks[0]).QueryResponse or []) if blocks else []
    except msgspec.ValidationError as exc:  # as the SDK's unreadable answer: retried
        raise QuickbooksException(f"Error reading json response: CDC {exc}", 10000) from None
    for block in responses:
        for name, value in block.items():
            if name in shapes.SHAPES:
                by_entity.setdefault(name, []).extend(_received(name, value))
    return by_entity, envelope.time
