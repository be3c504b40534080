"""Secrets never reach log output, wherever they hide in an event."""

from __future__ import annotations

import io
import json

import pytest
import structlog

from syncd import logs


@pytest.fixture(autouse=True)
def _only_this_tests_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Secrets registered by earlier tests in the process (a sandbox client secret such as
    "client" or "secret") would also mask parts of the key names these tests read back."""
    monkeypatch.setattr(logs, "_known", set())


def emit(**event: object) -> str:
    stream = io.StringIO()
    logs.configure(fmt="json", stream=stream)
    structlog.get_logger().info("event", **event)
    return stream.getvalue()


def test_values_under_secret_keys_are_masked_at_any_depth() -> None:
    out = json.loads(
        emit(
            refresh_token="rt-abcdef123",
            org={"name": "acme", "credentials": {"client_secret": "cs-999999", "client_id": "ok"}},
            headers=[{"Authorization": "Bearer abc.def"}],
        )
    )
    assert out["refresh_token"] == logs.MASK
    assert out["org"]["credentials"]["client_secret"] == logs.MASK
    assert out["org"]["credentials"]["client_id"] == "ok"
    assert out["headers"][0]["Authorization"] == logs.MASK


def test_secrets_inside_free_text_are_scrubbed() -> None:
    logs.register_secret("s3cr3t-value-xyz")
    text = emit(
        detail="POST body grant_type=refresh_token&refresh_token=AB12cd34&client_id=x",
        note="header was Bearer eyJhbGciOi.payload.sig and password: hunter22",
        other="the key s3cr3t-value-xyz leaked",
    )
    for secret in ("AB12cd34", "eyJhbGciOi", "hunter22", "s3cr3t-value-xyz"):
        assert secret not in text
    assert "client_id=x" in text


def test_exception_text_is_scrubbed() -> None:
    logs.register_secret("tok-0987654321")
    stream = io.StringIO()
    logs.configure(fmt="json", stream=stream)
    try:
        raise RuntimeError("refresh failed for tok-0987654321")
    except RuntimeError:
        structlog.get_logger().exception("refresh")
    assert "tok-0987654321" not in stream.getvalue()
    assert "refresh failed" in stream.getvalue()


def test_json_lines_when_not_a_terminal() -> None:
    stream = io.StringIO()
    logs.configure(fmt="auto", stream=stream)  # pytest's stdout is not a TTY
    structlog.get_logger().info("hello", n=1)
    line = json.loads(stream.getvalue())
    assert line["event"] == "hello" and line["level"] == "info" and "timestamp" in line
