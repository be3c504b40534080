"""Signed webhook events, as Xero's webhooks service sends them.

Written from Xero's documentation ("Webhooks: configuring your server") and its published
``xero-webhooks.yaml``, not from syncd's receiver:

* One delivery URL and one webhooks key per app. Every POST carries ``x-xero-signature`` =
  base64(HMAC-SHA256(raw body, webhooks key)); the endpoint answers 200 for a correct
  signature and 401 for any other, with an empty body, within 5 seconds, and sets no cookies.
* Body: ``{"events": [{"resourceUrl", "resourceId", "eventDateUtc", "eventType" (CREATE |
  UPDATE), "eventCategory" (INVOICE | CONTACT | CREDITNOTE), "tenantId", "tenantType"}],
  "firstEventSequence", "lastEventSequence", "entropy"}``; ids only. A payment is not an event
  category: it shows up as an UPDATE of the invoice it pays.
* "Intent to receive": before a subscription goes live, Xero posts payloads with no events,
  some correctly signed and some deliberately mis-signed; the endpoint must answer each
  correctly or the subscription stays inactive (here: nothing is delivered).
* Failed deliveries are retried for up to 24 hours. Xero does not publish the intervals; this
  sandbox doubles from one minute (1, 2, 4, ... min, capped at 24 h in total), scaled by the
  ``retry_scale`` given at registration so that tests need not wait.

Changes made through the control API are noticed by comparing every invoice's, contact's and
credit note's UpdatedDateUTC before and after the control request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import queue
import random
import string
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .control import ControlApi
from .errors import Reply, json_reply
from .organisation import Organisation

JSON = dict[str, Any]
API_ROOT = "https://api.xero.com/api.xro/2.0"
RESPONSE_TIMEOUT = 5.0
RETRY_BUDGET_SECONDS = 24 * 3600
Snapshot = dict[tuple[str, str], datetime]
_RESOURCE = {"INVOICE": "Invoices", "CONTACT": "Contacts", "CREDITNOTE": "CreditNotes"}


def signature(body: bytes, key: str) -> str:
    mac = hmac.new(key.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(mac).decode("ascii")


def snapshot(org: Organisation) -> Snapshot:
    with org.lock:
        out: Snapshot = {("INVOICE", i): inv.updated for i, inv in org.invoices.items()}
        out.update({("CONTACT", c): con.updated for c, con in org.contacts.items()})
        out.update({("CREDITNOTE", n): note.updated for n, note in org.credit_notes.items()})
        return out


def events(org: Organisation, before: Snapshot, after: Snapshot) -> list[JSON]:
    changed = [k for k in after if before.get(k) != after[k]]
    changed.sort(key=lambda k: (after[k], k))
    return [
        {
            "resourceUrl": f"{API_ROOT}/{_RESOURCE[category]}/{resource_id}",
            "resourceId": resource_id,
            "eventDateUtc": after[(category, resource_id)]
            .astimezone(UTC)
            .strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
            "eventType": "CREATE" if (category, resource_id) not in before else "UPDATE",
            "eventCategory": category,
            "tenantId": org.tenant_id,
            "tenantType": "ORGANISATION",
        }
        for category, resource_id in changed
    ]


@dataclass
class Delivery:
    body: bytes
    attempts: list[JSON] = field(default_factory=list)
    delivered: bool = False


class Subscription:
    """Delivery URL, key, intent-to-receive outcome, sequence numbers and delivery log."""

    def __init__(self, url: str, key: str, retry_scale: float) -> None:
        self.url, self.key, self.retry_scale = url, key, retry_scale
        self.status = "PENDING"
        self.checks: list[JSON] = []
        self.sequence = 0
        self.log: list[Delivery] = []
        self.lock = threading.Lock()
        self.queue: queue.Queue[Delivery | None] = queue.Queue()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="xero-webhooks", daemon=True)

    def payload(self, items: list[JSON]) -> bytes:
        with self.lock:
            first = self.sequence + 1
            self.sequence += max(len(items), 1)
            body = {
                "events": items,
                "firstEventSequence": first if items else 0,
                "lastEventSequence": self.sequence if items else 0,
                "entropy": "".join(random.choices(string.ascii_uppercase, k=20)),  # noqa: S311
            }
        return json.dumps(body, separators=(",", ":")).encode("utf-8")

    def post(self, body: bytes, sig: str) -> JSON:
        request = urllib.request.Request(  # noqa: S310 - http(s) only, checked at registration
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "x-xero-signature": sig},
        )
        outcome: JSON = {"status": None, "body_bytes": 0, "cookie": False, "error": None}
        try:
            with urllib.request.urlopen(request, timeout=RESPONSE_TIMEOUT) as answer:  # noqa: S310
                outcome["status"] = answer.status
                outcome["body_bytes"] = len(answer.read())
                outcome["cookie"] = answer.headers.get("Set-Cookie") is not None
        except urllib.error.HTTPError as exc:
            outcome["status"] = exc.code
            outcome["body_bytes"] = len(exc.read() or b"")
            outcome["cookie"] = exc.headers.get("Set-Cookie") is not None
        except (urllib.error.URLError, OSError) as exc:
            outcome["error"] = str(getattr(exc, "reason", exc))
        return outcome

    def intent_to_receive(self) -> None:
        """Two good and two bad signatures, interleaved; every answer must be right."""
        passed = True
        for good in (True, False, False, True):
            body = self.payload([])
            sig = signature(body, self.key if good else self.key + "-not-the-key")
            outcome = self.post(body, sig)
            want = 200 if good else 401
            ok = outcome["status"] == want and not outcome["body_bytes"] and not outcome["cookie"]
            self.checks.append({"signed_correctly": good, "expected": want, **outcome, "ok": ok})
            passed = passed and ok
        self.status = "OK" if passed else "FAILED"
        if passed:
            self.thread.start()

    def deliver(self, items: list[JSON]) -> None:
        if self.status != "OK" or not items:
            return
        delivery = Delivery(self.payload(items))
        with self.lock:
            self.log.append(delivery)
        self.queue.put(delivery)

    def _run(self) -> None:
        while not self.stop.is_set():
            delivery = self.queue.get()
            if delivery is None:
                continue
            waited, delay = 0.0, 60.0
            while not self.stop.is_set():
                outcome = self.post(delivery.body, signature(delivery.body, self.key))
                with self.lock:
                    delivery.attempts.append(outcome)
                    delivery.delivered = outcome["status"] == 200
                if delivery.delivered or waited + delay > RETRY_BUDGET_SECONDS:
                    break
                if self.stop.wait(delay * self.retry_scale):
                    break
                waited, delay = waited + delay, delay * 2

    def as_json(self) -> JSON:
        with self.lock:
            return {
                "url": self.url,
                "status": self.status,
                "intent_to_receive": list(self.checks),
                "deliveries": [
                    {
                        "delivered": d.delivered,
                        "attempts": list(d.attempts),
                        "payload": json.loads(d.body),
                    }
                    for d in self.log
                ],
            }


class WebhookControlApi(ControlApi):
    """The control API plus ``/_sandbox/webhooks`` and events for every control write."""

    subscription: Subscription | None = None

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> Reply:
        if path.rstrip("/").lower() == "/_sandbox/webhooks":
            return self._webhooks(method, body)
        current = self.subscription
        if current is None or method == "GET":
            return super().handle(method, path, query, body)
        before = snapshot(self.org)
        reply = super().handle(method, path, query, body)
        if reply.status < 300:
            current.deliver(events(self.org, before, snapshot(self.org)))
        return reply

    def _webhooks(self, method: str, body: bytes) -> Reply:
        if method == "POST":
            try:
                data = json.loads(body.decode("utf-8") or "{}")
                url, key = str(data["url"]), str(data["webhook_key"])
                scale = max(float(data.get("retry_scale", 1.0)), 0.0)
            except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
                return json_reply(400, {"error": f"need url and webhook_key: {exc}"})
            if not url.startswith(("http://", "https://")) or not key:
                return json_reply(400, {"error": "url must be http(s) and webhook_key non-empty"})
            self._drop()
            subscription = Subscription(url, key, scale)
            subscription.intent_to_receive()
            self.subscription = subscription
        elif method == "DELETE":
            self._drop()
            return json_reply(200, {"status": None})
        elif method != "GET":
            return json_reply(405, {"error": "GET, POST or DELETE"})
        if self.subscription is None:
            return json_reply(200, {"status": None})
        return json_reply(200, self.subscription.as_json())

    def _drop(self) -> None:
        old, self.subscription = self.subscription, None
        if old is not None:
            old.stop.set()
            old.queue.put(None)
