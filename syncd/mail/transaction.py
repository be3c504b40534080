"""One mail transaction, driven step by step so that a hook runs at the last safe moment.

Why not ``smtplib.SMTP.send_message``: exactly-once needs the executor to write
"handed to SMTP" to its database at the one point where (a) the server has accepted
the sender and every recipient and said 354 to DATA, so the only thing left that can
fail before delivery is the network, and (b) nothing the server could deliver has been
transmitted yet. ``send_message`` gives no such point. Here ``before_data_end`` runs exactly
there; if it raises, the connection is dropped in the middle of DATA, which RFC 5321
(section 3.8) requires the server to treat as an aborted transaction -- sending RSET is
impossible at that point, as the server would read it as message text.

The body is serialised and dot-stuffed (:func:`envelope`) *before* the connection is opened,
so that after the hook returns the code only writes bytes and reads one reply.
"""

from __future__ import annotations

import contextlib
import copy
import email.policy
import re
import smtplib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses

from .errors import (
    MailError,
    MailOutcomeUnknownError,
    MailPermanentError,
    MailTransientError,
    fail,
    reply_text,
)

_CRLF_NORMALISE = re.compile(rb"\r\n|\r|\n")
_LEADING_DOT = re.compile(rb"(?m)^\.")


@dataclass(frozen=True, slots=True)
class SendResult:
    """The server's final reply to the message and who it accepted."""

    code: int
    reply: str
    accepted: tuple[str, ...]
    message_id: str | None
    host: str
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Envelope:
    """A message ready to transmit: who from, who to, and the exact bytes of DATA."""

    sender: str
    recipients: tuple[str, ...]
    payload: bytes
    smtputf8: bool
    eight_bit: bool
    message_id: str | None


def envelope(message: EmailMessage, envelope_to: Sequence[str], default_sender: str) -> Envelope:
    """Check the recipients and serialise the message, before any connection is opened."""
    recipients: list[str] = []
    for addr in (a.strip() for a in envelope_to):
        if addr and addr.lower() not in (r.lower() for r in recipients):
            recipients.append(addr)  # one RCPT per mailbox: no duplicate copies
    if not recipients:
        raise MailPermanentError("no envelope recipients", phase="envelope")
    if any(c in addr for addr in recipients for c in "\r\n<>"):
        raise MailPermanentError("malformed envelope recipient", phase="envelope")
    sender = _envelope_from(message, default_sender)
    smtputf8 = not all(addr.isascii() for addr in (sender, *recipients))

    outgoing = copy.copy(message)
    del outgoing["Bcc"]  # BCC belongs in the envelope only
    del outgoing["Resent-Bcc"]
    policy = email.policy.SMTPUTF8 if smtputf8 else email.policy.SMTP
    payload = dot_stuff(outgoing.as_bytes(policy=policy))
    message_id = message.get("Message-ID")
    return Envelope(
        sender=sender,
        recipients=tuple(recipients),
        payload=payload,
        smtputf8=smtputf8,
        eight_bit=not payload.isascii(),
        message_id=None if message_id is None else str(message_id),
    )


def _envelope_from(message: EmailMessage, default: str) -> str:
    values = message.get_all("From") or []
    addresses = [addr for _, addr in getaddresses([str(v) for v in values]) if addr]
    return addresses[0] if addresses else default


def dot_stuff(data: bytes) -> bytes:
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


def converse(
    smtp: smtplib.SMTP,
    env: Envelope,
    where: str,
    before_data_end: Callable[[], None] | None,
) -> tuple[int, str, tuple[str, ...]]:
    """MAIL, RCPT, DATA, the hook, the body: ``(code, reply, accepted)`` of the final reply."""
    options = _mail_options(smtp, env, where)
    try:
        accepted = _address(smtp, env, options, where)
        smtp.putcmd("data")
        code, reply = smtp.getreply()
        if code != 354:
            fail(where, "DATA", code, reply)
    except MailError:
        raise
    except smtplib.SMTPResponseException as exc:
        fail(where, "transaction", exc.smtp_code, exc.smtp_error)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailTransientError(
            f"SMTP {where}: connection lost before the message was sent: {type(exc).__name__}",
            phase="transaction",
        ) from None

    # The server now waits for the body. Last chance to say no: nothing deliverable
    # has been written yet, and dropping the connection aborts the transaction.
    if before_data_end is not None:
        before_data_end()

    try:
        smtp.send(env.payload)
        code, reply = smtp.getreply()
    except (OSError, smtplib.SMTPException) as exc:
        raise MailOutcomeUnknownError(
            f"SMTP {where}: connection lost after the message was transmitted; "
            f"it may have been delivered ({type(exc).__name__})",
            phase="end of data",
        ) from None
    if code != 250:
        fail(where, "end of data", code, reply)
    return code, reply_text(reply), tuple(accepted)


def _mail_options(smtp: smtplib.SMTP, env: Envelope, where: str) -> list[str]:
    """MAIL FROM parameters; refuses a message the server has no extension to carry."""
    options: list[str] = []
    if env.smtputf8:
        if not smtp.has_extn("smtputf8"):
            raise MailPermanentError(
                f"SMTP {where}: non-ASCII address but no SMTPUTF8 support", phase="MAIL"
            )
        options.append("SMTPUTF8")
    if env.eight_bit or env.smtputf8:
        if not smtp.has_extn("8bitmime"):
            raise MailPermanentError(
                f"SMTP {where}: 8-bit message but no 8BITMIME support", phase="MAIL"
            )
        options.append("BODY=8BITMIME")
    if smtp.has_extn("size"):
        options.append(f"SIZE={len(env.payload)}")
    return options


def _address(smtp: smtplib.SMTP, env: Envelope, options: list[str], where: str) -> list[str]:
    """MAIL FROM and one RCPT TO per recipient; every recipient accepted, or none is."""
    code, reply = smtp.mail(env.sender, options)
    if code != 250:
        _quiet_rset(smtp)
        fail(where, "MAIL FROM", code, reply)
    accepted: list[str] = []
    refused: dict[str, tuple[int, str]] = {}
    for rcpt in env.recipients:
        code, reply = smtp.rcpt(rcpt)
        if code in (250, 251):
            accepted.append(rcpt)
        else:
            refused[rcpt] = (code, reply_text(reply))
    if refused:
        _quiet_rset(smtp)
        permanent = any(c >= 500 for c, _ in refused.values())
        worst = max(c for c, _ in refused.values())
        detail = "; ".join(f"{a}: {c} {t}" for a, (c, t) in refused.items())
        message = f"SMTP {where} RCPT TO refused: {detail}"
        error = MailPermanentError if permanent else MailTransientError
        raise error(message, code=worst, phase="RCPT TO", refused=refused)
    return accepted
