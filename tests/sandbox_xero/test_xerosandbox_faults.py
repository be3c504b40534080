"""Injected faults reach the SDK the way real Xero failures would."""

from __future__ import annotations

import pytest
import urllib3
from xero_python.exceptions import HTTPStatusException, RateLimitException


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors(session, status: int) -> None:  # type: ignore[no-untyped-def]
    session.control.add_fault(str(status), method="GET", path="/api.xro/2.0/Invoices")
    with pytest.raises(HTTPStatusException) as info:
        session.api.get_invoices(session.tenant_id, page=1)
    assert info.value.status == status
    assert session.api.get_invoices(session.tenant_id, page=1).invoices, (
        "count=1: next call is fine"
    )
    assert [r["fault"] for r in session.control.requests()][-2:] == [str(status), None]


def test_injected_429_with_problem_and_count(session) -> None:  # type: ignore[no-untyped-def]
    session.control.add_fault("429", count=2, problem="day", retry_after=3600)
    for _ in range(2):
        with pytest.raises(RateLimitException) as info:
            session.api.get_contacts(session.tenant_id)
        assert info.value.rate_limit == "day"
        assert info.value.headers["Retry-After"] == "3600"
    session.api.get_contacts(session.tenant_id)
    assert session.control.faults() == []


def test_fault_matching_by_method_and_path(session) -> None:  # type: ignore[no-untyped-def]
    session.control.add_fault("500", method="POST", path="/api.xro/2.0/Invoices")
    session.api.get_invoices(session.tenant_id, page=1)  # GET does not match
    assert len(session.control.faults()) == 1
    session.control.clear_faults()
    assert session.control.faults() == []


def test_malformed_json(session) -> None:  # type: ignore[no-untyped-def]
    session.control.add_fault("malformed", path="/api.xro/2.0/Invoices")
    with pytest.raises(ValueError):
        session.api.get_invoices(session.tenant_id, page=1)


def test_timeout_holds_the_connection(session) -> None:  # type: ignore[no-untyped-def]
    session.control.add_fault("timeout", seconds=2, count=4, path="/api.xro/2.0/Payments")
    with pytest.raises((urllib3.exceptions.MaxRetryError, urllib3.exceptions.ReadTimeoutError)):
        session.api.get_payments(session.tenant_id, _request_timeout=(2, 0.2))
    session.control.clear_faults()
