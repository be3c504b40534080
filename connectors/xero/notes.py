"""History notes on an invoice, written at most once.

A note carries a ``[syncd:KEY]`` tag and is looked for in the invoice's history before it is
written, so that a repeat after a lost answer or a restart finds it instead of adding a
second one.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from connectors.base import ActionResult, PermanentError

from . import mapping, once
from .transport import NotFound

if TYPE_CHECKING:
    from .client import XeroConnector

#: Xero's limit on a history note's ``Details``.
HISTORY_LIMIT = 250
IDEMPOTENCY_LIMIT = 128


def header_key(key: str) -> str:
    """Xero takes keys of at most 128 characters; longer or non-ASCII keys are hashed."""
    if len(key) <= IDEMPOTENCY_LIMIT and key.isascii() and key.isprintable():
        return key
    return "syncd-" + hashlib.sha256(key.encode()).hexdigest()


def fit_note(tag: str, text: str, limit: int = HISTORY_LIMIT) -> str:
    """``[syncd:KEY] text`` on one line, cut to Xero's 250 characters with the tag intact."""
    note = f"{tag} {' '.join(text.split())}"
    if len(note) <= limit:
        return note
    if len(tag) + 2 > limit:
        raise PermanentError("the idempotency key is too long for a Xero history note")
    return note[: limit - 1] + "…"


def history(connector: XeroConnector, invoice_id: str) -> list[str]:
    api, tenant = connector.api, connector.tenant_id
    try:
        body = connector._json(
            lambda: api.get_invoice_history(tenant, invoice_id, _preload_content=False)
        )
    except NotFound:
        raise PermanentError(f"invoice {invoice_id} does not exist at Xero") from None
    return [
        str(r.get("Details") or "") for r in body.get("HistoryRecords") or [] if isinstance(r, dict)
    ]


def write_note(connector: XeroConnector, invoice_id: str, details: str, key: str) -> None:
    from .client import raw_response  # the connector's module, loaded by now

    api, tenant = connector.api, connector.tenant_id
    body = {"HistoryRecords": [{"Details": details}]}
    once.write_once(
        connector,
        lambda: raw_response(
            api.create_invoice_history(
                tenant, invoice_id, body, idempotency_key=header_key(key), _preload_content=False
            )
        ),
        lambda: details in history(connector, invoice_id),
        what=f"history note on invoice {invoice_id}",
    )


def add_note(
    connector: XeroConnector, invoice_id: str, text: str, key: str, *, look_first: bool = True
) -> ActionResult:
    """Add the tagged note unless it is there already (``look_first=False``: a first attempt,
    which cannot have written it)."""
    tag = mapping.tag(key)
    if look_first and any(tag in details for details in history(connector, invoice_id)):
        return ActionResult(remote_id=invoice_id, detail="already applied")
    details = fit_note(tag, text)
    write_note(connector, invoice_id, details, key)
    return ActionResult(remote_id=invoice_id, detail=details)
