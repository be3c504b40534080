"""``XeroSandbox``: wires the pieces together and owns the listening socket."""

from __future__ import annotations

import gc
import hashlib
import ipaddress
import threading
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any

from .auth import IdentityServer
from .bulk import bulk_import as bulk_import_now
from .clock import SandboxClock
from .faults import FaultInjector
from .idempotency import IdempotencyStore
from .limits import Limits, RateLimiter
from .modes import STRICT_BULK_IMPORT, Modes
from .requestlog import RequestLog
from .seed import build_organisation
from .server import API_PREFIX, TOKEN_PATH, Dispatcher, SandboxHTTPServer
from .webhooks import WebhookControlApi


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
        strict: bool = False,
        shuffle_ties: bool | None = None,
        idempotency_ttl: float | None = None,
        email_idempotent: bool | None = None,
        bulk_import: int | None = None,
        period_lock_date: date | None = None,
        end_of_year_lock_date: date | None = None,
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
        self.strict = strict
        self._setup_modes(strict, shuffle_ties, idempotency_ttl, email_idempotent)
        imported = bulk_import if bulk_import is not None else (STRICT_BULK_IMPORT if strict else 0)
        if imported:
            # A night-time import three days ago: every record shares one UpdatedDateUTC.
            at = (self.now - timedelta(days=3)).replace(hour=2, minute=0, second=0, microsecond=0)
            bulk_import_now(self.org, imported, seed=seed, at=at)
        self.org.period_lock_date = period_lock_date
        self.org.end_of_year_lock_date = end_of_year_lock_date
        self._setup_services(
            seed, access_token_ttl, Limits(minute_limit, day_limit, concurrent_limit)
        )
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _setup_services(self, seed: int, access_token_ttl: int, limits: Limits) -> None:
        """Identity, limits, faults, the request log and the dispatcher over them."""
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
        self.limiter = RateLimiter(self.clock, limits)
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
        self.dispatcher.control = WebhookControlApi(
            org=self.org,
            identity=self.identity,
            limiter=self.limiter,
            faults=self.faults,
            log=self.requests,
            config=self._config_json,
        )
        self.dispatcher.control.consent = self.dispatcher.consent

    def _setup_modes(
        self,
        strict: bool,
        shuffle_ties: bool | None,
        idempotency_ttl: float | None,
        email_idempotent: bool | None,
    ) -> None:
        modes = Modes.strict() if strict else Modes()
        if shuffle_ties is not None:
            modes.shuffle_ties = shuffle_ties
        if idempotency_ttl is not None:
            modes.idempotency_ttl = idempotency_ttl
        if email_idempotent is not None:
            modes.email_idempotent = email_idempotent
        self.org.modes = modes

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
        # This process is the sandbox (``syncd sandbox``, ``python -m``): the seeded records live
        # as long as it does.  The seed ran with the cyclic collector paused, so its first pass
        # would scan all of them on the first request (seconds at 100,000 invoices); frozen,
        # no pass ever scans them again.
        gc.freeze()
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
            "timezone": self.org.region.zone,
        }

    def org_options(self) -> dict[str, str]:
        """``[orgs.options]`` that let every fee through: the edition's "Other Revenue" account
        and its no-tax rate (late-payment fees are compensation, outside GST / VAT / sales tax
        in all four editions; an Australian organisation calls that rate BASEXCLUDED)."""
        return {
            "late_fee_account_code": self.org.region.fee_account,
            "late_fee_tax_type": self.org.region.no_tax,
        }

    def _config_json(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.org_config())
        out.update(
            {
                "connections_url": self.connections_url,
                "control_url": self.control_url,
                "tenant_name": self.org.name,
                "start": self.now.isoformat(),
                "strict": self.strict,
                "region": self.org.region.code,
                "options": self.org_options(),
            }
        )
        return out


def _derived(seed: int, purpose: str, length: int) -> str:
    return hashlib.sha256(f"syncd-xero-sandbox:{seed}:{purpose}".encode()).hexdigest()[:length]
