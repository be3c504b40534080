"""Signed change notifications, as Intuit's webhooks service sends them.

Written from Intuit's webhook documentation (developer.intuit.com, "Webhooks" and "Best
practices"), not from syncd's receiver:

* One endpoint URL and one verifier token per app. Every POST carries the header
  ``intuit-signature`` = base64(HMAC-SHA256(body, verifier token)).
* Legacy body: ``{"eventNotifications": [{"realmId", "dataChangeEvent": {"entities": [{"name",
  "id", "operation", "lastUpdated"}]}}]}``; ids only, the app re-reads the entities.
  Operations: Create, Update, Delete, Merge, Void (Emailed is not sent here).
* The endpoint must answer 200 within 3 seconds; otherwise the event is retried after 10 s,
  20 s, 30 s, 5 min, 20 min, 2 h, 4 h, 6 h, then every 6 h ("you may not receive subsequent
  events until you correctly acknowledge the first", so delivery is strictly in order and a
  failing head blocks the rest: the unfavourable reading).

Changes made through the control API (``/_sandbox/...``) are noticed by comparing every
entity's SyncToken / LastUpdatedTime, the tombstones and the voided set before and after the
control request; the notification is queued and delivered by a background thread.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import queue
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .wire import Response

if TYPE_CHECKING:
    from .company import Company
    from .server import HttpRequest, SandboxApp

JSON = dict[str, Any]
PATH = "/_sandbox/webhooks"
ENTITIES = ("Customer", "Invoice", "Payment", "CreditMemo")
RETRY_SECONDS = (10, 20, 30, 300, 1200, 7200, 14400, 21600)
RESPONSE_TIMEOUT = 3.0

Snapshot = tuple[dict[tuple[str, str], tuple[str, str]], set[tuple[str, str]], set[str]]


def signature(body: bytes, verifier_token: str) -> str:
    mac = hmac.new(verifier_token.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(mac).decode("ascii")


def _intuit_time(moment: datetime, company: Company) -> str:
    """``2015-10-05T14:42:19-0700`` as in Intuit's sample notifications."""
    return moment.astimezone(company.tz).strftime("%Y-%m-%dT%H:%M:%S%z")


def snapshot(company: Company) -> Snapshot:
    with company.lock:
        stamps = {
            (entity, entity_id): (str(row.get("SyncToken")), row["MetaData"]["LastUpdatedTime"])
            for entity in ENTITIES
            for entity_id, row in company.entities[entity].items()
        }
        return stamps, set(company.tombstones), set(company.voided)


def changes(company: Company, before: Snapshot, after: Snapshot) -> list[JSON]:
    """The entity list of one notification, in a stable order."""
    (old, old_tombs, old_void), (new, new_tombs, new_void) = before, after
    out: list[JSON] = []
    for key in sorted(new, key=lambda k: (ENTITIES.index(k[0]), int(k[1]))):
        if key in old and old[key] == new[key]:
            continue
        entity, entity_id = key
        operation = "Create" if key not in old else "Update"
        if entity == "Invoice" and entity_id in new_void - old_void:
            operation = "Void"
        when = company.entities[entity][entity_id]["MetaData"]["LastUpdatedTime"]
        out.append(_entity(entity, entity_id, operation, datetime.fromisoformat(when), company))
    for entity, entity_id in sorted(new_tombs - old_tombs):
        if entity in ENTITIES:
            tomb = company.tombstones[(entity, entity_id)]
            out.append(_entity(entity, entity_id, "Delete", tomb.deleted_at, company))
    return out


def _entity(name: str, entity_id: str, operation: str, at: datetime, company: Company) -> JSON:
    return {
        "name": name,
        "id": entity_id,
        "operation": operation,
        "lastUpdated": _intuit_time(at, company),
    }


@dataclass
class Delivery:
    seq: int
    body: bytes
    attempts: list[JSON] = field(default_factory=list)
    delivered: bool = False


class QboWebhooks:
    """The app's webhook subscription: target URL, verifier token, delivery queue and log."""

    def __init__(self) -> None:
        self.url: str | None = None
        self.verifier_token = ""
        self.retry_scale = 1.0
        #: How long a delivery waits for the endpoint's answer before it counts as failed.
        self.response_timeout = RESPONSE_TIMEOUT
        self.max_attempts = len(RETRY_SECONDS) + 1
        self.log: list[Delivery] = []
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- control -------------------------------------------------------------------------

    def handle_control(
        self,
        app: SandboxApp,
        req: HttpRequest,
        inner: Callable[[SandboxApp, HttpRequest], Response],
    ) -> Response:
        """Serve ``/_sandbox/webhooks``; around any other control write, notify what changed."""
        if req.path.rstrip("/") == PATH:
            return self._endpoint(req)
        if self.url is None or req.method == "GET":
            return inner(app, req)
        before = snapshot(app.company)
        response = inner(app, req)
        if response.status < 300:
            entities = changes(app.company, before, snapshot(app.company))
            if entities:
                self.notify(app.company.realm_id, entities)
        return response

    def _endpoint(self, req: HttpRequest) -> Response:
        if req.method == "POST":
            try:
                body = json.loads(req.body.decode("utf-8") or "{}")
                url, token = str(body["url"]), str(body["verifier_token"])
                scale = float(body.get("retry_scale", 1.0))
                answer_within = float(body.get("response_timeout", RESPONSE_TIMEOUT))
                attempts = int(body.get("max_attempts", len(RETRY_SECONDS) + 1))
            except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
                return _json(400, {"error": f"need url and verifier_token: {exc}"})
            if not url.startswith(("http://", "https://")) or not token or attempts < 1:
                return _json(400, {"error": "url must be http(s), token non-empty, attempts >= 1"})
            self.url, self.verifier_token = url, token
            self.retry_scale, self.max_attempts = max(scale, 0.0), attempts
            self.response_timeout = max(answer_within, 0.1)
            self._ensure_thread()
        elif req.method == "DELETE":
            self.url = None
            self.close()
        elif req.method != "GET":
            return _json(405, {"error": "GET, POST or DELETE"})
        return _json(200, self.status())

    def status(self) -> JSON:
        with self._lock:
            return {
                "url": self.url,
                "retry_scale": self.retry_scale,
                "deliveries": [
                    {
                        "seq": d.seq,
                        "delivered": d.delivered,
                        "attempts": list(d.attempts),
                        "payload": json.loads(d.body),
                    }
                    for d in self.log
                ],
            }

    # -- delivery ------------------------------------------------------------------------

    def notify(self, realm_id: str, entities: list[JSON]) -> None:
        payload = {
            "eventNotifications": [{"realmId": realm_id, "dataChangeEvent": {"entities": entities}}]
        }
        with self._lock:
            delivery = Delivery(len(self.log) + 1, json.dumps(payload).encode("utf-8"))
            self.log.append(delivery)
        self._queue.put(delivery)

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="qbo-webhooks", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._queue.put(None)

    def _run(self) -> None:
        while not self._stop.is_set():
            delivery = self._queue.get()
            if delivery is None:
                continue
            for attempt in range(self.max_attempts):
                if self._stop.is_set() or self._post(delivery):
                    break
                if attempt + 1 < self.max_attempts:
                    delay = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
                    if self._stop.wait(delay * self.retry_scale):
                        break

    def _post(self, delivery: Delivery) -> bool:
        url, token = self.url, self.verifier_token
        if url is None:
            return True  # unsubscribed meanwhile: dropped, as Intuit would
        request = urllib.request.Request(  # noqa: S310 - http(s) only, checked at registration
            url,
            data=delivery.body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "intuit-signature": signature(delivery.body, token),
                "User-Agent": "intuit-webhooks-sandbox",
            },
        )
        outcome: JSON = {"status": None, "error": None}
        try:
            with urllib.request.urlopen(request, timeout=self.response_timeout) as answer:  # noqa: S310
                outcome["status"] = answer.status
        except urllib.error.HTTPError as exc:
            outcome["status"] = exc.code
        except (urllib.error.URLError, OSError) as exc:
            outcome["error"] = str(getattr(exc, "reason", exc))
        ok = bool(outcome["status"] == 200)
        with self._lock:
            delivery.attempts.append(outcome)
            delivery.delivered = ok
        return ok


def _json(status: int, payload: JSON) -> Response:
    return Response(status, json.dumps(payload).encode("utf-8"), content_type="application/json")
