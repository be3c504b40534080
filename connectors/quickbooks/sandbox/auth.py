"""The OAuth 2.0 side of Intuit: discovery document, token endpoint, revocation, bearer checks.

Refresh tokens rotate on every use and the previous one dies at once (stricter than Intuit, which
may hand back the same refresh token for a day): a client that loses a rotation is found out
immediately instead of in production. Access tokens expire on the sandbox clock, so moving the
clock forward an hour expires them as real time would.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from .clock import SandboxClock
from .consent import ConsentDesk, error_page, redirect
from .faults import oauth_error_response
from .wire import Response, json_response

REFRESH_TOKEN_TTL = 100 * 86400  # Intuit's rolling 100-day refresh-token lifetime
#: Intuit does not say how long a code lives; five minutes and single use is the safe reading.
CODE_TTL = timedelta(minutes=5)


@dataclass
class _Token:
    value: str
    realm_id: str
    expires_at: datetime
    valid: bool = True


@dataclass(frozen=True)
class _Code:
    redirect_uri: str
    realm_id: str
    expires_at: datetime


class OAuthProvider:
    def __init__(
        self,
        *,
        clock: SandboxClock,
        realm_id: str,
        client_id: str,
        client_secret: str,
        access_token_ttl: int,
        initial_refresh_token: str | None = None,
    ) -> None:
        self.clock = clock
        self.realm_id = realm_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.access_token_ttl = access_token_ttl
        self._lock = threading.Lock()
        self._access: dict[str, _Token] = {}
        self._refresh: dict[str, _Token] = {}
        self._codes: dict[str, _Code] = {}
        self.consent = ConsentDesk()
        self.latest_refresh_token = self._issue_refresh(realm_id, initial_refresh_token)

    # -- token bookkeeping --------------------------------------------------------------

    def _issue_refresh(self, realm_id: str, value: str | None = None) -> str:
        value = value or "sandbox-rt-" + secrets.token_hex(20)
        expires = self.clock.now() + timedelta(seconds=REFRESH_TOKEN_TTL)
        self._refresh[value] = _Token(value, realm_id, expires)
        return value

    def _issue_access(self, realm_id: str) -> str:
        value = "sandbox-at-" + secrets.token_hex(24)
        expires = self.clock.now() + timedelta(seconds=self.access_token_ttl)
        self._access[value] = _Token(value, realm_id, expires)
        return value

    def _token_response(self, realm_id: str) -> Response:
        refresh = self._issue_refresh(realm_id)
        self.latest_refresh_token = refresh
        body = {
            "token_type": "bearer",
            "expires_in": self.access_token_ttl,
            "refresh_token": refresh,
            "x_refresh_token_expires_in": REFRESH_TOKEN_TTL,
            "access_token": self._issue_access(realm_id),
        }
        return json_response(
            200, body, headers=(("Cache-Control", "no-cache, no-store"), ("Pragma", "no-cache"))
        )

    def issue_access_token(self) -> str:
        """Mint an access token directly (control API), e.g. for curl-driven demos."""
        with self._lock:
            return self._issue_access(self.realm_id)

    def bearer_realm(self, authorization: str | None) -> tuple[str | None, str]:
        """Return (realm the token grants, reason if it does not)."""
        if not authorization or not authorization.startswith("Bearer "):
            return None, "Authorization header missing or not a Bearer token"
        value = authorization[len("Bearer ") :].strip()
        with self._lock:
            token = self._access.get(value)
            if token is None or not token.valid:
                return None, "Token invalid"
            if self.clock.now() >= token.expires_at:
                return None, "Token expired"
            return token.realm_id, ""

    def expire_access_tokens(self) -> int:
        with self._lock:
            count = 0
            for token in self._access.values():
                if token.valid:
                    token.valid = False
                    count += 1
            return count

    # -- endpoints ----------------------------------------------------------------------

    def _client_ok(self, authorization: str | None, form: dict[str, str]) -> bool:
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return False
            client_id, _, client_secret = decoded.partition(":")
        return secrets.compare_digest(client_id or "", self.client_id) and secrets.compare_digest(
            client_secret or "", self.client_secret
        )

    def token(self, authorization: str | None, form: dict[str, str]) -> Response:
        with self._lock:
            if not self._client_ok(authorization, form):
                return oauth_error_response("invalid_client", status=401)
            grant = form.get("grant_type")
            if grant == "refresh_token":
                value = form.get("refresh_token", "")
                token = self._refresh.get(value)
                if token is None or not token.valid or self.clock.now() >= token.expires_at:
                    return oauth_error_response("invalid_grant")
                token.valid = False  # rotation: the old refresh token is spent
                return self._token_response(token.realm_id)
            if grant == "authorization_code":
                code = self._codes.pop(form.get("code", ""), None)
                if code is None or self.clock.now() >= code.expires_at:
                    return oauth_error_response("invalid_grant")
                if code.redirect_uri != form.get("redirect_uri", ""):
                    return oauth_error_response("invalid_grant", "Invalid redirect_uri")
                return self._token_response(code.realm_id)
            return oauth_error_response("unsupported_grant_type")

    def authorize(self, query: dict[str, str]) -> Response:
        """The consent page (``GET``); :meth:`consent_answer` handles its submission."""
        return self.consent.page(query, self.client_id, f"company {self.realm_id}")

    def consent_answer(self, form: dict[str, str]) -> Response:
        request, allowed = self.consent.answer(form)
        if request is None:
            return error_page(400, "This consent request has expired or was already answered.")
        if not allowed:
            return redirect(
                request.redirect_uri, {"error": "access_denied", "state": request.state}
            )
        code = "sandbox-code-" + secrets.token_hex(12)
        with self._lock:
            self._codes[code] = _Code(
                request.redirect_uri, self.realm_id, self.clock.now() + CODE_TTL
            )
        return redirect(
            request.redirect_uri, {"code": code, "state": request.state, "realmId": self.realm_id}
        )

    def revoke(self, authorization: str | None, token_value: str) -> Response:
        with self._lock:
            if not self._client_ok(authorization, {}):
                return oauth_error_response("invalid_client", status=401)
            if not token_value:
                return oauth_error_response("invalid_request", "token is required")
            refresh = self._refresh.get(token_value)
            if refresh is not None:
                # Revoking a refresh token disconnects the app from the company: every token
                # of that realm dies with it.
                for token in (*self._refresh.values(), *self._access.values()):
                    if token.realm_id == refresh.realm_id:
                        token.valid = False
            access_token = self._access.get(token_value)
            if access_token is not None:
                access_token.valid = False
            return Response(200, b"", content_type="application/json")


def discovery_document(base_url: str) -> dict[str, object]:
    """Shaped like Intuit's OpenID configuration, every endpoint pointing at the sandbox."""
    return {
        "issuer": f"{base_url}/op/v1",
        "authorization_endpoint": f"{base_url}/connect/oauth2",
        "token_endpoint": f"{base_url}/oauth2/v1/tokens/bearer",
        "userinfo_endpoint": f"{base_url}/v1/openid_connect/userinfo",
        "revocation_endpoint": f"{base_url}/v2/oauth2/tokens/revoke",
        "jwks_uri": f"{base_url}/op/v1/jwks",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile", "address", "phone"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
    }
