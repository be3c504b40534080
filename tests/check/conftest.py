"""A real SMTP server that wants a login (aiosmtpd), for the pre-flight SMTP probe."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.support.smtp import free_port

USER = "syncd"
PASSWORD = "s3cret-Pa55word"


@dataclass
class LoginServer:
    port: int
    logins: list[tuple[str, bool]] = field(default_factory=list)
    messages: list[Envelope] = field(default_factory=list)

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        ok = (data.login.decode(), data.password.decode()) == (USER, PASSWORD)
        self.logins.append((data.login.decode(), ok))
        return AuthResult(success=ok, handled=False)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append(envelope)
        return "250 OK"

    def email_block(self, password: str = PASSWORD) -> str:
        return (
            f'[email]\nhost = "127.0.0.1"\nport = {self.port}\nsecurity = "none"\n'
            f'username = "{USER}"\npassword = "{password}"\n'
            'from_address = "Accounts <ar@acme.test>"\ntimeout_seconds = 10\n'
        )


@pytest.fixture
def login_smtp() -> Iterator[LoginServer]:
    server = LoginServer(free_port())
    controller = Controller(
        server,
        hostname="127.0.0.1",
        port=server.port,
        authenticator=server.authenticate,
        auth_require_tls=False,  # loopback only: syncd refuses AUTH in clear elsewhere
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
