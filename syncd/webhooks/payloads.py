"""What a webhook body names, per provider; ids only (both providers send no record data).

QuickBooks sends either the legacy ``eventNotifications`` object or, for apps switched to it,
a JSON array of CloudEvents (``type`` such as ``qbo.invoice.updated.v1``). Xero sends
``events[]`` with ``eventCategory`` INVOICE / CONTACT / CREDITNOTE / SUBSCRIPTION; a payment
shows up as an INVOICE update. Invoices, payments (QuickBooks Payment and CreditMemo share one
stream) and customers are re-read by id; anything else that matters (a Xero credit note, whose
allocations name no invoice in the event) asks for an incremental sync instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class PayloadError(ValueError):
    """The body is signed but not a notification we understand (HTTP 400)."""


@dataclass
class Targets:
    """What one org must re-read."""

    invoices: set[str] = field(default_factory=set)
    payments: set[str] = field(default_factory=set)
    customers: set[str] = field(default_factory=set)
    #: Something else changed (customer, credit note, unknown entity): run an incremental sync.
    resync: bool = False

    def merge(self, other: Targets) -> None:
        self.invoices |= other.invoices
        self.payments |= other.payments
        self.customers |= other.customers
        self.resync = self.resync or other.resync

    def __bool__(self) -> bool:
        return bool(self.invoices or self.payments or self.customers or self.resync)


#: account id (QuickBooks realm / Xero tenant) -> targets
Parsed = dict[str, Targets]

_QBO_IGNORED = {"account", "item", "class", "department", "term", "preferences", "currency"}


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
        raise PayloadError(f"{what} must be a non-empty string")
    return str(value)


def _qbo_entity(targets: Targets, name: str, entity_id: str) -> None:
    lowered = name.lower()
    if lowered == "invoice":
        targets.invoices.add(entity_id)
    elif lowered in ("payment", "creditmemo"):
        targets.payments.add(entity_id)
    elif lowered == "customer":
        targets.customers.add(entity_id)
    elif lowered not in _QBO_IGNORED:
        targets.resync = True


def parse_quickbooks(data: Any) -> Parsed:
    out: Parsed = {}
    if isinstance(data, list):  # CloudEvents
        for event in data:
            if not isinstance(event, dict):
                raise PayloadError("each CloudEvent must be an object")
            realm = _str(event.get("intuitaccountid"), "intuitaccountid")
            kind = _str(event.get("type"), "type").split(".")
            if len(kind) < 3 or kind[0] != "qbo":
                raise PayloadError(f"unexpected CloudEvent type {event.get('type')!r}")
            entity_id = _str(event.get("intuitentityid"), "intuitentityid")
            _qbo_entity(out.setdefault(realm, Targets()), kind[1], entity_id)
        return out
    if not isinstance(data, dict) or not isinstance(data.get("eventNotifications"), list):
        raise PayloadError("expected eventNotifications[] or a CloudEvents array")
    for note in data["eventNotifications"]:
        if not isinstance(note, dict):
            raise PayloadError("each eventNotification must be an object")
        realm = _str(note.get("realmId"), "realmId")
        change = note.get("dataChangeEvent") or {}
        entities = change.get("entities", []) if isinstance(change, dict) else None
        if not isinstance(entities, list):
            raise PayloadError("dataChangeEvent.entities must be a list")
        targets = out.setdefault(realm, Targets())
        for entity in entities:
            if not isinstance(entity, dict):
                raise PayloadError("each entity must be an object")
            _qbo_entity(targets, _str(entity.get("name"), "name"), _str(entity.get("id"), "id"))
    return out


def parse_xero(data: Any) -> Parsed:
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise PayloadError("expected an object with events[]")
    out: Parsed = {}
    for event in data["events"]:
        if not isinstance(event, dict):
            raise PayloadError("each event must be an object")
        tenant = _str(event.get("tenantId"), "tenantId").lower()
        category = _str(event.get("eventCategory"), "eventCategory").upper()
        resource = _str(event.get("resourceId"), "resourceId")
        if category == "SUBSCRIPTION":
            continue
        targets = out.setdefault(tenant, Targets())
        if category == "INVOICE":
            targets.invoices.add(resource)
        elif category == "CONTACT":
            targets.customers.add(resource)
        else:
            targets.resync = True
    return out


PARSERS = {"quickbooks": parse_quickbooks, "xero": parse_xero}
SIGNATURE_HEADERS = {"quickbooks": "intuit-signature", "xero": "x-xero-signature"}
