"""Delivery errors, classified for the executor's retry policy.

:class:`MailTransientError`: try again later. :class:`MailPermanentError`: fix something
first. :class:`MailOutcomeUnknownError`: the message was transmitted but the server's verdict
was lost; treat it as sent, since retrying could deliver a second copy. Every SMTP reply that
is not the one expected goes through :func:`fail`, so a code is classified in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NoReturn

from syncd.logs import scrub


class MailError(Exception):
    """Base of delivery errors. Messages name the host and phase, never credentials."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        phase: str = "",
        refused: Mapping[str, tuple[int, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.phase = phase
        #: Recipients the server refused: address -> (code, reply text).
        self.refused: dict[str, tuple[int, str]] = dict(refused or {})


class MailTransientError(MailError):
    """Worth retrying later: connection failures, timeouts, 4xx replies."""


class MailPermanentError(MailError):
    """Retrying will not help until something changes: 5xx replies, refused recipients,
    authentication failures, configuration problems."""


class MailSecurityError(MailPermanentError):
    """Refused to proceed without the transport security the settings require."""


class MailOutcomeUnknownError(MailError):
    """The full message was (or may have been) transmitted but no final reply arrived.

    Deliberately neither transient nor permanent: the server may have queued the
    message, so an automatic retry risks a duplicate. The executor should treat the
    action as sent (at most once) and may reconcile by Message-ID.
    """


def reply_text(reply: bytes | str) -> str:
    """A server reply fit for a log line or an error message: one line, scrubbed, short."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return scrub(" ".join(text.split()))[:300]


def fail(where: str, phase: str, code: int, reply: bytes | str) -> NoReturn:
    """4xx is transient; anything else unexpected (5xx, nonsense codes) is permanent."""
    message = f"SMTP {where} {phase}: {code} {reply_text(reply)}".rstrip()
    if 400 <= code < 500:
        raise MailTransientError(message, code=code, phase=phase)
    raise MailPermanentError(message, code=code, phase=phase)
