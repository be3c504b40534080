"""The public face: one object that seeds a company, serves it on loopback, and hands out
credentials a syncd org entry (or the SDK) can use as if it were Intuit.
"""

from __future__ import annotations

import gc
import hashlib
import ipaddress
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

from .auth import OAuthProvider
from .bulk import add_bulk_imports
from .client import SandboxControlClient
from .clock import SandboxClock
from .company import Company
from .control import app_config
from .lists import install_lists
from .ratelimit import SlidingWindowLimiter
from .seed import seed_company
from .server import DISCOVERY_PATH, TOKEN_PATH, SandboxApp, SandboxHTTPServer
from .unkind import Unkindness

COMPANY_TIMEZONE = "America/Los_Angeles"
HOME_CURRENCY = "USD"
#: Company country -> (timezone, home currency). Non-US companies require tax codes on lines.
COUNTRIES = {
    "US": (COMPANY_TIMEZONE, HOME_CURRENCY),
    "GB": ("Europe/London", "GBP"),
    "CA": ("America/Toronto", "CAD"),
}
#: The tax code a late fee carries in a non-US company (outside the scope of VAT / exempt).
LATE_FEE_TAX_CODES = {"GB": "12", "CA": "7"}
#: The company was set up before its eighteen months of seeded history.
SETUP_DAYS_AGO = 720
#: Invoices in the bulk-import seed mode's migration (payments for about half of them).
BULK_IMPORT_SIZE = 300
LATE_FEE_ITEM_ID = "10"


def _loopback_host(host: str) -> tuple[str, bool]:
    """Return the address to bind and whether it is IPv6; refuse anything off-box."""
    if host == "localhost":
        return "127.0.0.1", False
    try:
        address = ipaddress.ip_address(host)
    except ValueError as exc:
        raise ValueError(f"sandbox host must be a loopback address, got {host!r}") from exc
    if not address.is_loopback:
        raise ValueError(
            f"refusing to bind the QuickBooks sandbox to {host!r}: only loopback addresses are "
            "allowed, so the sandbox can never be mistaken for (or exposed as) a real provider"
        )
    return str(address), address.version == 6


class QuickBooksSandbox:
    """A local QuickBooks Online v3 API, seeded with a deterministic company."""

    def __init__(
        self,
        *,
        seed: int = 1,
        invoices: int = 200,
        host: str = "127.0.0.1",
        port: int = 0,
        now: datetime | None = None,
        rate_limit_per_minute: int = 500,
        access_token_ttl: int = 3600,
        realm_id: str | None = None,
        strict: bool = False,
        unkind: dict[str, Any] | None = None,
        country: str = "US",
        bulk_import_size: int = BULK_IMPORT_SIZE,
    ) -> None:
        bind_host, ipv6 = _loopback_host(host)
        if now is None:
            now = datetime.now(UTC).replace(second=0, microsecond=0)
        elif now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must be timezone-aware")
        if rate_limit_per_minute < 1:
            raise ValueError("rate_limit_per_minute must be >= 1")
        self.realm_id = realm_id or f"9341{seed % 10**12:012d}"
        if country not in COUNTRIES:
            raise ValueError(f"country must be one of {', '.join(COUNTRIES)}, got {country!r}")
        timezone, home_currency = COUNTRIES[country]
        self.clock = SandboxClock(now)
        self.company = Company(
            realm_id=self.realm_id,
            clock=self.clock,
            tz=ZoneInfo(timezone),
            home_currency=home_currency,
            country=country,
        )
        install_lists(self.company, now - timedelta(days=SETUP_DAYS_AGO))
        # Unkind modes: every unfavourable choice with strict, then any explicit settings.
        self.company.unkind = Unkindness.strict() if strict else Unkindness()
        self.company.unkind.update(dict(unkind or {}), seeding=True)
        with _no_cycle_collection():
            seed_company(self.company, seed=seed, invoices=invoices, now=now)
            if self.company.unkind.bulk_import:
                add_bulk_imports(self.company, seed=seed, now=now, size=bulk_import_size)
        self.oauth = OAuthProvider(
            clock=self.clock,
            realm_id=self.realm_id,
            client_id=f"sandbox-client-{self.realm_id}",
            # Derived from the seed so that `syncd sandbox quickbooks --print-config` can hand
            # out credentials for a sandbox process started separately with the same seed.
            client_secret="sandbox-secret-" + _derived(seed, "client-secret", 32),
            initial_refresh_token="sandbox-rt-" + _derived(seed, "refresh-token", 40),
            access_token_ttl=access_token_ttl,
        )
        self.app = SandboxApp(
            company=self.company,
            oauth=self.oauth,
            limiter=SlidingWindowLimiter(rate_limit_per_minute),
        )
        self._server = SandboxHTTPServer((bind_host, port), self.app, ipv6=ipv6)
        bound_port = self._server.server_address[1]
        url_host = f"[{bind_host}]" if ipv6 else bind_host
        self.base_url = f"http://{url_host}:{bound_port}"
        self.app.base_url = self.base_url
        self.api_url = f"{self.base_url}/v3"
        self.token_url = f"{self.base_url}{TOKEN_PATH}"
        self.discovery_url = f"{self.base_url}{DISCOVERY_PATH}"
        self.control = SandboxControlClient(self.base_url)
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def org_config(self) -> dict[str, str]:
        """Working settings for one syncd ``[[orgs]]`` entry (refresh token is the latest).

        Keys starting ``options.`` belong in ``[orgs.options]``: every option a late fee needs
        in this company (the late-fee item, and the tax code where lines need one).
        """
        config = app_config(self.app)
        config["options.late_fee_item_id"] = LATE_FEE_ITEM_ID
        config["options.home_currency"] = self.company.home_currency
        config["timezone"] = COUNTRIES[self.company.country][0]
        if self.company.country in LATE_FEE_TAX_CODES:
            config["options.late_fee_tax_code_id"] = LATE_FEE_TAX_CODES[self.company.country]
        return config

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"qbo-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def serve_forever(self) -> None:
        try:
            self._server.serve_forever()
        finally:
            self._close()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._close()

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            self.app.stop_event.set()
            self._server.server_close()
            # Hand the frozen seed back to the collector so a stopped sandbox can be freed.
            gc.unfreeze()

    def __enter__(self) -> QuickBooksSandbox:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Seeding allocates millions of long-lived dicts and no garbage cycles; the collector's
    full passes over that growing heap were a third of the seeding time at 30,000 invoices."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # The seeded books live as long as the process: moved out of the collector's
        # generations, the first full pass after seeding does not walk millions of dicts.
        gc.freeze()
        if enabled:
            gc.enable()


def _derived(seed: int, purpose: str, length: int) -> str:
    return hashlib.sha256(f"syncd-qbo-sandbox:{seed}:{purpose}".encode()).hexdigest()[:length]
