"""Rate limits: headers on every response, 429 with Retry-After and the problem."""

from __future__ import annotations

import contextlib
import threading

import pytest
from xero_python.exceptions import RateLimitException


def _headers(session):  # type: ignore[no-untyped-def]
    return session.api_client.last_response.getheaders()


def test_limit_headers_decrease(session) -> None:  # type: ignore[no-untyped-def]
    session.api.get_contacts(session.tenant_id, page=1)
    first = _headers(session)
    session.api.get_contacts(session.tenant_id, page=1)
    second = _headers(session)
    for name in ("X-DayLimit-Remaining", "X-MinLimit-Remaining", "X-AppMinLimit-Remaining"):
        assert int(second[name]) == int(first[name]) - 1


def test_minute_limit_429_then_clock_moves_on(session) -> None:  # type: ignore[no-untyped-def]
    session.control.limits(minute=3)
    session.control.reset_limits()
    for _ in range(3):
        session.api.get_invoices(session.tenant_id, page=1, page_size=1)
    assert _headers(session)["X-MinLimit-Remaining"] == "0"
    with pytest.raises(RateLimitException) as info:
        session.api.get_invoices(session.tenant_id, page=1, page_size=1)
    assert info.value.status == 429
    assert info.value.rate_limit == "minute"
    retry_after = int(info.value.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert "X-DayLimit-Remaining" in info.value.headers
    session.control.advance(retry_after)
    session.api.get_invoices(session.tenant_id, page=1, page_size=1)


def test_day_limit(session) -> None:  # type: ignore[no-untyped-def]
    session.control.limits(day=2)
    session.control.reset_limits()
    session.api.get_contacts(session.tenant_id)
    session.api.get_contacts(session.tenant_id)
    with pytest.raises(RateLimitException) as info:
        session.api.get_contacts(session.tenant_id)
    assert info.value.rate_limit == "day"
    assert int(info.value.headers["Retry-After"]) > 60
    session.control.advance(24 * 3600)
    session.api_client.refresh_oauth2_token()  # the access token aged out too
    session.api.get_contacts(session.tenant_id)


def test_concurrent_limit(session) -> None:  # type: ignore[no-untyped-def]
    session.control.limits(concurrent=1, minute=100)
    session.control.reset_limits()
    session.control.add_fault("timeout", seconds=5, path="/api.xro/2.0/Contacts")
    held = threading.Event()

    def slow() -> None:
        with contextlib.suppress(Exception):  # the held call is expected to fail
            session.api.get_contacts(session.tenant_id, _request_timeout=(5, 0.1))
        held.set()

    worker = threading.Thread(target=slow)
    worker.start()
    for _ in range(500):
        if any(r["fault"] == "timeout" for r in session.control.requests()):
            break
        threading.Event().wait(0.01)
    with pytest.raises(RateLimitException) as info:
        session.api.get_invoices(session.tenant_id, page=1)
    assert info.value.rate_limit == "concurrent"
    assert info.value.headers["Retry-After"] == "1"
    # The refusal is counted against the minute like the held call (unkind reading).
    assert info.value.headers["X-MinLimit-Remaining"] == "98"
    held.wait(10)
    worker.join(10)


def test_control_api_is_not_rate_limited(session) -> None:  # type: ignore[no-untyped-def]
    session.control.limits(minute=1)
    for _ in range(5):
        session.control.truth()
    assert session.control.limits()["minute"] == 1


def test_default_sdk_sleeps_retry_after_and_gets_through(sandbox, new_session) -> None:  # type: ignore[no-untyped-def]
    """Unconfigured xero-python (urllib3 default Retry) waits out Retry-After itself.

    The window runs on the sandbox clock, which also runs in real time: after
    moving it to one second before the second call leaves the window, the real
    one-second sleep urllib3 takes is exactly enough (the refused call counts,
    so with a limit of two the first call leaving is not enough: the second must).
    """
    session = new_session(sandbox, urllib3_retry_after=True)
    session.control.limits(minute=2)
    session.control.reset_limits()
    session.api.get_contacts(session.tenant_id)
    session.api.get_contacts(session.tenant_id)
    session.control.advance(59.2)
    session.api.get_contacts(session.tenant_id)
    statuses = [r["status"] for r in session.control.requests() if r["path"].endswith("/Contacts")]
    assert statuses[-2:] == [429, 200]
    retry_after = session.control.requests()[-2]["headers"]["Retry-After"]
    assert retry_after == "1"


def _refused(session, call) -> RateLimitException:  # type: ignore[no-untyped-def]
    with pytest.raises(RateLimitException) as info:
        call()
    return info.value


def test_refused_calls_use_up_the_minute_and_day(session) -> None:  # type: ignore[no-untyped-def]
    """Xero does not say whether a 429 counts: the sandbox counts it (the unkind reading)."""
    session.control.limits(minute=2, day=100)
    session.control.reset_limits()

    def call() -> None:
        session.api.get_contacts(session.tenant_id, page=1)

    call()
    call()
    session.control.advance(30)
    first = _refused(session, call)
    second = _refused(session, call)
    assert first.headers["X-MinLimit-Remaining"] == "0"
    assert int(first.headers["X-DayLimit-Remaining"]) == 100 - 3
    assert int(second.headers["X-DayLimit-Remaining"]) == 100 - 4
    # Knocking while refused keeps the window full: the wait does not shrink to the first
    # call's age but runs from the second call onwards, and each refusal adds one.
    session.control.advance(30)  # the two accepted calls have left; two refusals remain
    third = _refused(session, call)
    assert third.rate_limit == "minute"
    assert session.control.limits()["remaining"]["X-MinLimit-Remaining"] == "0"


def test_waiting_retry_after_is_exactly_enough(session) -> None:  # type: ignore[no-untyped-def]
    session.control.limits(minute=3)
    session.control.reset_limits()

    def call() -> None:
        session.api.get_invoices(session.tenant_id, page=1, page_size=1)

    call()
    session.control.advance(20)
    call()
    session.control.advance(20)
    call()
    refused = _refused(session, call)
    retry_after = int(refused.headers["Retry-After"])
    # The refusal is counted, so one call leaving is not enough: the second must (20 s old).
    assert 39 <= retry_after <= 40
    session.control.advance(retry_after - 2)
    assert _refused(session, call).rate_limit == "minute"  # too early (and counted)
    # That early knock is counted too: now the third call must leave as well.
    later = int(_refused_headers(session, call)["Retry-After"])
    session.control.advance(later)
    call()


def _refused_headers(session, call) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return dict(_refused(session, call).headers)


def test_the_longest_wait_is_named(session) -> None:  # type: ignore[no-untyped-def]
    """Minute and day both spent: Retry-After is the day's wait, and the problem is "day"."""
    session.control.limits(minute=2, day=2)
    session.control.reset_limits()
    session.api.get_contacts(session.tenant_id, page=1)
    session.api.get_contacts(session.tenant_id, page=1)
    refused = _refused(session, lambda: session.api.get_contacts(session.tenant_id, page=1))
    assert refused.rate_limit == "day"
    assert int(refused.headers["Retry-After"]) > 23 * 3600
