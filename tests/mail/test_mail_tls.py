"""Transport security: STARTTLS and implicit TLS with a certificate minted for the test,
AUTH PLAIN / LOGIN checked by the server, and refusals to put a password on the wire
in clear."""

from __future__ import annotations

import ssl
from email.message import EmailMessage

import pytest
from pydantic import SecretStr

from syncd.config.models import EmailSettings
from syncd.mail import (
    MailPermanentError,
    MailSecurityError,
    MailTransientError,
    SmtpSender,
    is_loopback_host,
)
from tests.mail.conftest import PASSWORD, USERNAME, ServerFactory, TlsMaterial


def _message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Acme <accounts@acme.example>"
    msg["To"] = "jane@customer.example"
    msg["Subject"] = "tls"
    msg["Message-ID"] = "<syncd.abc@acme.example>"
    msg.set_content("hello\n")
    return msg


def _credentials(password: str = PASSWORD) -> dict[str, object]:
    return {"username": USERNAME, "password": SecretStr(password)}


@pytest.mark.parametrize(("exclude", "mechanism"), [([], "PLAIN"), (["PLAIN"], "LOGIN")])
def test_starttls_then_auth(
    smtp_server: ServerFactory, tls_material: TlsMaterial, exclude: list[str], mechanism: str
) -> None:
    server = smtp_server(
        tls_context=tls_material.server_context(),
        require_starttls=True,
        auth_required=True,
        auth_exclude_mechanism=exclude,
        authenticator=True,
    )
    sender = SmtpSender(
        server.settings(security="starttls", **_credentials()),
        ssl_context=tls_material.client_context(),
    )
    result = sender.send(_message(), envelope_to=["jane@customer.example"])
    assert result.code == 250
    assert server.recorder.auth == [(mechanism, USERNAME)]
    assert len(server.recorder.messages) == 1
    # aiosmtpd refuses AUTH before STARTTLS (auth_require_tls), so this also proves order.
    assert server.recorder.events.index("AUTH " + mechanism) > 0


def test_wrong_password_is_permanent_and_sends_nothing(
    smtp_server: ServerFactory, tls_material: TlsMaterial
) -> None:
    server = smtp_server(
        tls_context=tls_material.server_context(),
        require_starttls=True,
        auth_required=True,
        authenticator=True,
    )
    sender = SmtpSender(
        server.settings(security="starttls", **_credentials("wrong-password-123")),
        ssl_context=tls_material.client_context(),
    )
    with pytest.raises(MailPermanentError) as err:
        sender.send(_message(), envelope_to=["jane@customer.example"])
    assert err.value.code == 535 and err.value.phase == "AUTH"
    assert "wrong-password-123" not in str(err.value)
    assert server.recorder.messages == []


def test_starttls_not_offered_refuses_before_auth(smtp_server: ServerFactory) -> None:
    server = smtp_server(auth_require_tls=False, authenticator=True)  # no tls_context
    sender = SmtpSender(server.settings(security="starttls", **_credentials()))
    with pytest.raises(MailSecurityError):
        sender.send(_message(), envelope_to=["jane@customer.example"])
    assert server.recorder.auth == []
    assert not any(e.startswith(("AUTH", "MAIL")) for e in server.recorder.events)


def test_untrusted_certificate_is_a_security_error(
    smtp_server: ServerFactory, tls_material: TlsMaterial
) -> None:
    server = smtp_server(tls_context=tls_material.server_context(), require_starttls=True)
    sender = SmtpSender(
        server.settings(security="starttls"), ssl_context=ssl.create_default_context()
    )
    with pytest.raises(MailSecurityError):
        sender.send(_message(), envelope_to=["jane@customer.example"])
    assert server.recorder.messages == []


def test_implicit_tls(smtp_server: ServerFactory, tls_material: TlsMaterial) -> None:
    # Listener-level TLS: aiosmtpd only advertises AUTH there if told TLS is not required.
    server = smtp_server(
        ssl_context=tls_material.server_context(), auth_require_tls=False, authenticator=True
    )
    sender = SmtpSender(
        server.settings(security="tls", **_credentials()),
        ssl_context=tls_material.client_context(),
    )
    sender.send(_message(), envelope_to=["jane@customer.example"])
    assert server.recorder.auth == [("PLAIN", USERNAME)]
    assert len(server.recorder.messages) == 1


def test_plain_auth_allowed_only_to_loopback(smtp_server: ServerFactory) -> None:
    server = smtp_server(auth_require_tls=False, authenticator=True)
    SmtpSender(server.settings(security="none", **_credentials())).send(
        _message(), envelope_to=["jane@customer.example"]
    )
    assert server.recorder.auth == [("PLAIN", USERNAME)]


@pytest.mark.parametrize(
    "host", ["mail.example.com", "192.0.2.10", "[2001:db8::1]", "localhost.evil.com"]
)
def test_refuses_password_in_clear_to_remote_host(host: str) -> None:
    settings = EmailSettings(host=host, port=25, security="none", **_credentials())
    with pytest.raises(MailSecurityError) as err:
        SmtpSender(settings)  # at construction: no network needed, caught at startup
    assert PASSWORD not in str(err.value)


def test_no_auth_in_clear_is_allowed_to_remote_relay() -> None:
    SmtpSender(EmailSettings(host="relay.internal.example", port=25, security="none"))


def test_username_without_password_is_a_config_error() -> None:
    with pytest.raises(MailPermanentError):
        SmtpSender(EmailSettings(username="u", security="starttls"))


def test_loopback_detection() -> None:
    assert is_loopback_host("localhost")
    assert is_loopback_host("127.0.0.1") and is_loopback_host("127.1.2.3")
    assert is_loopback_host("::1") and is_loopback_host("[::1]")
    assert is_loopback_host("mail.localhost")
    assert not is_loopback_host("localhost.evil.com")
    assert not is_loopback_host("10.0.0.1")


def test_timeout_during_tls_handshake_is_transient(tls_material: TlsMaterial) -> None:
    """A plain socket that never answers: the TLS client hello times out."""
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        settings = EmailSettings(host="127.0.0.1", port=port, security="tls", timeout_seconds=0.3)
        with pytest.raises(MailTransientError):
            SmtpSender(settings, ssl_context=tls_material.client_context()).send(
                _message(), envelope_to=["jane@customer.example"]
            )
