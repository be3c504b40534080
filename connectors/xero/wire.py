"""Reading a Xero list body once: each record as its Struct (:mod:`.shapes`) and its text.

A 1,000-invoice page is ~1.8 MB of JSON. The envelope is decoded by msgspec with each record
left as :class:`msgspec.Raw` (the exact bytes Xero sent, which become the record's
``raw_json``); each record is then decoded on its own into its Struct, reading only the
fields the mapper uses (non-integer numbers as ``Decimal`` from their text, so ``1.50`` stays
``Decimal("1.50")``). A record that does not fit is kept with msgspec's reason and skipped by
the page builder: one bad record costs one record, never the page. Anything in a list that
is not a JSON object was never a record and is dropped, as it always was.

A record's dict, for whoever still reads one (a case file, a write built from a fresh read),
is parsed from its text only when asked for (:class:`~connectors.kit.lazyjson.LazyJson`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec

from connectors.base import TransientError
from connectors.kit.lazyjson import LazyJson as LazyJson

from . import shapes

COLLECTIONS = tuple(shapes.SHAPES)


class _Envelope(msgspec.Struct):
    """Xero's list envelope; records stay raw bytes until they are decoded one by one."""

    DateTimeUTC: Any = None
    pagination: Any = None
    Invoices: list[msgspec.Raw] | None = None
    Contacts: list[msgspec.Raw] | None = None
    Payments: list[msgspec.Raw] | None = None
    CreditNotes: list[msgspec.Raw] | None = None
    Prepayments: list[msgspec.Raw] | None = None
    Overpayments: list[msgspec.Raw] | None = None


_ENVELOPE = msgspec.json.Decoder(_Envelope, float_hook=Decimal)
_DECODERS = {
    name: msgspec.json.Decoder(shape, float_hook=Decimal) for name, shape in shapes.SHAPES.items()
}
_LOOSE = msgspec.json.Decoder(shapes.Loose, float_hook=Decimal)


class Row:
    """One record of a list: its text as sent, and its Struct or why it has none."""

    __slots__ = ("error", "loose", "shape", "text")

    def __init__(
        self,
        text: str,
        shape: shapes.Shape | None,
        loose: shapes.Loose | None = None,
        error: str | None = None,
    ) -> None:
        self.text = text
        self.shape = shape
        self.loose = loose
        self.error = error

    def field(self, name: str) -> Any:
        """A top-level field of the record, from its Struct or (a misfit) its loose reading."""
        return getattr(self.shape if self.shape is not None else self.loose, name, None)

    @property
    def stamp(self) -> Any:
        return self.field("UpdatedDateUTC")


def row(raw: msgspec.Raw | bytes, collection: str) -> Row | None:
    """One record's Row, or None when it is not a JSON object at all."""
    try:
        shape = _DECODERS[collection].decode(raw)
    except msgspec.ValidationError as exc:
        try:
            loose = _LOOSE.decode(raw)
        except msgspec.ValidationError:
            return None
        return Row(str(raw, "utf-8"), None, loose, str(exc))
    return Row(str(raw, "utf-8"), shape)


@dataclass(frozen=True)
class Body:
    """One list response: its records, in order, and the envelope's paging facts."""

    rows: list[Row]
    server_time: Any
    pagination: dict[str, Any] | None


def decode(data: bytes, collection: str) -> Body:
    """Parse a list response; a body cut short or not JSON is transient (Xero does that)."""
    if collection not in shapes.SHAPES:
        raise ValueError(f"no Xero collection {collection!r}")
    if not data.strip():
        return Body([], None, None)
    try:
        envelope = _ENVELOPE.decode(data)
        raws: list[msgspec.Raw] = getattr(envelope, collection) or []
        rows = [found for found in (row(raw, collection) for raw in raws) if found is not None]
    except (msgspec.DecodeError, UnicodeDecodeError):
        raise TransientError("Xero answered with a body that is not JSON") from None
    pagination = envelope.pagination if isinstance(envelope.pagination, dict) else None
    return Body(rows, envelope.DateTimeUTC, pagination)


_MEMBERS = msgspec.json.Decoder(dict[str, msgspec.Raw])


class _Balances(msgspec.Struct):
    Balances: msgspec.Raw = msgspec.Raw(b"")


_BALANCES = msgspec.json.Decoder(_Balances)


def without(text: str, keys: tuple[str, ...]) -> str:
    """``text`` (one JSON object) minus the top-level ``keys``; every other member keeps the
    exact text Xero sent (used to leave out a contact's ever-changing ``Balances``)."""
    if keys == ("Balances",):
        cut = _cut_balances(text)
        if cut is not None:
            return cut
    members = _MEMBERS.decode(text)
    kept = (
        msgspec.json.encode(k).decode() + ":" + bytes(v).decode("utf-8")
        for k, v in members.items()
        if k not in keys
    )
    return "{" + ",".join(kept) + "}"


def _cut_balances(text: str) -> str | None:
    """The common case cheaply: the member written compactly, once, as Xero writes it."""
    value = _BALANCES.decode(text).Balances
    if not value:
        return None
    needle = '"Balances":' + bytes(value).decode("utf-8")
    at = text.find(needle)
    if at < 0 or text.find(needle, at + 1) >= 0:
        return None
    end = at + len(needle)
    if text[at - 1] == ",":
        return text[: at - 1] + text[end:]
    if text[end] == ",":
        return text[:at] + text[end + 1 :]
    return None
