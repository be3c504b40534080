"""HTTP plumbing and the request pipeline in front of the QBO endpoints.

Order of checks on ``/v3/company/{realm}/...`` mirrors where a real request can fail on its way
in: injected infrastructure faults (load balancer / gateway), then authentication (401),
authorisation for the realm (403), the per-realm throttle (429), then the service itself
(minorversion, requestid replay, the resource). Responses always carry Content-Length so that
keep-alive connections from ``requests`` behave as against the real service.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import threading
import uuid
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import faults
from .api import ApiRequest, ApiSettings, QboApi
from .auth import OAuthProvider, discovery_document
from .company import Company
from .control import handle_control
from .injection import INFRA_KINDS, FaultInjector
from .ratelimit import SlidingWindowLimiter
from .replay import MAX_REQUEST_ID_LENGTH, ReplayStore, Stored
from .webhooks import QboWebhooks
from .wire import Response, entity_time, json_response

JSON = dict[str, Any]

log = logging.getLogger(__name__)

_API_PATH = re.compile(r"^/v3/company/([^/]+)/(.*)$")
DISCOVERY_PATH = "/.well-known/openid_configuration"
TOKEN_PATH = "/oauth2/v1/tokens/bearer"  # noqa: S105 - a path, not a secret
AUTHORIZE_PATH = "/connect/oauth2"
REVOKE_PATH = "/v2/oauth2/tokens/revoke"
CONTROL_PREFIX = "/_sandbox/"
REQUEST_LOG_LIMIT = 20000


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    raw_query: str
    query: dict[str, str]
    headers: Message
    body: bytes

    @property
    def content_type(self) -> str:
        return str(self.headers.get("Content-Type") or "")


@dataclass
class SandboxApp:
    """Everything one sandbox serves; the HTTP handler is a thin adapter around ``dispatch``."""

    company: Company
    oauth: OAuthProvider
    limiter: SlidingWindowLimiter
    base_url: str = ""
    replay: ReplayStore = field(default_factory=ReplayStore)
    injector: FaultInjector = field(default_factory=FaultInjector)
    settings: ApiSettings = field(default_factory=ApiSettings)
    stop_event: threading.Event = field(default_factory=threading.Event)
    request_log: list[JSON] = field(default_factory=list)
    webhooks: QboWebhooks = field(default_factory=QboWebhooks)
    _log_lock: threading.Lock = field(default_factory=threading.Lock)
    _seq: int = 0

    def __post_init__(self) -> None:
        self.api = QboApi(self.company, self.settings)

    # -- request log -------------------------------------------------------------------

    def _log(self, req: HttpRequest, **extra: Any) -> JSON:
        with self._log_lock:
            self._seq += 1
            entry: JSON = {
                "seq": self._seq,
                "at": entity_time(self.company.now(), self.company.tz),
                "method": req.method,
                "path": req.path,
                "query": req.raw_query,
                "request_id": req.query.get("requestid"),
                "status": None,
                "replayed": False,
                "replay_body_differs": None,
                "fault": None,
            }
            entry.update(extra)
            self.request_log.append(entry)
            if len(self.request_log) > REQUEST_LOG_LIMIT:
                del self.request_log[: len(self.request_log) - REQUEST_LOG_LIMIT]
            return entry

    def log_since(self, seq: int) -> list[JSON]:
        with self._log_lock:
            return [dict(entry) for entry in self.request_log if entry["seq"] > seq]

    # -- dispatch ----------------------------------------------------------------------

    def dispatch(self, req: HttpRequest) -> Response | None:
        """Answer a request; ``None`` means drop the connection without answering."""
        if req.path.startswith(CONTROL_PREFIX):
            return self.webhooks.handle_control(self, req, handle_control)
        if req.path in (DISCOVERY_PATH, DISCOVERY_PATH + "/"):
            return json_response(200, discovery_document(self.base_url))
        if req.path == TOKEN_PATH and req.method == "POST":
            entry = self._log(req)
            rule = self.injector.take(req.method, req.path, ("http_500", "http_503"))
            if rule is not None:
                entry["fault"] = rule.kind
                response = self._infra_fault(rule.kind, rule.format)
            else:
                form = {k: v[0] for k, v in parse_qs(req.body.decode("utf-8", "replace")).items()}
                response = self.oauth.token(req.headers.get("Authorization"), form)
            entry["status"] = response.status
            return response
        if req.path == AUTHORIZE_PATH and req.method == "GET":
            return self.oauth.authorize(req.query)
        if req.path == AUTHORIZE_PATH and req.method == "POST":
            form = {k: v[0] for k, v in parse_qs(req.body.decode("utf-8", "replace")).items()}
            return self.oauth.consent_answer(form)
        if req.path == REVOKE_PATH and req.method == "POST":
            try:
                token = str(json.loads(req.body or b"{}").get("token", ""))
            except (json.JSONDecodeError, AttributeError):
                token = ""
            return self.oauth.revoke(req.headers.get("Authorization"), token)
        match = _API_PATH.match(req.path)
        if match is None:
            return Response(404, b"Not Found", content_type="text/plain")
        return self._api(req, match.group(1), match.group(2))

    def _infra_fault(self, kind: str, fmt: str) -> Response:
        now, tz = self.company.now(), self.company.tz
        if kind == "http_500":
            return faults.system_error().response(now, tz)
        if kind == "http_503":
            return faults.service_unavailable_response()
        return faults.throttled_response(now, tz, xml=fmt == "xml")

    def _api(self, req: HttpRequest, realm: str, rest: str) -> Response | None:
        company = self.company
        entry = self._log(req)
        rule = self.injector.take(req.method, req.path, INFRA_KINDS)
        if rule is not None:
            entry["fault"] = rule.kind
            if rule.kind == "timeout":
                if rule.commit:
                    committed = self._service(req, realm, rest, entry)
                    entry["status"] = committed.status
                self.stop_event.wait(rule.seconds)
                entry["dropped"] = True
                return None
            response = self._infra_fault(rule.kind, rule.format)
            entry["status"] = response.status
            return response
        granted, reason = self.oauth.bearer_realm(req.headers.get("Authorization"))
        if granted is None:
            response = faults.authentication_failed_response(company.now(), company.tz, reason)
        elif realm != company.realm_id or granted != realm:
            response = faults.authorization_failed(realm).response(company.now(), company.tz)
        elif not self.limiter.admit(realm, company.now()):
            response = faults.throttled_response(company.now(), company.tz)
        else:
            response = self._service(req, realm, rest, entry)
        entry["status"] = response.status
        return response

    def _service(self, req: HttpRequest, realm: str, rest: str, entry: JSON) -> Response:
        company = self.company
        minor = req.query.get("minorversion")
        if not minor or not minor.isdigit():
            return faults.invalid_value(
                "minorversion query parameter is required by the sandbox and must be an integer "
                "(QBO serves 75 when it is absent or lower)",
                "minorversion",
            ).response(company.now(), company.tz)
        request_id = req.query.get("requestid")
        replayable = request_id is not None and req.method == "POST" and rest.lower() != "query"
        unkind = company.unkind
        if rest.lower().rstrip("/").endswith("/send") and not unkind.replay_covers_send:
            replayable = False  # unkind: Intuit never says /send honours requestid
        if request_id is not None and len(request_id) > MAX_REQUEST_ID_LENGTH:
            return faults.invalid_value(
                f"requestid is longer than {MAX_REQUEST_ID_LENGTH} characters", "requestid"
            ).response(company.now(), company.tz)
        digest = ReplayStore.digest(req.body)
        if replayable and request_id is not None:
            stored = self.replay.get(
                realm, request_id, now=company.now(), ttl_seconds=unkind.replay_ttl_seconds
            )
            if stored is not None:
                entry["replayed"] = True
                entry["replay_body_differs"] = (
                    stored.body_digest != digest
                    or stored.path != req.path
                    or stored.method != req.method
                )
                return stored.response
        stale = None
        if req.method == "POST":
            stale = self.injector.take(req.method, req.path, ("stale_synctoken",))
            if stale is not None:
                entry["fault"] = stale.kind
        response = self.api.handle(
            ApiRequest(req.method, rest, req.query, req.body, req.content_type),
            force_stale=stale is not None,
        )
        response = Response(
            response.status,
            response.body,
            response.content_type,
            (*response.headers, ("intuit_tid", uuid.uuid4().hex)),
        )
        if replayable and request_id is not None:
            self.replay.put(
                realm,
                request_id,
                Stored(response, digest, req.method, req.path, company.now()),
            )
        malformed = self.injector.take(req.method, req.path, ("malformed_json",))
        if malformed is not None and response.status == 200:
            entry["fault"] = malformed.kind
            return Response(200, response.body[: len(response.body) // 2], response.content_type)
        return response


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    #: Headers and body go out in separate writes; without TCP_NODELAY every keep-alive
    #: response waits ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True
    server_version = "syncd-qbo-sandbox"
    sys_version = ""
    server: SandboxHTTPServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        if len(body) < length:
            # The client went away mid-body: like any HTTP server, never hand a truncated
            # request to the application (it would be answered, and a request id recorded).
            self.close_connection = True
            return
        url = urlsplit(self.path)
        query = {
            key: values[0] for key, values in parse_qs(url.query, keep_blank_values=True).items()
        }
        request = HttpRequest(self.command, url.path, url.query, query, self.headers, body)
        try:
            response = self.server.app.dispatch(request)
        except Exception:  # a sandbox bug must surface as QBO's generic 500, not a dead socket
            log.exception("sandbox failed on %s %s", request.method, request.path)
            app = self.server.app
            response = faults.system_error().response(app.company.now(), app.company.tz)
            self.server.errors.append(request.path)
        if response is None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request stderr logging; the request log is in the control API."""


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: SandboxApp, *, ipv6: bool = False) -> None:
        if ipv6:
            self.address_family = socket.AF_INET6
        self.app = app
        self.errors: list[str] = []
        super().__init__(address, _Handler)
