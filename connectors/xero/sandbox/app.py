"""``XeroSandbox``: wires the pieces together and owns the listening socket."""

from __future__ import annotations

import hashlib
import ipaddress
import threading
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from .auth import IdentityServer
from .clock import SandboxClock
from .control import ControlApi
from .faults import FaultInjector
from .idempotency import IdempotencyStore
from .limits import Limits, RateLimiter
from .requestlog import RequestLog
from .seed import build_organisation
from .server import API_PREFIX, TOKEN_PATH, Dispatcher, SandboxHTTPServer


def _require_loopback(host: str) -> None:
    """The sandbox hands out working credentials: never expose it off-host."""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(f"XeroSandbox only binds to a loopback address, not {host!r}")


class XeroSandbox:
    """A local Xero Accounting API 2.0 + identity server for one organisation."""

    def __init__(
        self,
        *,
        seed: int = 1,
        invoices: int = 200,
        host: str = "127.0.0.1",
        port: int = 0,
        now: datetime | None = None,
        minute_limit: int = 60,
        day_limit: int = 5000,
        concurrent_limit: int = 5,
        access_token_ttl: int = 1800,
        tenant_id: str | None = None,
        region: str = "NZ",
    ) -> None:
        _require_loopback(host)
        if now is None:
            now = datetime.now(UTC).replace(second=0, microsecond=0)
        elif now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        self.host = host
        self._port = port
        self.now = now.astimezone(UTC)
        self.clock = SandboxClock(self.now)
        self.org = build_organisation(
            seed=seed,
            invoices=invoices,
            now=self.now,
            clock=self.clock,
            tenant_id=tenant_id.lower() if tenant_id else None,
            region=region,
        )
        # Derived from the seed so that `syncd sandbox xero --print-config` hands out credentials
        # that work against a sandbox process started separately with the same seed.
        self.client_id = "sandbox-client-" + _derived(seed, "client-id", 16)
        self.client_secret = "sandbox-secret-" + _derived(seed, "client-secret", 32)
        self.identity = IdentityServer(
            self.clock, access_token_ttl, client_id=self.client_id, client_secret=self.client_secret
        )
        self.refresh_token = self.identity.mint_refresh_token(
            "sandbox-rt-" + _derived(seed, "refresh-token", 40)
        )
        self.limiter = RateLimiter(self.clock, Limits(minute_limit, day_limit, concurrent_limit))
        self.faults = FaultInjector()
        self.requests = RequestLog()
        self.dispatcher = Dispatcher(
            org=self.org,
            identity=self.identity,
            limiter=self.limiter,
            faults=self.faults,
            idempotency=IdempotencyStore(),
            log=self.requests,
        )
        self.dispatcher.control = ControlApi(
            org=self.org,
            identity=self.identity,
            limiter=self.limiter,
            faults=self.faults,
            log=self.requests,
            config=self._config_json,
        )
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle
    def _bind(self) -> SandboxHTTPServer:
        if self._server is None:
            self.dispatcher.stopping.clear()
            self._server = SandboxHTTPServer((self.host, self._port), self.dispatcher)
        return self._server

    def start(self) -> None:
        """Listen and serve from a daemon thread; returns once the port is bound."""
        if self._thread is not None:
            return
        server = self._bind()
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="xero-sandbox",
            daemon=True,
        )
        self._thread.start()

    def serve_forever(self) -> None:
        """Serve from the calling thread (for ``python -m``); stop() from another thread ends it."""
        self._bind().serve_forever(poll_interval=0.05)

    def stop(self) -> None:
        self.dispatcher.stopping.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> XeroSandbox:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ---------------------------------------------------------------- URLs
    @property
    def port(self) -> int:
        if self._server is not None:
            return int(self._server.server_address[1])
        if self._port:
            return self._port
        raise RuntimeError("XeroSandbox is not started (port 0 is chosen at bind time)")

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}{API_PREFIX}"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}{TOKEN_PATH}"

    @property
    def connections_url(self) -> str:
        return f"{self.base_url}/connections"

    @property
    def control_url(self) -> str:
        return f"{self.base_url}/_sandbox"

    @property
    def tenant_id(self) -> str:
        return self.org.tenant_id

    def org_config(self) -> dict[str, str]:
        """Credentials and URLs for one syncd ``[[orgs]]`` entry."""
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": self.refresh_token,
            "tenant_id": self.org.tenant_id,
            "base_url": self.api_url,
            "token_url": self.token_url,
        }

    def _config_json(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.org_config())
        out.update(
            {
                "connections_url": self.connections_url,
                "control_url": self.control_url,
                "tenant_name": self.org.name,
                "start": self.now.isoformat(),
            }
        )
        return out


def _derived(seed: int, purpose: str, length: int) -> str:
    return hashlib.sha256(f"syncd-xero-sandbox:{seed}:{purpose}".encode()).hexdigest()[:length]
