"""Reminder emails sent by QuickBooks itself (``POST /invoice/{id}/send``), exactly once.

Intuit does not say how long a ``requestid`` is remembered, nor whether ``/send`` honours it at
all, and an email cannot be taken back. So the send is guarded by a durable marker written
*before* it, in the invoice's own PrivateNote:

    [syncd:KEY] reminder email requested through QuickBooks (last delivery before: T)

where T is the invoice's ``DeliveryInfo.DeliveryTime`` read in the same write (or "none").
QBO stamps ``DeliveryInfo`` on every send, so whenever the action runs again (a retry after a
timeout, a restart after a crash, a replay window that expired) a fresh read tells whether the
email went: a delivery time other than T means it did, and nothing is sent again. The check runs
inside every retry of the send itself, because a timed-out send may well have been delivered.
A delivery by someone else after the marker also counts as sent: the customer just got the
invoice, and a careful bookkeeper would not send it again the same day.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from . import privatenote

MARKER = "reminder email requested through QuickBooks (last delivery before: {previous})"
_PREVIOUS = re.compile(r"\(last delivery before: ([^)]*)\)")
NONE = "none"


def delivery_time(raw: Mapping[str, Any]) -> str:
    info = raw.get("DeliveryInfo")
    value = info.get("DeliveryTime") if isinstance(info, Mapping) else None
    return str(value) if value else NONE


def marker_text(raw: Mapping[str, Any]) -> str:
    return MARKER.format(previous=delivery_time(raw))


def marked_previous(note: str | None, key: str) -> str | None:
    """The delivery time recorded by this key's marker, or ``None`` if there is no marker."""
    tag = f"[syncd:{key}] "
    for line in (note or "").split("\n"):
        if line.startswith(tag):
            found = _PREVIOUS.search(line)
            return found.group(1).strip() if found else NONE
    return None


def mark(raw: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    """The sparse update writing this key's marker; ``None`` if the marker is there already."""
    if marked_previous(raw.get("PrivateNote"), key) is not None:
        return None
    note = privatenote.append(raw.get("PrivateNote"), key, marker_text(raw))
    return {"Id": raw["Id"], "SyncToken": raw["SyncToken"], "sparse": True, "PrivateNote": note}


def delivered_since_marker(raw: Mapping[str, Any], key: str) -> bool:
    previous = marked_previous(raw.get("PrivateNote"), key)
    return previous is not None and delivery_time(raw) != previous


def send_once(
    read: Callable[[], dict[str, Any]],
    post_send: Callable[[], dict[str, Any]],
    key: str,
) -> tuple[bool, dict[str, Any]]:
    """One attempt, safe to repeat: (sent now?, the invoice after it)."""
    fresh = read()
    if delivered_since_marker(fresh, key):
        return False, fresh
    result = post_send()
    return True, dict(result.get("Invoice") or {})
