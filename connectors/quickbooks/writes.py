"""Invoice writes: the request bodies, and posting them under a SyncToken, refused if stale.

A write is built either from a fresh read of its own (:func:`write_fresh`, which reads again
and posts again under a new request id when QuickBooks refuses a stale SyncToken) or from a
version already read (:func:`write_seen`, below).

The executor reads the invoices of a whole run in batches. A write built from that read and
carrying its ``SyncToken`` is refused by QuickBooks (stale object, 5010) if the invoice
changed since, and a payment applied to an invoice changes its SyncToken: so the write itself
proves the invoice was not paid after the batch read, and needs no read of its own. A refused
write raises :class:`StaleWriteError`; retrying it with a fresh token is the caller's decision,
made after it has looked at the fresh invoice (never here, blindly).

The request id is the key plus the token the body was built on, the caller's attempt number
and how many refusals this connector has seen for the key: a retry of the same request (a lost
answer) gets QuickBooks' stored answer, while a write re-decided after a refusal, or in a later
attempt, is a new request - QuickBooks replays a stored refusal forever under its old id. A
write that did land under an older id is found by its ``[syncd:KEY]`` tag in the next read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import structlog

from connectors.base import (
    ActionResult,
    Charge,
    ConnectorError,
    InvoiceRecord,
    PermanentError,
    StaleWriteError,
)
from connectors.kit import tag, tag_key

from . import mapping, privatenote
from .errors import error_code
from .settings import QuickBooksOptions

STALE_OBJECT = 5010
#: Fresh read + new request id after a stale SyncToken, this many times before failing.
STALE_RETRIES = 3

Read = Callable[[str, str], dict[str, Any] | None]
Post = Callable[[str, Mapping[str, Any], str], dict[str, Any]]
ToRecord = Callable[[Mapping[str, Any]], InvoiceRecord | None]
Build = Callable[[dict[str, Any]], dict[str, Any] | None]
log = structlog.get_logger(__name__)


def attempt_key(key: str, attempt: int) -> str:
    """The request id of one attempt: the key itself first, then key-derived fresh ids."""
    return key if attempt == 0 else f"{key}#{attempt}"


def seen_raw(seen: InvoiceRecord) -> dict[str, Any]:
    """The invoice as read, amounts exact (the text when kept, else the mapped dict)."""
    if seen.raw_json:
        raw = json.loads(seen.raw_json, parse_float=Decimal)
        if isinstance(raw, dict):
            return raw
    if seen.raw:
        return dict(seen.raw)
    raise PermanentError(f"invoice {seen.provider_id}: the read kept no payload to write from")


def note_body(raw: dict[str, Any], text: str, key: str) -> dict[str, Any] | None:
    """A sparse update appending the tagged note; ``None`` if the note is there already."""
    note = raw.get("PrivateNote")
    if privatenote.has_entry(note, key):
        return None
    return {
        "Id": raw["Id"],
        "SyncToken": raw["SyncToken"],
        "sparse": True,
        "PrivateNote": privatenote.append(note, key, text),
    }


def charge_body(
    raw: dict[str, Any], line: dict[str, Any], charge: Charge, key: str, home_currency: str
) -> dict[str, Any] | None:
    """A sparse update adding the tagged fee line; ``None`` if it is there already."""
    record = mapping.invoice(raw, home_currency)
    if any(ln.fee_key == tag_key(key) for ln in record.lines):
        return None
    if record.currency != charge.currency:
        raise PermanentError(
            f"fee in {charge.currency} cannot go on an invoice in {record.currency}"
        )
    kept = [ln for ln in raw.get("Line") or [] if ln.get("DetailType") != "SubTotalLineDetail"]
    return {"Id": raw["Id"], "SyncToken": raw["SyncToken"], "sparse": True, "Line": [*kept, line]}


class StaleCount:
    """Refusals seen per key by this connector, so that each re-decided write is a new request."""

    def __init__(self) -> None:
        self._refused: dict[str, int] = {}

    def request_suffix(self, key: str, attempt: int) -> str:
        return f"{attempt}.{self._refused.get(key, 0)}"

    def refused(self, key: str) -> None:
        self._refused[key] = self._refused.get(key, 0) + 1


def write_seen(
    post: Post,
    to_record: ToRecord,
    seen: InvoiceRecord,
    request: tuple[str, str],
    build: Build,
    stale: StaleCount | None = None,
) -> ActionResult:
    """Build the update from ``seen`` and post it under ``seen``'s SyncToken; ``request`` is
    the key and the suffix that makes this attempt's request id."""
    raw = seen_raw(seen)
    body = build(raw)
    if body is None:
        return ActionResult(detail="already applied", invoice=seen)
    token = str(raw.get("SyncToken"))
    key, suffix = request
    try:
        updated = post("Invoice", body, f"{key}@{token}/{suffix}")
    except ConnectorError as exc:
        if error_code(exc) == STALE_OBJECT:
            if stale is not None:
                stale.refused(key)
            raise StaleWriteError(
                f"invoice {seen.provider_id} changed since it was read (SyncToken {token})"
            ) from None
        raise
    return ActionResult(remote_id=str(updated.get("Id")), invoice=to_record(updated))


def write_fresh(
    read: Read, post: Post, to_record: ToRecord, target: tuple[str, str], build: Build
) -> ActionResult:
    """Read, build a sparse update, post; on a stale SyncToken read again and post again.

    ``target`` is the invoice id and the idempotency key. Each retry carries a new request id
    derived from the key and the attempt: QBO replays the stale answer forever under the old
    id. The ``[syncd:KEY]`` tag in the body makes a write that did land recognisable on the
    fresh read, so nothing is written twice.
    """
    invoice_id, key = target
    for attempt in range(STALE_RETRIES + 1):
        raw = read("Invoice", invoice_id)
        if raw is None:
            raise PermanentError(f"invoice {invoice_id} no longer exists")
        body = build(raw)
        if body is None:
            return ActionResult(detail="already applied", invoice=to_record(raw))
        try:
            updated = post("Invoice", body, attempt_key(key, attempt))
        except PermanentError as exc:
            if error_code(exc) == STALE_OBJECT and attempt < STALE_RETRIES:
                log.info(
                    "quickbooks.stale_synctoken",
                    invoice=invoice_id,
                    attempt=attempt + 1,
                    retry="fresh read, new request id",
                )
                continue
            raise
        return ActionResult(remote_id=str(updated.get("Id")), invoice=to_record(updated))
    raise PermanentError(  # pragma: no cover - the loop returns or raises
        f"invoice {invoice_id} kept changing under us (stale SyncToken)"
    )


def fee_line(fee: Charge, key: str, options: QuickBooksOptions) -> dict[str, Any]:
    """The tagged sales line a late fee adds, on the org's fee item and tax code."""
    if not options.late_fee_item_id:
        raise PermanentError("options.late_fee_item_id is not set for this org")
    return {
        "Amount": fee.amount,
        "Description": f"{fee.description} {tag(key)}",
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {
            "ItemRef": {"value": options.late_fee_item_id},
            "Qty": 1,
            "UnitPrice": fee.amount,
            **(
                {"TaxCodeRef": {"value": options.late_fee_tax_code_id}}
                if options.late_fee_tax_code_id
                else {}
            ),
        },
    }


def fee_invoice_body(
    original: Mapping[str, Any], number: str, line: dict[str, Any], key: str
) -> dict[str, Any]:
    """A separate invoice for the fee on invoice ``number`` (``original``), tagged."""
    body: dict[str, Any] = {
        "CustomerRef": original["CustomerRef"],
        "Line": [line],
        "PrivateNote": f"Late fee for invoice {number} {tag(key)}",
        "CustomerMemo": {"value": f"Late fee for invoice {number}"},
    }
    if original.get("CurrencyRef"):
        body["CurrencyRef"] = original["CurrencyRef"]
    if original.get("BillEmail"):
        body["BillEmail"] = original["BillEmail"]
    return body
