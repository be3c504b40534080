"""HTTP front door: routing, authentication, tenant, limits, faults, idempotency.

The order of checks follows what a client observes from Xero: a bad or expired
token is a 401 before anything else, a missing or foreign tenant a 403, then
the rate limiter decides (429), then the request runs.  Limit headers go on
every accounting response, including errors.
"""

from __future__ import annotations

import base64
import binascii
import socket
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from . import errors
from .api import AccountingApi, ApiRequest
from .auth import GrantError, IdentityServer
from .consent import AUTHORIZE_PATH, ConsentDesk, error_page, redirect
from .errors import Reply
from .faults import Fault, FaultInjector
from .idempotency import MAX_KEY_LENGTH, IdempotencyStore, Stored, fingerprint
from .limits import RateLimiter
from .organisation import Organisation
from .render import connection_json
from .requestlog import Entry, RequestLog

if TYPE_CHECKING:
    from .control import ControlApi

API_PREFIX = "/api.xro/2.0"
TOKEN_PATH = "/connect/token"  # noqa: S105 - a URL path, not a secret
REVOCATION_PATH = "/connect/revocation"
CONTROL_PREFIX = "/_sandbox"
WRITE_METHODS = frozenset({"PUT", "POST"})


class Dispatcher:
    """Everything behind the socket; one per sandbox."""

    def __init__(
        self,
        *,
        org: Organisation,
        identity: IdentityServer,
        limiter: RateLimiter,
        faults: FaultInjector,
        idempotency: IdempotencyStore,
        log: RequestLog,
    ) -> None:
        self.org = org
        self.identity = identity
        self.limiter = limiter
        self.faults = faults
        self.idempotency = idempotency
        self.log = log
        self.api = AccountingApi(org)
        self.control: ControlApi | None = None
        self.stopping = threading.Event()
        self.consent = ConsentDesk()

    # ------------------------------------------------------------ entry
    def dispatch(self, handler: SandboxHandler) -> None:
        method = handler.command.upper()
        parts = urlsplit(handler.path)
        path = unquote(parts.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length > 0 else b""
        if len(body) < length:
            # The client went away mid-body: like any HTTP server, never hand a truncated
            # request to the application (it would be answered, and a key recorded).
            handler.close_connection = True
            return
        headers = {k.lower(): v for k, v in handler.headers.items()}
        low = path.lower().rstrip("/")

        if low == CONTROL_PREFIX or low.startswith(CONTROL_PREFIX + "/"):
            assert self.control is not None
            self._write(handler, self.control.handle(method, path, query, body))
            return

        entry = self.log.open(
            at=self.org.clock.now().isoformat(),
            method=method,
            path=path,
            query=query,
            tenant_id=headers.get("xero-tenant-id"),
            idempotency_key=headers.get("idempotency-key"),
        )
        if self.log.record_bodies and body:
            entry.request_body = body.decode("utf-8", "replace")
        reply: Reply | None
        if low == TOKEN_PATH and method == "POST":
            reply = self._token(headers, body)
        elif low == AUTHORIZE_PATH and method in ("GET", "POST"):
            reply = self._authorize(method, query, body)
        elif low == REVOCATION_PATH and method == "POST":
            reply = self._revoke(headers, body)
        elif low == "/connections" or low.startswith("/connections/"):
            reply = self._connections(method, low, headers)
        elif low == API_PREFIX.lower() or low.startswith(API_PREFIX.lower() + "/"):
            reply = self._accounting(
                handler, entry, method, path, parts.query, query, headers, body
            )
        else:
            reply = errors.not_found()
        if reply is None:  # an injected timeout: the connection is dropped unanswered
            entry.status = 0
            return
        self._finish(handler, entry, reply)

    # ------------------------------------------------------------ consent
    def _authorize(self, method: str, query: dict[str, list[str]], body: bytes) -> Reply:
        if method == "GET":
            params = {k: v[-1] for k, v in query.items()}
            return self.consent.page(params, self.identity.client_id, self.org.name)
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        request, allowed = self.consent.answer(form)
        if request is None:
            return error_page("This authorisation request has expired or was already used.")
        if not allowed:
            return redirect(
                request.redirect_uri, {"error": "access_denied", "state": request.state}
            )
        code = self.identity.mint_code(request.redirect_uri, request.code_challenge)
        return redirect(
            request.redirect_uri, {"code": code, "scope": request.scope, "state": request.state}
        )

    def _connections(self, method: str, low: str, headers: dict[str, str]) -> Reply:
        refused = self._authenticate(headers)
        if refused is not None:
            return refused
        connected = self.identity.connected
        if low == "/connections" and method == "GET":
            return errors.json_reply(200, [connection_json(self.org)] if connected else [])
        if method == "DELETE" and low.count("/") == 2:
            if not connected or low.rsplit("/", 1)[1] != self.org.connection_id.lower():
                return errors.not_found()
            self.identity.connected = False
            return Reply(204, b"", None)
        return errors.not_found()

    # ------------------------------------------------------------ token
    def _client(self, headers: dict[str, str], form: dict[str, str]) -> tuple[str, str] | None:
        """Client credentials from HTTP Basic or the form; ``None`` if Basic is malformed."""
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        auth = headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(auth[6:].strip()).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None
            client_id, _, client_secret = decoded.partition(":")
        return client_id or "", client_secret or ""

    def _revoke(self, headers: dict[str, str], body: bytes) -> Reply:
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        client = self._client(headers, form)
        try:
            if client is None:
                raise GrantError("invalid_client")
            self.identity.check_client(*client)
        except GrantError as exc:
            return errors.oauth_error(exc.error, exc.status)
        if not form.get("token"):
            return errors.oauth_error("invalid_request")
        self.identity.revoke(form["token"])
        return Reply(200, b"", None)

    def _token(self, headers: dict[str, str], body: bytes) -> Reply:
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        client = self._client(headers, form)
        if client is None:
            return errors.oauth_error("invalid_client")
        try:
            self.identity.check_client(*client)
            grant = form.get("grant_type")
            if grant == "refresh_token":
                token = self.identity.refresh(form.get("refresh_token", ""))
            elif grant == "authorization_code":
                token = self.identity.exchange_code(
                    form.get("code", ""), form.get("redirect_uri"), form.get("code_verifier")
                )
            else:
                return errors.oauth_error("unsupported_grant_type")
        except GrantError as exc:
            return errors.oauth_error(exc.error, exc.status)
        return errors.json_reply(200, token, {"Cache-Control": "no-store", "Pragma": "no-cache"})

    def _authenticate(self, headers: dict[str, str]) -> Reply | None:
        auth = headers.get("authorization", "")
        if not auth.lower().startswith("bearer "):
            return errors.unauthorized()
        token = self.identity.check_access(auth[7:].strip())
        if token is None:
            return errors.unauthorized()
        if token.expires <= self.org.clock.now():
            return errors.token_expired(token.expires)
        return None

    # ------------------------------------------------------- accounting
    def _accounting(
        self,
        handler: SandboxHandler,
        entry: Entry,
        method: str,
        path: str,
        raw_query: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> Reply | None:
        refused = self._authenticate(headers)
        if refused is not None:
            return refused
        tenant = (headers.get("xero-tenant-id") or "").strip().lower()
        if tenant != self.org.tenant_id or not self.identity.connected:
            return errors.forbidden()
        decision = self.limiter.acquire(tenant)
        if not decision.allowed:
            assert decision.problem is not None
            return errors.rate_limited(decision.problem, decision.retry_after, decision.headers)
        try:
            fault = self.faults.take(method, path)
            if fault is not None:
                entry.fault = fault.kind
                if fault.kind == "lost":  # done, but the answer never arrives
                    self._run(entry, method, path, raw_query, query, headers, body, tenant)
                    handler.close_connection = True
                    return None
                return self._fault(handler, fault, decision.headers)
            reply = self._run(entry, method, path, raw_query, query, headers, body, tenant)
        finally:
            self.limiter.release(tenant)
        reply.headers.update(decision.headers)
        return reply

    def _run(
        self,
        entry: Entry,
        method: str,
        path: str,
        raw_query: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
        tenant: str,
    ) -> Reply:
        segments = [s for s in path[len(API_PREFIX) :].split("/") if s]
        request = ApiRequest(
            method=method,
            segments=segments,
            params={k.lower(): v[-1] for k, v in query.items()},
            headers=headers,
            body=body,
        )
        key = headers.get("idempotency-key")
        modes = self.org.modes
        if not modes.email_idempotent and segments[-1:] and segments[-1].lower() == "email":
            key = None  # unkind mode: the email endpoint ignores the key
        if method not in WRITE_METHODS or key is None:
            return self.api.handle(request)
        if len(key) > MAX_KEY_LENGTH or not key.strip():
            return errors.simple_validation_error(
                f"Idempotency-Key must be between 1 and {MAX_KEY_LENGTH} characters"
            )
        print_ = fingerprint(method, path, _canonical_query(query), body)
        with self.idempotency.key_lock(tenant, key):
            now = self.org.clock.now()
            stored = self.idempotency.get(tenant, key, now, modes.idempotency_ttl)
            if stored is not None:
                if stored.fingerprint != print_:
                    return errors.simple_validation_error(
                        "Idempotency-Key has already been used with a different request"
                    )
                entry.replayed = True
                return Reply(stored.status, stored.body, stored.content_type)
            reply = self.api.handle(request)
            if reply.status < 500:
                self.idempotency.put(
                    tenant, key, Stored(print_, reply.status, reply.body, reply.content_type, now)
                )
            return reply

    def _fault(
        self, handler: SandboxHandler, fault: Fault, limit_headers: dict[str, str]
    ) -> Reply | None:
        if fault.kind == "timeout":
            self.stopping.wait(fault.seconds)
            handler.close_connection = True
            return None
        if fault.kind == "429":
            return errors.rate_limited(fault.problem, fault.retry_after, limit_headers)
        if fault.kind == "malformed":
            body = (
                b'{"Id":"'
                + str(uuid.uuid4()).encode()
                + b'","Status":"OK","Invoices":[{"InvoiceID":'
            )
            return Reply(200, body, errors.JSON, dict(limit_headers))
        reply = errors.server_error(int(fault.kind))
        reply.headers.update(limit_headers)
        return reply

    # ----------------------------------------------------------- output
    def _finish(self, handler: SandboxHandler, entry: Entry, reply: Reply) -> None:
        entry.status = reply.status
        entry.content_type = reply.content_type
        entry.headers = dict(reply.headers)
        if self.log.record_bodies:
            entry.response_body = reply.body.decode("utf-8", "replace")
        self._write(handler, reply)

    @staticmethod
    def _write(handler: SandboxHandler, reply: Reply) -> None:
        handler.send_response(reply.status)
        handler.send_header("Xero-Correlation-Id", str(uuid.uuid4()))
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        if reply.content_type:
            handler.send_header("Content-Type", reply.content_type)
        handler.send_header("Content-Length", str(len(reply.body)))
        handler.end_headers()
        if reply.body and handler.command != "HEAD":
            handler.wfile.write(reply.body)


def _canonical_query(query: dict[str, list[str]]) -> str:
    return "&".join(f"{k.lower()}={v}" for k in sorted(query) for v in query[k])


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    #: Headers and body go out in separate writes; without TCP_NODELAY every keep-alive
    #: response waits ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True
    server: SandboxHTTPServer

    def version_string(self) -> str:
        return "XeroSandbox/1.0"

    def _handle(self) -> None:
        self.server.dispatcher.dispatch(self)

    do_GET = _handle
    do_POST = _handle
    do_PUT = _handle
    do_DELETE = _handle
    do_PATCH = _handle

    def log_message(self, format: str, *args: object) -> None:
        """Silence per-request stderr lines; the request log records them."""


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, SandboxHandler)
