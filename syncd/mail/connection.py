"""Opening an SMTP session: connect, EHLO, STARTTLS or TLS, AUTH.

Everything before the mail transaction, shared by a send and a probe. A password never goes
on the wire in clear except to a loopback server (a local test relay): the settings are
refused at construction, and again before AUTH.
"""

from __future__ import annotations

import ipaddress
import smtplib
import ssl

from syncd.config.models import EmailSettings

from .errors import (
    MailError,
    MailPermanentError,
    MailSecurityError,
    MailTransientError,
    fail,
    reply_text,
)


def is_loopback_host(host: str) -> bool:
    """Loopback by name or literal address only: no DNS lookup an attacker could steer."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class Dialer:
    """Opens one authenticated connection per :meth:`open`.

    ``ssl_context`` defaults to the system trust store with hostname checking. Construction
    fails with :class:`MailSecurityError` when the settings would put a password on the wire
    in clear, so a bad config is caught at startup.
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
    def where(self) -> str:
        return f"{self._settings.host}:{self._settings.port}"

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    def _password(self) -> str:
        password = self._settings.password
        return "" if password is None else password.get_secret_value()

    def open(self) -> smtplib.SMTP:
        """A connection ready for a mail transaction; closed again if the handshake fails."""
        smtp = self._connect()
        try:
            self._handshake(smtp)
        except BaseException:
            smtp.close()
            raise
        return smtp

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
            fail(self.where, "greeting", exc.smtp_code, exc.smtp_error)
        except ssl.SSLCertVerificationError as exc:
            raise MailSecurityError(
                f"SMTP {self.where}: TLS certificate not trusted: {exc.verify_message}",
                phase="connect",
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise MailTransientError(
                f"SMTP {self.where}: cannot connect: {type(exc).__name__}: {reply_text(str(exc))}",
                phase="connect",
            ) from None
        return smtp

    def _handshake(self, smtp: smtplib.SMTP) -> None:
        """EHLO, STARTTLS, AUTH: everything before the mail transaction."""
        phase = "EHLO"
        try:
            smtp.ehlo_or_helo_if_needed()
            if self._settings.security == "starttls":
                phase = "STARTTLS"
                self._starttls(smtp)
                phase = "EHLO"
                smtp.ehlo()
            if self._settings.username:
                phase = "AUTH"
                self._login(smtp, self._settings.username)
        except MailError:
            raise
        except smtplib.SMTPResponseException as exc:
            # Includes SMTPAuthenticationError: 535 is permanent, 454 transient.
            fail(self.where, phase, exc.smtp_code, exc.smtp_error)
        except ssl.SSLCertVerificationError as exc:
            raise MailSecurityError(
                f"SMTP {self.where}: TLS certificate not trusted: {exc.verify_message}",
                phase=phase,
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise MailPermanentError(f"SMTP {self.where}: {exc}", phase=phase) from None
        except (OSError, smtplib.SMTPException) as exc:
            if isinstance(exc, smtplib.SMTPException) and "authentication method" in str(exc):
                raise MailPermanentError(
                    f"SMTP {self.where}: no supported authentication method", phase=phase
                ) from None
            raise MailTransientError(
                f"SMTP {self.where}: connection failed during {phase}: {type(exc).__name__}",
                phase=phase,
            ) from None

    def _starttls(self, smtp: smtplib.SMTP) -> None:
        if not smtp.has_extn("starttls"):
            raise MailSecurityError(
                f"SMTP {self.where}: server does not offer STARTTLS; refusing to continue in clear",
                phase="STARTTLS",
            )
        smtp.starttls(context=self._context())  # raises unless 220

    def _login(self, smtp: smtplib.SMTP, username: str) -> None:
        secure = self._settings.security in ("starttls", "tls")
        if not secure and not is_loopback_host(self._settings.host):  # also checked at init
            raise MailSecurityError(
                f"SMTP {self.where}: refusing to authenticate without TLS", phase="auth"
            )
        if not smtp.has_extn("auth"):
            raise MailPermanentError(f"SMTP {self.where}: server does not offer AUTH", phase="auth")
        smtp.login(username, self._password())
