"""The provider errors a connector raises: the executor retries, fails or escalates by type."""

from __future__ import annotations


class ConnectorError(Exception):
    """Base of provider errors. Messages must never contain secrets."""


class TransientError(ConnectorError):
    """Worth retrying later: timeouts, 5xx, throttling."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(ConnectorError):
    """Retrying the same request cannot succeed: validation, missing data, refused edits."""


class AuthError(ConnectorError):
    """The credentials are no longer valid; a human must reconnect the organisation."""


class CursorExpiredError(ConnectorError):
    """The change cursor is older than the provider can answer for; do a full pull instead."""


class StaleWriteError(PermanentError):
    """The invoice changed at the provider since the version the write was based on, and the
    provider refused the write (nothing was written). The caller reads the invoice again and
    decides again: retrying blindly with the new version would act on an unread change."""
