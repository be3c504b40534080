"""SMTP delivery with a hook at the last moment before the message is committed.

Why not ``smtplib.SMTP.send_message``: exactly-once needs the executor to write
"handed to SMTP" to its database at the one point where (a) the server has accepted
the sender and every recipient and said 354 to DATA, so the only thing left that can
fail before delivery is the network, and (b) nothing the server could deliver has been
transmitted yet. ``send_message`` gives no such point. Here the transaction is driven
step by step and ``before_data_end`` runs exactly there; if it raises, the connection
is dropped in the middle of DATA, which RFC 5321 (section 3.8) requires the server to
treat as an aborted transaction -- sending RSET is impossible at that point, as the
server would read it as message text.

The body is serialised and dot-stuffed *before* the connection is opened, so that after
the hook returns the code only writes bytes and reads one reply.

Errors are classified for the executor's retry policy: :class:`MailTransientError`
(try again later), :class:`MailPermanentError` (fix something first),
:class:`MailOutcomeUnknownError` (the message was transmitted but the server's verdict
was lost; treat as sent -- retrying could deliver a second copy). A single ``send`` call
never transmits a message twice: there are no internal retries.
"""

from __future__ import annotations

import contextlib
import copy
import email.policy
import ipaddress
import re
import smtplib
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses
from typing import NoReturn

from syncd.config.models import EmailSettings
from syncd.logs import get_logger, scrub

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
_CRLF_NORMALISE = re.compile(rb"\r\n|\r|\n")
_LEADING_DOT = re.compile(rb"(?m)^\.")


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


@dataclass(frozen=True, slots=True)
class SendResult:
    """The server's final reply to the message and who it accepted."""

    code: int
    reply: str
    accepted: tuple[str, ...]
    message_id: str | None
    host: str
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)


def is_loopback_host(host: str) -> bool:
    """Loopback by name or literal address only: no DNS lookup an attacker could steer."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _reply_text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return scrub(" ".join(text.split()))[:300]


def _dot_stuff(data: bytes) -> bytes:
    """CRLF-normalise, double leading dots and terminate, as ``smtplib.SMTP.data`` does.

    Normalising bare CR/LF first matters: a lone ``\\n.\\n`` must never reach the server,
    where some implementations would read it as the end of the message (SMTP smuggling).
    """
    data = _CRLF_NORMALISE.sub(b"\r\n", data)
    data = _LEADING_DOT.sub(b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def _quiet_rset(smtp: smtplib.SMTP) -> None:
    """Best-effort tidy-up before reporting the real error; its own failure is irrelevant."""
    with contextlib.suppress(OSError, smtplib.SMTPException):
        smtp.rset()


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
        self._ssl_context = ssl_context
        self._local_hostname = local_hostname
        if settings.username and settings.password is None:
            raise MailPermanentError("email: a username is set but no password", phase="config")
        if (
            settings.username
            and settings.security == "none"
            and not is_loopback_host(settings.host)
        ):
            raise MailSecurityError(
                f"email: refusing to send a password in clear to {settings.host}; "
                'use security = "starttls" or "tls"',
                phase="config",
            )

    @property
    def _where(self) -> str:
        return f"{self._settings.host}:{self._settings.port}"

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    def _password(self) -> str:
        password = self._settings.password
        return "" if password is None else password.get_secret_value()

    def _fail(self, phase: str, code: int, reply: bytes | str) -> NoReturn:
        """4xx is transient; anything else unexpected (5xx, nonsense codes) is permanent."""
        message = f"SMTP {self._where} {phase}: {code} {_reply_text(reply)}".rstrip()
        if 400 <= code < 500:
            raise MailTransientError(message, code=code, phase=phase)
        raise MailPermanentError(message, code=code, phase=phase)

    def _connect(self) -> smtplib.SMTP:
        s = self._settings
        try:
            smtp: smtplib.SMTP
            if s.security == "tls":
                smtp = smtplib.SMTP_SSL(
                    s.host,
                    s.port,
                    local_hostname=self._local_hostname,
                    timeout=s.timeout_seconds,
                    context=self._context(),
                )
            else:
                smtp = smtplib.SMTP(
                    s.host, s.port, local_hostname=self._local_hostname, timeout=s.timeout_seconds
                )
        except smtplib.SMTPConnectError as exc:
            self._fail("greeting", exc.smtp_code, exc.smtp_error)
        except ssl.SSLCertVerificationError as exc:
            raise MailSecurityError(
                f"SMTP {self._where}: TLS certificate not trusted: {exc.verify_message}",
                phase="connect",
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise MailTransientError(
                f"SMTP {self._where}: cannot connect: "
                f"{type(exc).__name__}: {_reply_text(str(exc))}",
                phase="connect",
            ) from None
        try:
            self._handshake(smtp)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _handshake(self, smtp: smtplib.SMTP) -> None:
        """EHLO, STARTTLS, AUTH: everything before the mail transaction."""
        s = self._settings
        phase = "EHLO"
        try:
            smtp.ehlo_or_helo_if_needed()
            if s.security == "starttls":
                phase = "STARTTLS"
                if not smtp.has_extn("starttls"):
                    raise MailSecurityError(
                        f"SMTP {self._where}: server does not offer STARTTLS; refusing to "
                        "continue in clear",
                        phase="STARTTLS",
                    )
                smtp.starttls(context=self._context())  # raises unless 220
                phase = "EHLO"
                smtp.ehlo()
            if s.username:
                phase = "AUTH"
                secure = s.security in ("starttls", "tls")
                if not secure and not is_loopback_host(s.host):  # also checked at init
                    raise MailSecurityError(
                        f"SMTP {self._where}: refusing to authenticate without TLS",
                        phase="auth",
                    )
                if not smtp.has_extn("auth"):
                    raise MailPermanentError(
                        f"SMTP {self._where}: server does not offer AUTH", phase="auth"
                    )
                smtp.login(s.username, self._password())
        except MailError:
            raise
        except smtplib.SMTPResponseException as exc:
            # Includes SMTPAuthenticationError: 535 is permanent, 454 transient.
            self._fail(phase, exc.smtp_code, exc.smtp_error)
        except ssl.SSLCertVerificationError as exc:
            raise MailSecurityError(
                f"SMTP {self._where}: TLS certificate not trusted: {exc.verify_message}",
                phase=phase,
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise MailPermanentError(f"SMTP {self._where}: {exc}", phase=phase) from None
        except (OSError, smtplib.SMTPException) as exc:
            if isinstance(exc, smtplib.SMTPException) and "authentication method" in str(exc):
                raise MailPermanentError(
                    f"SMTP {self._where}: no supported authentication method", phase=phase
                ) from None
            raise MailTransientError(
                f"SMTP {self._where}: connection failed during {phase}: {type(exc).__name__}",
                phase=phase,
            ) from None

    def probe(self) -> str:
        """Connect, EHLO, STARTTLS or TLS as configured, AUTH, QUIT: what ``syncd check``
        needs to know before a cycle relies on this server. Never starts a mail transaction.

        Returns a one-line description; raises the same errors :meth:`send` would."""
        smtp = self._connect()
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
        return f"{self._where} answered ({tls}); {login}"

    @staticmethod
    def _envelope_from(message: EmailMessage, default: str) -> str:
        values = message.get_all("From") or []
        addresses = [addr for _, addr in getaddresses([str(v) for v in values]) if addr]
        return addresses[0] if addresses else default

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
        recipients: list[str] = []
        for addr in (a.strip() for a in envelope_to):
            if addr and addr.lower() not in (r.lower() for r in recipients):
                recipients.append(addr)  # one RCPT per mailbox: no duplicate copies
        if not recipients:
            raise MailPermanentError("no envelope recipients", phase="envelope")
        if any(c in addr for addr in recipients for c in "\r\n<>"):
            raise MailPermanentError("malformed envelope recipient", phase="envelope")
        sender = self._envelope_from(message, self._settings.from_address)
        smtputf8 = not all(addr.isascii() for addr in (sender, *recipients))

        outgoing = copy.copy(message)
        del outgoing["Bcc"]  # BCC belongs in the envelope only
        del outgoing["Resent-Bcc"]
        policy = email.policy.SMTPUTF8 if smtputf8 else email.policy.SMTP
        payload = _dot_stuff(outgoing.as_bytes(policy=policy))
        eight_bit = not payload.isascii()
        message_id = message.get("Message-ID")
        message_id = None if message_id is None else str(message_id)

        smtp = self._connect()
        try:
            result = self._transaction(
                smtp, sender, recipients, payload, before_data_end, smtputf8, eight_bit
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
            message_id=message_id,
            recipients=len(result.accepted),
            code=result.code,
        )
        return SendResult(
            code=result.code,
            reply=result.reply,
            accepted=result.accepted,
            message_id=message_id,
            host=self._settings.host,
        )

    def _transaction(
        self,
        smtp: smtplib.SMTP,
        sender: str,
        recipients: list[str],
        payload: bytes,
        before_data_end: Callable[[], None] | None,
        smtputf8: bool,
        eight_bit: bool,
    ) -> SendResult:
        options: list[str] = []
        if smtputf8:
            if not smtp.has_extn("smtputf8"):
                raise MailPermanentError(
                    f"SMTP {self._where}: non-ASCII address but no SMTPUTF8 support",
                    phase="MAIL",
                )
            options.append("SMTPUTF8")
        if eight_bit or smtputf8:
            if not smtp.has_extn("8bitmime"):
                raise MailPermanentError(
                    f"SMTP {self._where}: 8-bit message but no 8BITMIME support", phase="MAIL"
                )
            options.append("BODY=8BITMIME")
        if smtp.has_extn("size"):
            options.append(f"SIZE={len(payload)}")

        try:
            code, reply = smtp.mail(sender, options)
            if code != 250:
                _quiet_rset(smtp)
                self._fail("MAIL FROM", code, reply)
            accepted: list[str] = []
            refused: dict[str, tuple[int, str]] = {}
            for rcpt in recipients:
                code, reply = smtp.rcpt(rcpt)
                if code in (250, 251):
                    accepted.append(rcpt)
                else:
                    refused[rcpt] = (code, _reply_text(reply))
            if refused:
                _quiet_rset(smtp)
                permanent = any(c >= 500 for c, _ in refused.values())
                worst = max(c for c, _ in refused.values())
                detail = "; ".join(f"{a}: {c} {t}" for a, (c, t) in refused.items())
                message = f"SMTP {self._where} RCPT TO refused: {detail}"
                error = MailPermanentError if permanent else MailTransientError
                raise error(message, code=worst, phase="RCPT TO", refused=refused)
            smtp.putcmd("data")
            code, reply = smtp.getreply()
            if code != 354:
                self._fail("DATA", code, reply)
        except MailError:
            raise
        except smtplib.SMTPResponseException as exc:
            self._fail("transaction", exc.smtp_code, exc.smtp_error)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailTransientError(
                f"SMTP {self._where}: connection lost before the message was sent: "
                f"{type(exc).__name__}",
                phase="transaction",
            ) from None

        # The server now waits for the body. Last chance to say no: nothing deliverable
        # has been written yet, and dropping the connection aborts the transaction.
        if before_data_end is not None:
            before_data_end()

        try:
            smtp.send(payload)
            code, reply = smtp.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            raise MailOutcomeUnknownError(
                f"SMTP {self._where}: connection lost after the message was transmitted; "
                f"it may have been delivered ({type(exc).__name__})",
                phase="end of data",
            ) from None
        if code != 250:
            self._fail("end of data", code, reply)
        return SendResult(
            code=code,
            reply=_reply_text(reply),
            accepted=tuple(accepted),
            message_id=None,
            host=self._settings.host,
        )
