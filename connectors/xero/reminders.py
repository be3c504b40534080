"""Reminders emailed by Xero, exactly once, even when Xero forgets the idempotency key.

``POST /Invoices/{id}/Email`` is the one write syncd cannot recognise afterwards by its own
tag: Xero writes its own "sent" history record, not ours. Xero documents neither how long it
replays an ``Idempotency-Key`` nor whether this endpoint honours one, so the key cannot be
the guard. Instead, around every provider email:

1. a durable *intent* note ``[syncd:KEY] reminder about to be emailed by Xero`` is written to
   the invoice's history **before** the email;
2. the email is sent; an ambiguous failure (timeout, dropped connection, 5xx) is reconciled,
   not retried blindly: a "sent" history record after our intent note means it went;
3. a *done* note ``[syncd:KEY] reminder emailed by Xero`` is written after it.

A later attempt with the same key (a retry, a crash recovery, a second process) reads the
history first: a done note means nothing to do; an intent note followed by a "sent" record
means the email went and only the done note is missing; an intent note with no "sent" record
after it means the email never left, so it is sent now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from connectors.base import ActionResult, PermanentError
from connectors.kit import find_tag

from . import mapping, once
from .notes import fit_note, header_key
from .transport import NotFound

if TYPE_CHECKING:
    from .client import XeroConnector

INTENT = "reminder about to be emailed by Xero"
DONE = "reminder emailed by Xero"
EMAILABLE = ("SUBMITTED", "AUTHORISED", "PAID")


@dataclass(frozen=True)
class Record:
    at: datetime | None
    changes: str
    details: str


def history(connector: XeroConnector, invoice_id: str) -> list[Record]:
    api, tenant = connector.api, connector.tenant_id
    try:
        body = connector._json(
            lambda: api.get_invoice_history(tenant, invoice_id, _preload_content=False)
        )
    except NotFound:
        raise PermanentError(f"invoice {invoice_id} does not exist at Xero") from None
    out: list[Record] = []
    for raw in body.get("HistoryRecords") or []:
        if not isinstance(raw, dict):
            continue
        try:
            at: datetime | None = mapping.parse_datetime(raw.get("DateUTC"), "DateUTC")
        except mapping.MappingError:
            at = None
        out.append(Record(at, str(raw.get("Changes") or ""), str(raw.get("Details") or "")))
    return out


def _is_sent(record: Record) -> bool:
    """Xero's own record of an emailed invoice ("Sent" / "This invoice has been sent to")."""
    if find_tag(record.details):
        return False
    return record.changes.strip().lower() == "sent" or "sent to" in record.details.lower()


def sent_after_intent(records: list[Record], tag: str) -> bool | None:
    """None without an intent note; else whether Xero recorded a send after it."""
    intent = next((r for r in records if tag in r.details and INTENT in r.details), None)
    if intent is None:
        return None
    return any(
        _is_sent(r) and (intent.at is None or r.at is None or r.at >= intent.at) for r in records
    )


def _recipients(raw: dict[str, Any], to: str | None) -> list[str]:
    status = str(raw.get("Status") or "")
    if not mapping.is_sales_invoice(raw):
        raise PermanentError("Xero emails only sales invoices (ACCREC); send it by SMTP")
    if status not in EMAILABLE:
        raise PermanentError(
            f"Xero emails only submitted, approved or paid invoices, this one is {status}; "
            "send it by SMTP"
        )
    contact = raw.get("Contact") if isinstance(raw.get("Contact"), dict) else {}
    recipients = mapping.email_recipients(contact or {})
    if not recipients:
        raise PermanentError(
            "the Xero contact has no email address Xero would send to; send it by SMTP"
        )
    if to and to.strip().lower() not in {r.lower() for r in recipients}:
        raise PermanentError(
            f"Xero emails only the contact's own addresses, not {to}; send it by SMTP"
        )
    return recipients


def send_reminder(
    connector: XeroConnector, invoice_id: str, to: str | None, key: str
) -> ActionResult:
    tag = mapping.tag(key)
    records = history(connector, invoice_id)
    if any(tag in r.details and DONE in r.details and INTENT not in r.details for r in records):
        return ActionResult(remote_id=invoice_id, detail="already applied")
    done = fit_note(tag, DONE)
    if sent_after_intent(records, tag):
        connector._write_note(invoice_id, done, f"{key}:note")
        return ActionResult(remote_id=invoice_id, detail="already applied")
    raw = connector._invoice_raw(invoice_id)
    if raw is None:
        raise PermanentError(f"invoice {invoice_id} does not exist at Xero")
    recipients = _recipients(raw, to)
    if sent_after_intent(records, tag) is None:
        connector._write_note(invoice_id, fit_note(tag, INTENT), f"{key}:intent")
    api, tenant = connector.api, connector.tenant_id

    def email() -> Any:
        return api.email_invoice(
            tenant, invoice_id, {}, idempotency_key=header_key(key), _preload_content=False
        )

    def went() -> bool:
        return bool(sent_after_intent(history(connector, invoice_id), tag))

    once.write_once(connector, email, went, what=f"reminder email for invoice {invoice_id}")
    connector._write_note(invoice_id, done, f"{key}:note")
    return ActionResult(remote_id=invoice_id, detail=f"emailed by Xero to {len(recipients)}")
