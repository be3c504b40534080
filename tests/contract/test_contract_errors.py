"""Contract: one error taxonomy, and every retry and every wait in the log.

auth refused -> ``AuthError``; 5xx and timeouts -> retried, then ``TransientError``; 429 ->
waits at least what the provider asked; validation -> ``PermanentError``. Each retry is a
``connector.retry`` (or ``connector.rate_limited``) log line with its reason, attempt and delay.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from connectors.base import AuthError, LateFee, PermanentError, TransientError

from .conftest import World, make_world

MAX_ATTEMPTS = 6  # both connectors' default


def retries(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in logs if e["event"] in ("connector.retry", "connector.rate_limited")]


def some_invoice(world: World) -> str:
    return str(world.adapter.open_invoices()[0]["id"])


def warm(world: World) -> Any:
    """A connector that holds a valid access token, so faults hit the API, not the refresh."""
    connector = world.connector()
    assert connector.fetch_invoice(some_invoice(world)) is not None
    world.pace.sleeps.clear()
    return connector


@pytest.mark.parametrize("kind", ["500", "503"])
def test_server_errors_are_retried_and_each_retry_is_logged(world: World, kind: str) -> None:
    invoice = some_invoice(world)
    connector = warm(world)
    world.adapter.fault(kind, count=2)
    with capture_logs() as logs:
        assert connector.fetch_invoice(invoice) is not None
    logged = retries(logs)
    assert [e["attempt"] for e in logged] == [1, 2]
    assert all(e["event"] == "connector.retry" and e["log_level"] == "warning" for e in logged)
    assert all(kind in e["reason"] and e["error"] == "TransientError" for e in logged)
    assert [e["delay"] for e in logged] == [round(s, 3) for s in world.pace.sleeps]
    assert world.adapter.statuses()[-3:] == [int(kind), int(kind), 200]


def test_a_cut_off_body_is_retried_and_logged(world: World) -> None:
    invoice = some_invoice(world)
    connector = warm(world)
    world.adapter.fault("malformed", count=1)
    with capture_logs() as logs:
        assert connector.fetch_invoice(invoice) is not None
    (logged,) = retries(logs)
    assert logged["attempt"] == 1 and logged["error"] == "TransientError"
    assert logged["delay"] == round(world.pace.sleeps[0], 3)


def test_server_errors_give_up_with_a_transient_error(world: World) -> None:
    invoice = some_invoice(world)
    connector = warm(world)
    world.adapter.fault("503", count=MAX_ATTEMPTS + 2)
    with capture_logs() as logs, pytest.raises(TransientError):
        connector.fetch_invoice(invoice)
    assert world.adapter.statuses().count(503) == MAX_ATTEMPTS
    assert len(retries(logs)) == MAX_ATTEMPTS - 1
    assert [e["event"] for e in logs if e["event"] == "connector.retries_exhausted"] == [
        "connector.retries_exhausted"
    ]


def test_timeouts_are_retried_and_logged(world: World) -> None:
    invoice = some_invoice(world)
    connector = warm(world)
    world.adapter.set_timeout(connector, 0.5)
    world.adapter.fault("timeout", count=1, seconds=2)
    with capture_logs() as logs:
        assert connector.fetch_invoice(invoice) is not None
    (logged,) = retries(logs)
    assert logged["attempt"] == 1 and "timed out" in logged["reason"]
    assert logged["delay"] == round(world.pace.sleeps[0], 3)


def test_429_waits_at_least_retry_after_and_says_so(world: World) -> None:
    invoice = some_invoice(world)
    connector = warm(world)
    world.adapter.fault("429", count=2, retry_after=7)
    with capture_logs() as logs:
        assert connector.fetch_invoice(invoice) is not None
    logged = retries(logs)
    expected = 7.0 if world.adapter.provider == "xero" else world.adapter.default_throttle_wait
    assert [e["event"] for e in logged] == ["connector.rate_limited"] * 2
    assert [e["attempt"] for e in logged] == [1, 2]
    assert all(e["delay"] >= expected for e in logged)
    assert len(world.pace.sleeps) == 2 and min(world.pace.sleeps) >= expected


def test_the_mixed_backfill_from_the_issue_is_logged_step_by_step(world: World) -> None:
    """500, 503, two 429s and a timeout during one backfill: five log lines, not silence."""
    connector = warm(world)
    world.adapter.set_timeout(connector, 0.5)
    for kind, extra in (
        ("500", {}),
        ("503", {}),
        ("429", {"retry_after": 3}),
        ("429", {"retry_after": 3}),
        ("timeout", {"seconds": 2}),
    ):
        world.adapter.fault(kind, count=1, **extra)
    with capture_logs() as logs:
        world.syncer(connector).backfill()
    assert world.mismatches() == []
    logged = retries(logs)
    assert len(logged) == 5
    assert sorted(e["event"] for e in logged).count("connector.rate_limited") == 2
    assert all({"provider", "reason", "attempt", "delay"} <= e.keys() for e in logged)


def test_expired_access_token_is_refreshed_once_and_the_call_retried(world: World) -> None:
    invoice = some_invoice(world)
    connector = world.connector()
    assert connector.fetch_invoice(invoice) is not None
    world.adapter.expire_access_tokens()
    with capture_logs() as logs:
        assert connector.fetch_invoice(invoice) is not None
    assert connector.tokens.refreshes == 2
    assert [e["event"] for e in logs if e["event"] == "connector.token_refused"] == [
        "connector.token_refused"
    ]
    assert world.adapter.statuses()[-2:] == [401, 200]


def test_the_rotated_refresh_token_is_stored_and_used_by_the_next_connector(world: World) -> None:
    world.syncer().backfill()
    configured = world.config.connectors[world.org].credentials.refresh_token
    stored = world.connector().tokens._store.load()
    assert stored.refresh_token and stored.refresh_token != configured.get_secret_value()
    # Past any grace period the configured token is dead; a new connector (as after a
    # restart) must refresh with the stored, rotated one.
    world.adapter.advance(31 * 60)
    world.adapter.expire_access_tokens()
    report = world.syncer().sync()
    assert report.mode == "incremental"
    assert world.mismatches() == []


def test_a_dead_refresh_token_is_an_auth_error(world: World) -> None:
    invoice = some_invoice(world)
    connector = world.connector()
    assert connector.fetch_invoice(invoice) is not None
    world.adapter.kill_refresh_token()
    with pytest.raises(AuthError, match="reconnect"):
        connector.fetch_invoice(invoice)


def test_a_freshly_refreshed_token_refused_is_an_auth_error(
    tmp_path: Path, store_url: str, provider: str, mode: str
) -> None:
    # Tokens that are dead on arrival: every call is refused, the refresh does not help.
    for world in make_world(
        tmp_path, store_url, provider, mode, invoices=20, sandbox={"access_token_ttl": 0}
    ):
        invoice = some_invoice(world)
        with pytest.raises(AuthError, match="freshly refreshed"):
            world.connector().fetch_invoice(invoice)
        assert world.adapter.statuses()[-2:] == [401, 401]


def test_a_validation_refusal_is_a_permanent_error(
    tmp_path: Path, store_url: str, provider: str, mode: str
) -> None:
    for world in make_world(tmp_path, store_url, provider, mode, invoices=20):
        invoice = world.adapter.open_invoices()[0]
        connector = world.connector()
        connector.options = connector.options.model_copy(update=world.adapter.bad_fee_options())
        fee = LateFee(Decimal("5.00"), invoice["currency"], "Late fee")
        with capture_logs() as logs, pytest.raises(PermanentError):
            connector.add_charge(invoice["id"], fee, idempotency_key="acme:9:fee/l:1")
        assert retries(logs) == [], "a refusal is not retried"
        assert 400 in world.adapter.statuses()
