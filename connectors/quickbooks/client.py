"""The QuickBooks Online connector: python-quickbooks over syncd's own authenticated session.

Full pulls use the query endpoint with keyset paging on ``MetaData.LastUpdatedTime`` (an
offset alone skips rows when records change mid-backfill); incremental pulls use
ChangeDataCapture, narrowing the window when a response hits the 1,000-object cap. Writes carry
a ``requestid`` derived from syncd's idempotency key and a ``[syncd:KEY]`` tag that makes them
recognisable even after the provider's replay window has passed.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from quickbooks import QuickBooks
from quickbooks.exceptions import ObjectNotFoundException, QuickbooksException
from quickbooks.mixins import DecimalEncoder

from connectors.base import (
    ActionResult,
    CursorExpiredError,
    CustomerRecord,
    Deletion,
    EntityKind,
    InvoiceRecord,
    LateFee,
    OrgConnection,
    Page,
    PaymentKind,
    PaymentRecord,
    PermanentError,
    SkippedRecord,
    TransientError,
)
from connectors.kit import (
    RateLimited,
    call_with_retries,
    decode_cursor,
    encode_cursor,
    tag,
    tag_key,
)

from . import mapping, privatenote
from .auth import INTUIT_TOKEN_URL, ApiSession, RateLimiter, quickbooks_tokens
from .settings import QuickBooksCredentials, QuickBooksOptions

PRODUCTION_API = "https://quickbooks.api.intuit.com/v3"
SANDBOX_API = "https://sandbox-quickbooks.api.intuit.com/v3"
CDC_MAX_AGE = timedelta(days=30)
CDC_CAP = 1000
CDC_ENTITIES = "Invoice,Payment,Customer,CreditMemo"
#: Re-read a little before the cursor: commit lag and clock skew on Intuit's side.
CDC_LOOKBACK = timedelta(minutes=2)
STALE_OBJECT = 5010
_STREAMS: dict[EntityKind, tuple[str, ...]] = {
    EntityKind.CUSTOMERS: ("Customer",),
    EntityKind.INVOICES: ("Invoice",),
    EntityKind.PAYMENTS: ("Payment", "CreditMemo"),
}
_T = TypeVar("_T")


def request_id(key: str) -> str:
    """QuickBooks accepts request ids of at most 50 characters; longer keys are hashed."""
    if len(key) <= 50:
        return key
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def _fmt(ts: datetime) -> str:
    return ts.isoformat(timespec="seconds")


@dataclass
class _Resume:
    entity: str
    since: str | None = None
    skip: int = 0

    def dump(self) -> str:
        return encode_cursor({"entity": self.entity, "since": self.since, "skip": self.skip})

    @classmethod
    def load(cls, text: str | None, first: str, allowed: tuple[str, ...]) -> _Resume:
        """An unreadable cursor restarts the stream (logged by the kit): never a crash."""

        def parse(data: dict[str, Any]) -> _Resume:
            entity, since, skip = str(data["entity"]), data.get("since"), int(data.get("skip", 0))
            if entity not in allowed or skip < 0:
                raise ValueError(f"no stream {entity!r} at position {skip}")
            if since is not None:
                mapping.parse_time(since, "since")  # goes into a query: must be a timestamp
            return cls(entity, since, skip)

        return decode_cursor(text, parse, provider="QuickBooks") or cls(first)


class QuickBooksConnector:
    def __init__(
        self,
        connection: OrgConnection,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 6,
    ) -> None:
        creds = cast(QuickBooksCredentials, connection.credentials)
        self.options = options = cast(QuickBooksOptions, connection.options)
        self._now = connection.now
        #: Intuit caps a CDC response at 1,000 objects; adjustable for tests.
        self.cdc_cap = CDC_CAP
        self._sleep = sleep
        self._max_attempts = max_attempts
        api = connection.base_url or (
            SANDBOX_API if options.environment == "sandbox" else PRODUCTION_API
        )
        self.tokens = quickbooks_tokens(
            token_url=connection.token_url or INTUIT_TOKEN_URL,
            client_id=creds.client_id,
            client_secret=creds.client_secret.get_secret_value(),
            bootstrap_refresh_token=creds.refresh_token.get_secret_value(),
            store=connection.tokens,
            now=connection.now,
            ca_bundle=options.ca_bundle,
            timeout=options.timeout_seconds,
        )
        self.session = ApiSession(
            self.tokens,
            RateLimiter(options.requests_per_minute, sleep=sleep),
            timeout=options.timeout_seconds,
            ca_bundle=options.ca_bundle,
        )
        # Built without an auth_client so that nothing touches the network before first use.
        qb = QuickBooks(
            company_id=creds.realm_id, minorversion=options.minorversion, use_decimal=True
        )
        qb.session = self.session
        qb.sandbox = False
        qb.api_url_v3 = api
        self._qb = qb

    # -- plumbing ---------------------------------------------------------------------------

    def _call(self, fn: Callable[[], _T]) -> _T:
        def once() -> _T:
            try:
                return fn()
            except QuickbooksException as exc:
                raise _classify(exc) from exc

        return call_with_retries(
            once,
            provider="QuickBooks",
            refresh=lambda: self.tokens.after_unauthorized(self.session.access_token),
            sleep=self._sleep,
            max_attempts=self._max_attempts,
        )

    def _query(self, statement: str) -> dict[str, Any]:
        result = self._call(lambda: self._qb.query(statement))
        return cast(dict[str, Any], result.get("QueryResponse") or {})

    def _read(self, entity: str, provider_id: str) -> dict[str, Any] | None:
        try:
            result = self._call(lambda: self._qb.get_single_object(entity, provider_id))
        except PermanentError as exc:
            if isinstance(exc.__cause__, ObjectNotFoundException) or "610" in str(exc):
                return None
            raise
        return cast(dict[str, Any], result[entity])

    def _post(self, entity: str, body: Mapping[str, Any], key: str) -> dict[str, Any]:
        payload = json.dumps(body, cls=DecimalEncoder)
        result = self._call(
            lambda: self._qb.update_object(entity, payload, request_id=request_id(key))
        )
        return cast(dict[str, Any], result[entity])

    # -- pulls -------------------------------------------------------------------------------

    def _map(self, entity: str, raw: Mapping[str, Any]) -> Any:
        home = self.options.home_currency
        if entity == "Customer":
            return mapping.customer(raw, home)
        if entity == "Invoice":
            return mapping.invoice(raw, home)
        if entity == "Payment":
            return mapping.payment(raw, home)
        return mapping.credit_memo(raw, home)

    def _page(self, rows: list[tuple[str, Mapping[str, Any]]], cursor: str | None) -> Page:
        customers: list[CustomerRecord] = []
        invoices: list[InvoiceRecord] = []
        payments: list[PaymentRecord] = []
        deletions: list[Deletion] = []
        skipped: list[SkippedRecord] = []
        for entity, raw in rows:
            kind = _ENTITY_KIND[entity]
            try:
                if mapping.is_deleted(raw):
                    pk = PaymentKind.CREDIT_NOTE if entity == "CreditMemo" else None
                    if entity == "Payment":
                        pk = PaymentKind.PAYMENT
                    deletions.append(mapping.deletion(kind, raw, pk))
                    continue
                record = self._map(entity, raw)
            except mapping.MappingError as exc:
                raw_id = raw.get("Id")
                skipped.append(
                    SkippedRecord(kind, str(raw_id) if raw_id else None, f"{entity}: {exc}", raw)
                )
                continue
            if isinstance(record, CustomerRecord):
                customers.append(record)
            elif isinstance(record, InvoiceRecord):
                invoices.append(record)
            else:
                payments.append(record)
        return Page(
            customers=tuple(customers),
            invoices=tuple(invoices),
            payments=tuple(payments),
            deletions=tuple(deletions),
            skipped=tuple(skipped),
            cursor=cursor,
        )

    def backfill(self, entity: EntityKind, resume: str | None) -> Iterator[Page]:
        streams = _STREAMS[entity]
        state = _Resume.load(resume, streams[0], streams)
        size = self.options.page_size
        for qbo_entity in streams[streams.index(state.entity) :]:
            if qbo_entity != state.entity:
                state = _Resume(qbo_entity)
            while True:
                where = []
                if qbo_entity == "Customer":
                    where.append("Active IN (true, false)")
                if state.since:
                    where.append(f"MetaData.LastUpdatedTime >= '{state.since}'")
                statement = f"SELECT * FROM {qbo_entity}"  # noqa: S608 - fixed entity names
                if where:
                    statement += " WHERE " + " AND ".join(where)
                statement += (
                    f" ORDERBY MetaData.LastUpdatedTime STARTPOSITION {state.skip + 1}"
                    f" MAXRESULTS {size}"
                )
                rows = self._query(statement).get(qbo_entity) or []
                if not rows:
                    break
                state = _next_resume(state, rows)
                yield self._page([(qbo_entity, r) for r in rows], state.dump())
                if len(rows) < size:
                    break
        # An empty final page tells the caller where the stream ended.

    def cursor_now(self) -> str:
        result = self._call(lambda: self._qb.query("SELECT COUNT(*) FROM Invoice"))
        server_time = result.get("time")
        stamp = mapping.parse_time(server_time, "time") if server_time else self._now()
        return _fmt(stamp - CDC_LOOKBACK)

    def changes(self, cursor: str) -> Iterator[Page]:
        try:
            since = mapping.parse_time(cursor, "cursor")
        except mapping.MappingError:
            unreadable = f"unreadable QuickBooks change cursor {cursor[:80]!r}"
            raise CursorExpiredError(unreadable) from None
        while True:
            if self._now() - since > CDC_MAX_AGE - timedelta(hours=1):
                raise CursorExpiredError(f"change cursor {cursor} is older than 30 days")
            result = self._cdc(_fmt(since))
            by_entity: dict[str, list[dict[str, Any]]] = {}
            for block in (result.get("CDCResponse") or [{}])[0].get("QueryResponse") or []:
                for name, rows in block.items():
                    if isinstance(rows, list):
                        by_entity.setdefault(name, []).extend(rows)
            server_time = result.get("time")
            now = mapping.parse_time(server_time, "time") if server_time else self._now()
            total = sum(len(v) for v in by_entity.values())
            order = ("Customer", "Invoice", "Payment", "CreditMemo")
            rows = [(e, r) for e in order for r in by_entity.get(e, [])]
            if total < self.cdc_cap:
                yield self._page(rows, _fmt(now - CDC_LOOKBACK))
                return
            horizon = _complete_until(by_entity, self.cdc_cap)
            if horizon <= since:
                raise CursorExpiredError("too many changes at one instant; full pull needed")
            yield self._page(rows, _fmt(horizon))
            since = horizon

    def _cdc(self, changed_since: str) -> dict[str, Any]:
        result = self._call(lambda: self._qb.change_data_capture(CDC_ENTITIES, changed_since))
        return cast(dict[str, Any], result)

    def fetch_invoice(self, provider_id: str) -> InvoiceRecord | None:
        raw = self._read("Invoice", provider_id)
        if raw is None:
            return None
        try:
            return mapping.invoice(raw, self.options.home_currency)
        except mapping.MappingError as exc:
            raise PermanentError(f"invoice {provider_id}: {exc}") from None

    # -- actions -----------------------------------------------------------------------------

    def _with_fresh_invoice(
        self, invoice_id: str, key: str, build: Callable[[dict[str, Any]], dict[str, Any] | None]
    ) -> ActionResult:
        """Read, build a sparse update, post; on a stale SyncToken read again and retry once."""
        for attempt in range(2):
            raw = self._read("Invoice", invoice_id)
            if raw is None:
                raise PermanentError(f"invoice {invoice_id} no longer exists")
            body = build(raw)
            if body is None:
                return ActionResult(detail="already applied", invoice=self._record(raw))
            try:
                updated = self._post("Invoice", body, key if attempt == 0 else f"{key}:r")
            except PermanentError as exc:
                if attempt == 0 and _code(exc) == STALE_OBJECT:
                    continue
                raise
            return ActionResult(remote_id=str(updated.get("Id")), invoice=self._record(updated))
        raise PermanentError(f"invoice {invoice_id} kept changing under us (stale SyncToken)")

    def _record(self, raw: Mapping[str, Any]) -> InvoiceRecord | None:
        try:
            return mapping.invoice(raw, self.options.home_currency)
        except mapping.MappingError:
            return None

    def add_note(self, invoice_id: str, text: str, *, idempotency_key: str) -> ActionResult:
        def build(raw: dict[str, Any]) -> dict[str, Any] | None:
            note = raw.get("PrivateNote")
            if privatenote.has_entry(note, idempotency_key):
                return None
            return {
                "Id": raw["Id"],
                "SyncToken": raw["SyncToken"],
                "sparse": True,
                "PrivateNote": privatenote.append(note, idempotency_key, text),
            }

        return self._with_fresh_invoice(invoice_id, idempotency_key, build)

    def send_reminder(
        self, invoice_id: str, *, to: str | None, idempotency_key: str
    ) -> ActionResult:
        url = f"{self._qb.api_url}/company/{self._qb.company_id}/invoice/{invoice_id}/send"
        params = {"sendTo": to} if to else {}
        result = self._call(
            lambda: self._qb.post(
                url,
                None,
                content_type="application/octet-stream",
                params=dict(params),
                request_id=request_id(idempotency_key),
            )
        )
        raw = result.get("Invoice") or {}
        return ActionResult(remote_id=str(raw.get("Id", invoice_id)), invoice=self._record(raw))

    def _fee_line(self, fee: LateFee, key: str) -> dict[str, Any]:
        if not self.options.late_fee_item_id:
            raise PermanentError("options.late_fee_item_id is not set for this org")
        return {
            "Amount": fee.amount,
            "Description": f"{fee.description} {tag(key)}",
            "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {
                "ItemRef": {"value": self.options.late_fee_item_id},
                "Qty": 1,
                "UnitPrice": fee.amount,
            },
        }

    def add_late_fee(self, invoice_id: str, fee: LateFee, *, idempotency_key: str) -> ActionResult:
        line = self._fee_line(fee, idempotency_key)
        if self.options.late_fee_mode == "invoice":
            return self._fee_invoice(invoice_id, fee, line, idempotency_key)

        def build(raw: dict[str, Any]) -> dict[str, Any] | None:
            record = mapping.invoice(raw, self.options.home_currency)
            if any(ln.fee_key == tag_key(idempotency_key) for ln in record.lines):
                return None
            if record.currency != fee.currency:
                raise PermanentError(
                    f"fee in {fee.currency} cannot go on an invoice in {record.currency}"
                )
            kept = [
                ln for ln in raw.get("Line") or [] if ln.get("DetailType") != "SubTotalLineDetail"
            ]
            return {
                "Id": raw["Id"],
                "SyncToken": raw["SyncToken"],
                "sparse": True,
                "Line": [*kept, line],
            }

        return self._with_fresh_invoice(invoice_id, idempotency_key, build)

    def _fee_invoice(
        self, invoice_id: str, fee: LateFee, line: dict[str, Any], key: str
    ) -> ActionResult:
        original = self._read("Invoice", invoice_id)
        if original is None:
            raise PermanentError(f"invoice {invoice_id} no longer exists")
        number = original.get("DocNumber") or invoice_id
        body: dict[str, Any] = {
            "CustomerRef": original["CustomerRef"],
            "Line": [line],
            "PrivateNote": f"Late fee for invoice {number} {tag(key)}",
            "CustomerMemo": {"value": f"Late fee for invoice {number}"},
        }
        if original.get("CurrencyRef"):
            body["CurrencyRef"] = original["CurrencyRef"]
        if original.get("BillEmail"):
            body["BillEmail"] = original["BillEmail"]
        created = self._post("Invoice", body, key)
        return ActionResult(remote_id=str(created.get("Id")), detail=f"fee invoice for {number}")

    def close(self) -> None:
        self.session.close()
        self.tokens.close()


_ENTITY_KIND = {
    "Customer": EntityKind.CUSTOMERS,
    "Invoice": EntityKind.INVOICES,
    "Payment": EntityKind.PAYMENTS,
    "CreditMemo": EntityKind.PAYMENTS,
}


def _last_change(rows: list[dict[str, Any]]) -> datetime:
    return max(mapping.parse_time((r.get("MetaData") or {}).get("LastUpdatedTime")) for r in rows)


def _complete_until(by_entity: dict[str, list[dict[str, Any]]], cap: int) -> datetime:
    """The instant up to which a capped CDC answer is known to be complete.

    Intuit's documentation leaves open whether the cap counts per entity or per response. If
    one entity's list is full, only that list was cut: it is complete up to its newest row. If
    no list is full the cut was response-wide, keeping the oldest changes: the answer is
    complete up to its newest row overall. Rows at exactly that instant are fetched again.
    """
    full = [rows for rows in by_entity.values() if len(rows) >= cap]
    if full:
        return min(_last_change(rows) for rows in full)
    return max(_last_change(rows) for rows in by_entity.values() if rows)


def _next_resume(state: _Resume, rows: list[dict[str, Any]]) -> _Resume:
    """Keyset step: continue at the last timestamp seen, skipping the rows already taken at it."""
    last = (rows[-1].get("MetaData") or {}).get("LastUpdatedTime")
    at_last = sum(1 for r in rows if (r.get("MetaData") or {}).get("LastUpdatedTime") == last)
    if last is None:
        return _Resume(state.entity, state.since, state.skip + len(rows))
    skip = state.skip + at_last if last == state.since else at_last
    return _Resume(state.entity, str(last), skip)


def _code(exc: Exception) -> int | None:
    cause = exc.__cause__ or exc.__context__
    code = getattr(cause, "error_code", None)
    try:
        return int(code) if code is not None else None
    except (TypeError, ValueError):
        return None


def _classify(exc: QuickbooksException) -> Exception:
    code = getattr(exc, "error_code", None)
    message = f"QuickBooks error {code}: {exc.message}"
    detail = getattr(exc, "detail", "")
    if detail:
        message += f" ({str(detail)[:300]})"
    if code in (3001, 3200) or "ThrottleExceeded" in str(exc.message):
        error: Exception = RateLimited(message, retry_after=60.0)
    elif code == 10000 and "Error reading json response" in str(exc.message):
        # Intuit sometimes answers in XML or with a truncated body: worth another try.
        error = TransientError(message)
    else:
        error = PermanentError(message)
    return error
