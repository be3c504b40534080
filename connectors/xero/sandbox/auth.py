"""The identity server: client credentials, rotating refresh tokens, access tokens.

Rules (Xero's OAuth 2.0 FAQ): access tokens live 30 minutes; every refresh
returns a new refresh token; the refresh token just replaced stays usable for a
30-minute grace period so a client that lost the response can retry; an unused
refresh token dies after 60 days.  Reuse outside the grace period is
``invalid_grant``.  Every time here is the sandbox clock, so tests can age
tokens without sleeping.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from .clock import SandboxClock

GRACE = timedelta(minutes=30)
REFRESH_LIFETIME = timedelta(days=60)
CODE_LIFETIME = timedelta(minutes=5)
SCOPE = "offline_access accounting.transactions accounting.contacts accounting.settings"


class GrantError(Exception):
    """``error`` is the OAuth error code to send back."""

    def __init__(self, error: str, status: int = 400) -> None:
        super().__init__(error)
        self.error = error
        self.status = status


@dataclass
class _Refresh:
    token: str
    issued: datetime
    superseded: datetime | None = None


@dataclass(frozen=True)
class _Code:
    expires: datetime
    #: ``None`` for codes minted through the control API, which no redirect produced.
    redirect_uri: str | None = None
    code_challenge: str | None = None


@dataclass
class AccessToken:
    token: str
    expires: datetime


class IdentityServer:
    def __init__(
        self, clock: SandboxClock, access_ttl: int, *, client_id: str, client_secret: str
    ) -> None:
        self.clock = clock
        self.access_ttl = timedelta(seconds=access_ttl)
        self.client_id = client_id
        self.client_secret = client_secret
        self._lock = threading.Lock()
        self._refresh: dict[str, _Refresh] = {}
        self._access: dict[str, AccessToken] = {}
        self._codes: dict[str, _Code] = {}
        self.refresh_count = 0
        #: Whether the organisation is connected to the app (``DELETE /connections/{id}`` and
        #: revoking the grant disconnect it; a new consent reconnects it).
        self.connected = True

    def mint_refresh_token(self, token: str | None = None) -> str:
        """The refresh token a freshly connected app would hold (``token`` fixes its value)."""
        with self._lock:
            token = token or f"sandbox-rt-{secrets.token_hex(20)}"
            self._refresh[token] = _Refresh(token, self.clock.now())
            return token

    def mint_code(self, redirect_uri: str | None = None, code_challenge: str | None = None) -> str:
        with self._lock:
            code = f"sandbox-code-{secrets.token_hex(12)}"
            now = self.clock.now()
            self._codes[code] = _Code(now + CODE_LIFETIME, redirect_uri, code_challenge)
            if redirect_uri is not None:
                self.connected = True
            return code

    def check_client(self, client_id: str | None, client_secret: str | None) -> None:
        if client_id != self.client_id or not secrets.compare_digest(
            client_secret or "", self.client_secret
        ):
            raise GrantError("invalid_client")

    def _issue(self, now: datetime) -> dict[str, object]:
        access = f"sandbox-at-{secrets.token_hex(24)}"
        refresh = f"sandbox-rt-{secrets.token_hex(20)}"
        self._access[access] = AccessToken(access, now + self.access_ttl)
        self._refresh[refresh] = _Refresh(refresh, now)
        return {
            "id_token": None,
            "access_token": access,
            "expires_in": int(self.access_ttl.total_seconds()),
            "token_type": "Bearer",
            "refresh_token": refresh,
            "scope": SCOPE,
        }

    def refresh(self, token: str) -> dict[str, object]:
        with self._lock:
            now = self.clock.now()
            entry = self._refresh.get(token)
            if entry is None or now - entry.issued > REFRESH_LIFETIME:
                raise GrantError("invalid_grant")
            if entry.superseded is not None and now - entry.superseded >= GRACE:
                raise GrantError("invalid_grant")
            if entry.superseded is None:
                entry.superseded = now
            self.refresh_count += 1
            body = self._issue(now)
            body.pop("id_token")
            return body

    def exchange_code(
        self, code: str, redirect_uri: str | None = None, code_verifier: str | None = None
    ) -> dict[str, object]:
        """Codes are single-use (a failed attempt spends them too) and live five minutes."""
        with self._lock:
            now = self.clock.now()
            entry = self._codes.pop(code, None)
            if entry is None or now > entry.expires:
                raise GrantError("invalid_grant")
            if entry.redirect_uri is not None and entry.redirect_uri != redirect_uri:
                raise GrantError("invalid_grant")
            if entry.code_challenge is not None and (
                not code_verifier or _s256(code_verifier) != entry.code_challenge
            ):
                raise GrantError("invalid_grant")
            body = self._issue(now)
            body["id_token"] = f"sandbox-idt-{secrets.token_hex(16)}"
            return body

    def revoke(self, token: str) -> None:
        """Revoking a refresh token ends the grant: its connections go and every token dies."""
        with self._lock:
            if token in self._refresh:
                self._refresh.clear()
                now = self.clock.now() - timedelta(milliseconds=1)
                for entry in self._access.values():
                    entry.expires = min(entry.expires, now)
                self.connected = False

    def check_access(self, token: str) -> AccessToken | None:
        """The token if known (expired or not); None if never issued."""
        with self._lock:
            return self._access.get(token)

    def expire_access_tokens(self) -> int:
        with self._lock:
            now = self.clock.now() - timedelta(milliseconds=1)
            for entry in self._access.values():
                entry.expires = min(entry.expires, now)
            return len(self._access)

    def revoke_refresh_tokens(self) -> int:
        with self._lock:
            count = len(self._refresh)
            self._refresh.clear()
            return count


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
