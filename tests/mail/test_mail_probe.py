"""The pre-flight SMTP probe: the full handshake (STARTTLS or TLS, AUTH) and a QUIT, never
a mail transaction; failures are the same errors a send would meet."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from syncd.check.run import smtp_check
from syncd.mail import MailPermanentError, MailSecurityError, SmtpSender
from tests.mail.conftest import PASSWORD, USERNAME, ServerFactory, TlsMaterial


def test_probe_does_starttls_and_auth_and_sends_nothing(
    smtp_server: ServerFactory, tls_material: TlsMaterial
) -> None:
    server = smtp_server(
        tls_context=tls_material.server_context(),
        require_starttls=True,
        auth_required=True,
        authenticator=True,
    )
    settings = server.settings(security="starttls", username=USERNAME, password=SecretStr(PASSWORD))
    detail = SmtpSender(settings, ssl_context=tls_material.client_context()).probe()
    assert f"login accepted for {USERNAME}" in detail and "(TLS)" in detail
    server.recorder.wait_for("CLOSED")
    assert server.recorder.auth == [("PLAIN", USERNAME)]
    assert not any(e.startswith(("MAIL", "RCPT", "DATA")) for e in server.recorder.events)
    assert server.recorder.messages == []


def test_probe_over_implicit_tls(smtp_server: ServerFactory, tls_material: TlsMaterial) -> None:
    server = smtp_server(
        ssl_context=tls_material.server_context(), auth_require_tls=False, authenticator=True
    )
    settings = server.settings(security="tls", username=USERNAME, password=SecretStr(PASSWORD))
    finding = smtp_check(settings, ssl_context=tls_material.client_context())
    assert finding.severity.value == "ok" and finding.org is None


def test_probe_refuses_an_untrusted_certificate(
    smtp_server: ServerFactory, tls_material: TlsMaterial
) -> None:
    server = smtp_server(tls_context=tls_material.server_context(), require_starttls=True)
    with pytest.raises(MailSecurityError):
        SmtpSender(server.settings(security="starttls")).probe()  # system trust store


def test_probe_reports_a_wrong_password(
    smtp_server: ServerFactory, tls_material: TlsMaterial
) -> None:
    server = smtp_server(
        tls_context=tls_material.server_context(),
        require_starttls=True,
        auth_required=True,
        authenticator=True,
    )
    settings = server.settings(
        security="starttls", username=USERNAME, password=SecretStr("not-it-991")
    )
    with pytest.raises(MailPermanentError) as err:
        SmtpSender(settings, ssl_context=tls_material.client_context()).probe()
    assert err.value.code == 535 and "not-it-991" not in str(err.value)
    finding = smtp_check(settings, ssl_context=tls_material.client_context())
    assert finding.severity.value == "error" and "535" in finding.detail
