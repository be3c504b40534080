"""Pure pieces of the QuickBooks connector: private notes, request ids, rate limiting."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.base import PermanentError, is_loopback, require_secure
from connectors.quickbooks import privatenote, shapes
from connectors.quickbooks.auth import RateLimiter
from connectors.quickbooks.client import request_id
from connectors.quickbooks.mapping import invoice_lines


def test_notes_append_and_trim_oldest_syncd_entries_only() -> None:
    user = "Customer prefers invoices by post.\nCall Jane before chasing."
    note = user
    for i in range(200):
        note = privatenote.append(note, f"k{i}", f"Reminder {i} sent " + "x" * 40)
        assert len(note) <= privatenote.LIMIT
        assert note.startswith(user)
    assert privatenote.has_entry(note, "k199")
    assert not privatenote.has_entry(note, "k0")


def test_note_never_cuts_user_text() -> None:
    user = "u" * 3900
    note = privatenote.append(user, "key1", "a long reminder text " * 10)
    assert note.startswith(user) and len(note) <= privatenote.LIMIT
    with pytest.raises(PermanentError, match="full"):
        privatenote.append("u" * 3995, "key2", "text")


def test_request_ids_fit_quickbooks_limit_and_are_stable() -> None:
    short = "acme:123:step-1"
    assert request_id(short) == short
    long = "acme-corporation:invoice-1234567890:reminder-after-due:2026-11"
    assert len(request_id(long)) <= 50
    assert request_id(long) == request_id(long) != request_id(long + "x")


def test_rate_limiter_spaces_calls_within_the_window() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(3, 60, monotonic=lambda: now[0], sleep=sleep)
    for _ in range(7):
        limiter.acquire()
        now[0] += 1
    # 7 calls at 3 a minute need two full waits.
    assert len(slept) == 2 and now[0] >= 120


def test_plain_http_only_to_loopback() -> None:
    assert is_loopback("http://127.0.0.1:8000/v3") and is_loopback("http://localhost/x")
    require_secure("http://127.0.0.1:9/v3")
    require_secure("https://quickbooks.api.intuit.com/v3")
    with pytest.raises(Exception, match="plain HTTP"):
        require_secure("http://quickbooks.api.intuit.com/v3")
    with pytest.raises(Exception, match="plain HTTP"):
        require_secure("http://10.0.0.5/v3")


def test_tags_recognise_the_policy_engines_keys() -> None:
    # Engine keys carry '/' and percent-encoded parts; the tag must still be recognised, or a
    # fee repeated after a crash would not be detected and notes would never be trimmed.
    key = "acme:103:fee/monthly:0"
    odd = "acme:C%2F1:customer/C%2F1:email/reminder:ab12"
    line = {
        "Id": "3",
        "Amount": Decimal("5.00"),
        "DetailType": "SalesItemLineDetail",
        "Description": f"Late fee [syncd:{key}]",
        "SalesItemLineDetail": {},
    }
    raw = {"Line": [line]}
    assert invoice_lines(shapes.shape_of(raw, shapes.Invoice))[0].fee_key == key
    note = privatenote.append("User text", key, "first")
    note = privatenote.append(note, odd, "second")
    assert privatenote.has_entry(note, key) and privatenote.has_entry(note, odd)
    # Entries are recognised as syncd's, so trimming drops them, not the user's text.
    trimmed = privatenote.append(note, "k3", "x" * 3980, limit=4000)
    assert trimmed.startswith("User text") and not privatenote.has_entry(trimmed, key)
