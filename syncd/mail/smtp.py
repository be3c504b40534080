"""SMTP delivery with a hook at the last moment before the message is committed.

:class:`SmtpSender` puts the pieces together: the message is checked and serialised first
(:mod:`.transaction`), then a fresh connection is opened and authenticated
(:mod:`.connection`), then one transaction is driven step by step with ``before_data_end``
at the one point where the executor may record "handed to SMTP" (see :mod:`.transaction` for
why that point). Errors are classified for the executor's retry policy (:mod:`.errors`). A
single ``send`` call never transmits a message twice: there are no internal retries.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from collections.abc import Callable, Sequence
from email.message import EmailMessage

from syncd.config.models import EmailSettings
from syncd.logs import get_logger

from . import transaction
from .connection import Dialer, is_loopback_host
from .errors import (
    MailError,
    MailOutcomeUnknownError,
    MailPermanentError,
    MailSecurityError,
    MailTransientError,
)
from .transaction import SendResult

__all__ = [
    "MailError",
    "MailOutcomeUnknownError",
    "MailPermanentError",
    "MailSecurityError",
    "MailTransientError",
    "SendResult",
    "SmtpSender",
    "is_loopback_host",
]

log = get_logger("syncd.mail")


class SmtpSender:
    """Delivers one message per :meth:`send`, over a fresh connection each time.

    A connection per message keeps the failure model simple (no half-dead pooled
    sessions between dunning cycles) and costs little at reminder volumes.
    ``ssl_context`` defaults to the system trust store with hostname checking.
    Construction fails with :class:`MailSecurityError` when the settings would put a
    password on the wire in clear, so a bad config is caught at startup.
    """

    def __init__(
        self,
        settings: EmailSettings,
        *,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        self._settings = settings
        self._dialer = Dialer(settings, ssl_context=ssl_context, local_hostname=local_hostname)

    def probe(self) -> str:
        """Connect, EHLO, STARTTLS or TLS as configured, AUTH, QUIT: what ``syncd check``
        needs to know before a cycle relies on this server. Never starts a mail transaction.

        Returns a one-line description; raises the same errors :meth:`send` would."""
        smtp = self._dialer.open()
        try:
            tls = "TLS" if self._settings.security != "none" else "no TLS"
            login = (
                f"login accepted for {self._settings.username}"
                if self._settings.username
                else "no login configured"
            )
            with contextlib.suppress(OSError, smtplib.SMTPException):
                smtp.quit()
        finally:
            smtp.close()
        log.info("mail.probe", host=self._settings.host, security=self._settings.security)
        return f"{self._dialer.where} answered ({tls}); {login}"

    def send(
        self,
        message: EmailMessage,
        *,
        envelope_to: Sequence[str],
        before_data_end: Callable[[], None] | None = None,
    ) -> SendResult:
        """Transmit ``message`` once to ``envelope_to`` (To plus any BCC addresses).

        All recipients must be accepted, or nothing is sent: delivering to the BCC copy
        but not the customer would record a reminder nobody received. ``before_data_end``
        runs after MAIL, every RCPT and the 354 reply to DATA, immediately before the
        body; if it raises, the connection is dropped, nothing is delivered, and its
        exception propagates unchanged.
        """
        env = transaction.envelope(message, envelope_to, self._settings.from_address)
        smtp = self._dialer.open()
        try:
            code, reply, accepted = transaction.converse(
                smtp, env, self._dialer.where, before_data_end
            )
        except BaseException:
            smtp.close()  # never QUIT here: mid-DATA, QUIT would be message text
            raise
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass  # delivered already; a failed goodbye changes nothing
        finally:
            smtp.close()
        log.info(
            "mail.sent",
            host=self._settings.host,
            message_id=env.message_id,
            recipients=len(accepted),
            code=code,
        )
        return SendResult(
            code=code,
            reply=reply,
            accepted=accepted,
            message_id=env.message_id,
            host=self._settings.host,
        )
