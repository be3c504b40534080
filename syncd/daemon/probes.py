"""``/healthz`` and ``/metrics`` on ``[daemon] metrics_address``: a small threaded WSGI server.

One port for both, so an orchestrator's probe and Prometheus need one address. Requests are
not logged (a scrape every 15 s would drown the daemon's own lines); anything but a GET of
one of the two paths is answered 404 or 405.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

from ..logs import get_logger
from .health import Health

log = get_logger(__name__)

StartResponse = Callable[..., Any]


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def parse_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def _plain(start: StartResponse, status: str, text: str) -> list[bytes]:
    body = text.encode()
    start(
        status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    )
    return [body]


class ProbeServer:
    def __init__(self, address: str, health: Health, registry: CollectorRegistry) -> None:
        self.health = health
        self._metrics = make_wsgi_app(registry)
        host, port = parse_address(address)
        server_class = _Server6 if ":" in host else _Server
        self.httpd = make_server(
            host, port, self._app, server_class=server_class, handler_class=_QuietHandler
        )
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://[{name}]:{port}" if ":" in name else f"http://{name}:{port}"

    def _app(self, environ: dict[str, Any], start: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        if path not in ("/healthz", "/metrics"):
            return _plain(start, "404 Not Found", "not found: try /healthz or /metrics\n")
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return _plain(start, "405 Method Not Allowed", "only GET\n")
        if path == "/metrics":
            return self._metrics(environ, start)  # type: ignore[no-any-return]
        healthy, report = self.health.report()
        body = (json.dumps(report, indent=2) + "\n").encode()
        start(
            "200 OK" if healthy else "503 Service Unavailable",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
            ],
        )
        return [body]

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="probes-http",
            daemon=True,
        )
        self._thread.start()
        log.info(
            "health and metrics listening",
            healthz=f"{self.url}/healthz",
            metrics=f"{self.url}/metrics",
        )

    def stop(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join()
            self._thread = None
        self.httpd.server_close()
