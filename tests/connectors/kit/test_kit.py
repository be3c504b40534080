"""The kit's pure parts: tags, resume cursors, and the retry policy's arithmetic and log."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from connectors.base import AuthError, PermanentError, TransientError
from connectors.kit import (
    RateLimited,
    Unauthorized,
    call_with_retries,
    decode_cursor,
    encode_cursor,
    find_tag,
    has_tag,
    tag,
    tag_key,
)


@pytest.mark.parametrize(
    "key", ["acme:103:fee/monthly:0", "acme:C%2F1:customer/C%2F1:email/reminder:ab12"]
)
def test_engine_keys_are_tagged_as_they_are_and_found_again(key: str) -> None:
    text = f"Late fee {tag(key)} and more"
    assert tag(key) == f"[syncd:{key}]"
    assert find_tag(text) == tag_key(key) == key
    assert has_tag(text, key) and not has_tag(text, key + "x")


@pytest.mark.parametrize("key", ["with space", "bracket]key", "x" * 101, "ünïcode"])
def test_odd_keys_are_hashed_into_one_findable_token(key: str) -> None:
    hashed = tag_key(key)
    assert hashed.startswith("sha-") and hashed == tag_key(key) != tag_key(key + "!")
    assert find_tag(f"note {tag(key)}") == hashed


def test_cursor_round_trip_and_corrupt_input_is_none_with_a_warning() -> None:
    text = encode_cursor({"stream": "invoices", "page": 3})
    assert decode_cursor(text, lambda d: (d["stream"], int(d["page"])), provider="P") == (
        "invoices",
        3,
    )
    with capture_logs() as logs:
        for bad in ("{", "[]", '{"page": "x"}', '"text"'):
            assert decode_cursor(bad, lambda d: int(d["page"]), provider="P") is None
    assert [e["event"] for e in logs] == ["connector.resume_cursor_unreadable"] * 4
    assert decode_cursor(None, lambda d: d, provider="P") is None


def test_retry_waits_at_least_retry_after_and_logs_each_wait() -> None:
    slept: list[float] = []
    answers: list[Exception | str] = [RateLimited("429", retry_after=30), TransientError("503")]

    def call() -> str:
        outcome = answers.pop(0) if answers else "ok"
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    with capture_logs() as logs:
        result = call_with_retries(
            call, provider="P", refresh=lambda: None, sleep=slept.append, max_attempts=6
        )
    assert result == "ok" and slept[0] >= 30 and len(slept) == 2
    assert [(e["event"], e["attempt"]) for e in logs] == [
        ("connector.rate_limited", 1),
        ("connector.retry", 2),
    ]
    assert [e["delay"] for e in logs] == [round(s, 3) for s in slept]


def test_a_401_refreshes_once_then_a_second_401_is_an_auth_error() -> None:
    refreshed: list[int] = []

    def refused() -> None:
        raise Unauthorized("HTTP 401")

    with pytest.raises(AuthError, match="freshly refreshed"):
        call_with_retries(
            refused,
            provider="P",
            refresh=lambda: refreshed.append(1),
            sleep=lambda _s: None,
            max_attempts=6,
        )
    assert refreshed == [1]


def test_permanent_errors_are_not_retried() -> None:
    calls: list[int] = []

    def rejected() -> None:
        calls.append(1)
        raise PermanentError("400")

    with capture_logs() as logs, pytest.raises(PermanentError):
        call_with_retries(
            rejected, provider="P", refresh=lambda: None, sleep=lambda _s: None, max_attempts=6
        )
    assert calls == [1] and logs == []
