"""Reading a Xero response body once: records as dicts with exact decimals, plus their text.

A 1,000-invoice page is ~1.8 MB of JSON. ``json.loads(..., parse_float=Decimal)`` was the
largest single cost of a page, and the store then re-encoded every record to keep its raw
payload. msgspec reads the envelope with each record left as :class:`msgspec.Raw` (the exact
bytes Xero sent, which become the record's ``raw_json``) and decodes each record into the same
plain dicts ``json.loads`` gave (``float_hook=Decimal`` is handed the number's text, so
``1.50`` stays ``Decimal("1.50")``; integers stay ``int``). :mod:`.mapping` is unchanged and
is the only mapping: what changed is how the body is parsed, not what a record means.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec

from connectors.base import TransientError

_RECORD = msgspec.json.Decoder(float_hook=Decimal)
COLLECTIONS = ("Invoices", "Contacts", "Payments", "CreditNotes", "Prepayments", "Overpayments")


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


@dataclass(frozen=True)
class Body:
    """One list response: the records (dicts, as ``json.loads`` would give) and their text."""

    rows: list[dict[str, Any]]
    #: ``texts[i]`` is ``rows[i]`` exactly as Xero sent it (UTF-8 text).
    texts: list[str]
    server_time: Any
    pagination: dict[str, Any] | None

    def envelope(self, collection: str) -> dict[str, Any]:
        """The body as a dict (for callers that read it the way ``json.loads`` gave it)."""
        body: dict[str, Any] = {collection: self.rows}
        if self.server_time is not None:
            body["DateTimeUTC"] = self.server_time
        if self.pagination is not None:
            body["pagination"] = self.pagination
        return body


def decode(data: bytes, collection: str) -> Body:
    """Parse a list response; a body cut short or not JSON is transient (Xero does that)."""
    if collection not in COLLECTIONS:
        raise ValueError(f"no Xero collection {collection!r}")
    if not data.strip():
        return Body([], [], None, None)
    try:
        envelope = _ENVELOPE.decode(data)
        raws: list[msgspec.Raw] = getattr(envelope, collection) or []
        rows: list[dict[str, Any]] = []
        texts: list[str] = []
        for raw in raws:
            record = _RECORD.decode(raw)
            if isinstance(record, dict):  # anything else was never a record: dropped as before
                rows.append(record)
                texts.append(bytes(raw).decode("utf-8"))
    except (msgspec.DecodeError, UnicodeDecodeError):
        raise TransientError("Xero answered with a body that is not JSON") from None
    pagination = envelope.pagination if isinstance(envelope.pagination, dict) else None
    return Body(rows, texts, envelope.DateTimeUTC, pagination)


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
