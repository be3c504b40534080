"""Fixtures for the mail tests: a real aiosmtpd server on 127.0.0.1 that records every
SMTP step, TLS material minted per session with ``cryptography``, and sample reminders."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from syncd.config.models import EmailSettings
from syncd.mail import Business, InvoiceLine, Recipient, TemplateSet

NOW = dt.datetime(2024, 5, 21, 9, 30, tzinfo=dt.UTC)
USERNAME = "syncd-user"
PASSWORD = "correct horse battery staple"


# --------------------------------------------------------------------------- server


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    smtp_utf8: bool


@dataclass
class Recorder:
    """Handler that keeps what arrived and, in order, every SMTP step of every session.

    Replies can be scripted: ``mail_reply``, ``rcpt_replies[address]``, ``data_reply``;
    ``drop_after_data`` closes the connection instead of answering the final dot.
    """

    events: list[str] = field(default_factory=list)
    messages: list[Received] = field(default_factory=list)
    auth: list[tuple[str, str]] = field(default_factory=list)
    mail_reply: str | None = None
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    data_reply: str = "250 2.0.0 Ok: queued as ABC123"
    drop_after_data: bool = False
    cond: threading.Condition = field(default_factory=threading.Condition)

    def log(self, event: str) -> None:
        with self.cond:
            self.events.append(event)
            self.cond.notify_all()

    def wait_for(self, event: str, timeout: float = 10.0) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: event in self.events, timeout), self.events

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self.log(f"MAIL {address}")
        if self.mail_reply:
            return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self.log(f"RCPT {address}")
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.log("END-OF-DATA")
        content = envelope.original_content or b""
        if self.drop_after_data:
            self.messages.append(
                Received(str(envelope.mail_from), list(envelope.rcpt_tos), content, False)
            )
            assert server.transport is not None
            server.transport.close()
            return "250 never seen by the client"
        if self.data_reply.startswith("250"):
            self.messages.append(
                Received(
                    str(envelope.mail_from),
                    list(envelope.rcpt_tos),
                    content,
                    envelope.smtp_utf8,
                )
            )
        return self.data_reply

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        login, password = data.login.decode(), data.password.decode()
        self.auth.append((mechanism, login))
        self.log(f"AUTH {mechanism}")
        return AuthResult(success=(login, password) == (USERNAME, PASSWORD), handled=False)


class RecordingSMTP(SMTP):
    """aiosmtpd's server, also logging EHLO, the DATA command (before its 354) and the
    disconnect of every session that said EHLO (not the controller's readiness probe)."""

    greeted = False

    async def smtp_EHLO(self, hostname: str) -> None:
        self.greeted = True
        recorder = self.event_handler
        if isinstance(recorder, Recorder):
            recorder.log("EHLO")
        await super().smtp_EHLO(hostname)

    async def smtp_DATA(self, arg: str) -> None:
        recorder = self.event_handler
        if isinstance(recorder, Recorder):
            recorder.log("DATA")
        await super().smtp_DATA(arg)

    def connection_lost(self, error: Exception | None) -> None:
        recorder = self.event_handler
        if self.greeted and isinstance(recorder, Recorder):
            recorder.log("CLOSED")
        super().connection_lost(error)


class RecordingController(Controller):
    def factory(self) -> SMTP:
        return RecordingSMTP(self.handler, **self.SMTP_kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    controller: Controller
    recorder: Recorder
    port: int

    def settings(self, **overrides: Any) -> EmailSettings:
        values: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.port,
            "security": "none",
            "from_address": "accounts@acme.example",
            "timeout_seconds": 10,
        }
        values.update(overrides)
        return EmailSettings(**values)


ServerFactory = Callable[..., Server]


@pytest.fixture
def smtp_server() -> Iterator[ServerFactory]:
    """Start aiosmtpd on 127.0.0.1 with the given SMTP options; stopped after the test."""
    started: list[Controller] = []

    def start(*, ssl_context: ssl.SSLContext | None = None, **smtp_kwargs: Any) -> Server:
        recorder = Recorder()
        port = free_port()
        if "authenticator" in smtp_kwargs and smtp_kwargs["authenticator"] is True:
            smtp_kwargs["authenticator"] = recorder.authenticate
        controller = RecordingController(
            recorder,
            hostname="127.0.0.1",
            port=port,
            ssl_context=ssl_context,
            server_hostname="mx.test",
            **smtp_kwargs,
        )
        controller.start()
        started.append(controller)
        return Server(controller, recorder, port)

    yield start
    for controller in started:
        controller.stop()


# --------------------------------------------------------------------------- TLS


@dataclass(frozen=True)
class TlsMaterial:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@pytest.fixture(scope="session")
def tls_material(tmp_path_factory: pytest.TempPathFactory) -> TlsMaterial:
    """A throwaway CA and a server certificate for 127.0.0.1 / localhost signed by it."""
    folder = tmp_path_factory.mktemp("tls")
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    end = start + dt.timedelta(days=30)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("syncd test CA"))
        .issuer_name(_name("syncd test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = folder / "ca.pem"
    cert_file = folder / "server.pem"
    key_file = folder / "server.key"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return TlsMaterial(ca_file, cert_file, key_file)


# --------------------------------------------------------------------------- sample data


@pytest.fixture(scope="session")
def templates() -> TemplateSet:
    return TemplateSet()


@pytest.fixture
def business() -> Business:
    return Business(
        name="Acme Widgets Ltd",
        from_address="accounts@acme.example",
        reply_to="ar@acme.example",
        bcc=("archive@acme.example",),
        default_locale="en_GB",
    )


def make_recipient(locale: str | None = "en_US", name: str = "Jane Doe") -> Recipient:
    return Recipient(name=name, email="jane@customer.example", locale=locale)


@pytest.fixture
def recipient_factory() -> Callable[..., Recipient]:
    return make_recipient


@pytest.fixture
def three_invoices() -> list[InvoiceLine]:
    """Two currencies; one with a pay link, one partly paid."""
    return [
        InvoiceLine(
            number="INV-1001",
            issue_date=dt.date(2024, 4, 1),
            due_date=dt.date(2024, 5, 1),
            currency="USD",
            total=Decimal("1234.50"),
            balance=Decimal("1234.50"),
            days_overdue=20,
            pay_url="https://pay.example/i/1001?token=a&b=c",
        ),
        InvoiceLine(
            number="INV-1002",
            issue_date=dt.date(2024, 4, 10),
            due_date=dt.date(2024, 5, 10),
            currency="EUR",
            total=Decimal("2000.00"),
            balance=Decimal("1234.50"),
            days_overdue=11,
        ),
        InvoiceLine(
            number="INV-1003",
            issue_date=dt.date(2024, 4, 20),
            due_date=dt.date(2024, 5, 20),
            currency="USD",
            total=Decimal("99.99"),
            balance=Decimal("99.99"),
            days_overdue=1,
        ),
    ]


@pytest.fixture
def yen_invoice() -> InvoiceLine:
    return InvoiceLine(
        number="JP-7",
        issue_date=dt.date(2024, 4, 1),
        due_date=dt.date(2024, 5, 1),
        currency="JPY",
        total=Decimal("150000"),
        balance=Decimal("123456"),
        days_overdue=20,
    )
