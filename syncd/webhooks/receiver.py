"""The receiver as ``syncd run`` starts and stops it: HTTP server thread plus worker thread."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from ..clock import Clock
from ..config.loader import LoadedConfig
from ..logs import get_logger
from ..store import Store
from .endpoints import org_endpoints
from .http import WebhookHTTPServer
from .worker import Guard, WebhookWorker, no_guard

log = get_logger(__name__)


def parse_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def lock_guard(locks: dict[str, threading.Lock], wait_seconds: float = 5.0) -> Guard:
    """The daemon's per-org locks as a worker guard (the org lease plugs in beside them)."""

    @contextlib.contextmanager
    def guard(org: str) -> Iterator[bool]:
        lock = locks[org]
        got = lock.acquire(timeout=wait_seconds)
        try:
            yield got
        finally:
            if got:
                lock.release()

    return guard


class WebhookReceiver:
    def __init__(
        self,
        store: Store,
        config: LoadedConfig,
        clock: Clock,
        *,
        guard: Guard = no_guard,
        address: str | None = None,
    ) -> None:
        daemon = config.settings.daemon
        self.endpoints = org_endpoints(config.settings)
        self.worker = WebhookWorker(store, config, clock, guard=guard)
        self.server = WebhookHTTPServer(
            parse_address(address or daemon.webhook_address),
            self.endpoints,
            self.worker.enqueue,
            daemon.webhook_max_body_bytes,
        )
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://{name}:{port}"

    def start(self) -> None:
        self.worker.start()
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="webhook-http",
            daemon=True,
        )
        self._thread.start()
        log.info(
            "webhook receiver listening",
            url=self.url,
            orgs=sorted(self.endpoints),
            paths=sorted(
                {f"/webhooks/{e.provider}" for e in self.endpoints.values()}
                | {f"/webhooks/{e.provider}/{e.org}" for e in self.endpoints.values()}
            ),
        )

    def stop(self) -> None:
        """Stop taking requests, then let the worker finish the org it is on."""
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join()
            self._thread = None
        self.server.server_close()
        self.worker.stop()
