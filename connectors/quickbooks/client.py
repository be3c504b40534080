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
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

import structlog
from quickbooks import QuickBooks
from quickbooks.exceptions import ObjectNotFoundException, QuickbooksException
from quickbooks.mixins import DecimalEncoder

from connectors.base import (
    ActionResult,
    AuthError,
    Charge,
    CompanyInfo,
    Credit,
    EntityKind,
    InvoiceRecord,
    OrgConnection,
    Page,
    PermanentError,
    PreflightFinding,
    StaleWriteError,
)
from connectors.kit import call_with_retries

from . import (
    changefeed,
    companyinfo,
    credits,
    errors,
    keyset,
    mapping,
    pages,
    preflight,
    reads,
    reminders,
    wire,
    writes,
)
from .auth import INTUIT_TOKEN_URL, ApiSession, RateLimiter, quickbooks_tokens
from .settings import QuickBooksCredentials, QuickBooksOptions

PRODUCTION_API = "https://quickbooks.api.intuit.com/v3"
SANDBOX_API = "https://sandbox-quickbooks.api.intuit.com/v3"
CDC_CAP = changefeed.CDC_CAP
CDC_LOOKBACK = changefeed.CDC_LOOKBACK
_STREAMS: dict[EntityKind, tuple[str, ...]] = {
    EntityKind.CUSTOMERS: ("Customer",),
    EntityKind.INVOICES: ("Invoice",),
    EntityKind.PAYMENTS: ("Payment", "CreditMemo"),
}
_T = TypeVar("_T")
log = structlog.get_logger(__name__)


def request_id(key: str) -> str:
    """QuickBooks accepts request ids of at most 50 characters; longer keys are hashed."""
    if len(key) <= 50:
        return key
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def _fmt(ts: datetime) -> str:
    return ts.isoformat(timespec="seconds")


class QuickBooksConnector:
    def __init__(
        self,
        connection: OrgConnection,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 6,
    ) -> None:
        creds = cast(QuickBooksCredentials, connection.credentials)
        if creds.realm_id is None:
            raise AuthError(
                f"org {connection.org_name!r} has no realm_id yet; run "
                f"`syncd connect quickbooks --org {connection.org_name}`"
            )
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
            bootstrap_refresh_token=(
                creds.refresh_token.get_secret_value() if creds.refresh_token else ""
            ),
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
        self._customer_types = reads.CustomerTypes(self._query)
        self._stale = writes.StaleCount()

    # -- plumbing ---------------------------------------------------------------------------

    def _call(self, fn: Callable[[], _T]) -> _T:
        def once() -> _T:
            try:
                return fn()
            except QuickbooksException as exc:
                raise errors.classify(exc) from exc

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

    def _rows(self, statement: str, entity: str) -> list[wire.Received]:
        """The fast read path (see wire.py) for the mapped entities."""
        return self._call(lambda: wire.query(self._qb, statement, entity))

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

    def _page(self, rows: list[wire.Received], cursor: str | None) -> Page:
        return pages.build(rows, cursor, self.options.home_currency, self._customer_types.names_for)

    def backfill(self, entity: EntityKind, resume: str | None) -> Iterator[Page]:
        """Keyset pages that do not depend on how QBO orders rows tying on a timestamp."""
        size = self.options.page_size
        for _, rows, cursor in keyset.pull(self._rows, _STREAMS[entity], resume, size):
            yield self._page(rows, cursor)

    def cursor_now(self) -> str:
        result = self._call(lambda: self._qb.query("SELECT COUNT(*) FROM Invoice"))
        server_time = result.get("time")
        stamp = mapping.parse_time(server_time, "time") if server_time else self._now()
        return _fmt(stamp - CDC_LOOKBACK)

    def changes(self, cursor: str) -> Iterator[Page]:
        yield from changefeed.changes(
            self._cdc, self._page, cursor, now=self._now, cap=self.cdc_cap
        )

    def _cdc(
        self, entities: str, changed_since: str
    ) -> tuple[dict[str, list[wire.Received]], str | None]:
        return self._call(lambda: wire.change_data_capture(self._qb, entities, changed_since))

    def fetch_invoice(self, provider_id: str) -> InvoiceRecord | None:
        raw = self._read("Invoice", provider_id)
        if raw is None:
            return None
        try:
            return mapping.invoice(raw, self.options.home_currency)
        except mapping.MappingError as exc:
            raise PermanentError(f"invoice {provider_id}: {exc}") from None

    def fetch_records(self, entity: EntityKind, provider_ids: Sequence[str]) -> Page:
        return reads.fetch_records(self._rows, self._page, entity, provider_ids, self._now())

    def company_info(self) -> CompanyInfo:
        raw = self._read("CompanyInfo", self._qb.company_id)
        if raw is None:
            raise PermanentError("QuickBooks has no CompanyInfo for this realm")
        return companyinfo.company_info(raw, self.options.home_currency)

    def preflight(self) -> list[PreflightFinding]:
        return preflight.findings(self._read, self.options, self._qb.company_id)

    # -- actions -----------------------------------------------------------------------------

    def _with_fresh_invoice(self, invoice_id: str, key: str, build: writes.Build) -> ActionResult:
        """A sparse update built from a fresh read of the invoice (writes.write_fresh)."""
        return writes.write_fresh(self._read, self._post, self._record, (invoice_id, key), build)

    def _record(self, raw: Mapping[str, Any]) -> InvoiceRecord | None:
        try:
            return mapping.invoice(raw, self.options.home_currency)
        except mapping.MappingError:
            return None

    def add_note(self, invoice_id: str, text: str, *, idempotency_key: str) -> ActionResult:
        def build(raw: dict[str, Any]) -> dict[str, Any] | None:
            return writes.note_body(raw, text, idempotency_key)

        return self._with_fresh_invoice(invoice_id, idempotency_key, build)

    # -- writes based on a batched read (connectors.base.WritesFromRead; writes.py) ---

    def writes_versioned(self, capability: str) -> bool:
        return capability == "note" or (
            capability == "charge" and self.options.late_fee_mode != "invoice"
        )

    def add_note_seen(
        self, seen: InvoiceRecord, text: str, *, idempotency_key: str, attempt: int = 0
    ) -> ActionResult:
        key = idempotency_key
        return writes.write_seen(
            self._post,
            self._record,
            seen,
            (key, self._stale.request_suffix(key, attempt)),
            lambda raw: writes.note_body(raw, text, key),
            self._stale,
        )

    def add_charge_seen(
        self,
        seen: InvoiceRecord,
        charge: Charge,
        *,
        idempotency_key: str,
        attempt: int = 0,
    ) -> ActionResult:
        key, home = idempotency_key, self.options.home_currency
        line = writes.fee_line(charge, key, self.options)
        try:
            return writes.write_seen(
                self._post,
                self._record,
                seen,
                (key, self._stale.request_suffix(key, attempt)),
                lambda raw: writes.charge_body(raw, line, charge, key, home),
                self._stale,
            )
        except PermanentError as exc:
            if isinstance(exc, StaleWriteError) or "closing date" not in str(exc).lower():
                raise
            log.info("quickbooks.fee_after_closing_date", invoice=seen.provider_id)
            return self._fee_invoice(seen.provider_id, charge, line, key, request_key=f"{key}:inv")

    def send_provider_email(
        self, invoice_id: str, *, to: str | None, idempotency_key: str
    ) -> ActionResult:
        """Marker first, then the send, reconciled on every attempt (see reminders.py)."""
        key = idempotency_key
        self._with_fresh_invoice(invoice_id, f"{key}:mark", lambda raw: reminders.mark(raw, key))
        url = f"{self._qb.api_url}/company/{self._qb.company_id}/invoice/{invoice_id}/send"
        params = {"sendTo": to} if to else {}

        def read() -> dict[str, Any]:
            raw = self._read("Invoice", invoice_id)
            if raw is None:
                raise PermanentError(f"invoice {invoice_id} no longer exists")
            return raw

        def post_send() -> dict[str, Any]:
            return cast(
                dict[str, Any],
                self._qb.post(
                    url,
                    None,
                    content_type="application/octet-stream",
                    params=dict(params),
                    request_id=request_id(key),
                ),
            )

        sent, raw = self._call(lambda: reminders.send_once(read, post_send, key))
        detail = None if sent else "already sent (QuickBooks delivered it after syncd's marker)"
        return ActionResult(
            remote_id=str(raw.get("Id", invoice_id)), detail=detail, invoice=self._record(raw)
        )

    def add_charge(self, invoice_id: str, charge: Charge, *, idempotency_key: str) -> ActionResult:
        line = writes.fee_line(charge, idempotency_key, self.options)
        if self.options.late_fee_mode == "invoice":
            return self._fee_invoice(invoice_id, charge, line, idempotency_key)

        def build(raw: dict[str, Any]) -> dict[str, Any] | None:
            home = self.options.home_currency
            return writes.charge_body(raw, line, charge, idempotency_key, home)

        try:
            return self._with_fresh_invoice(invoice_id, idempotency_key, build)
        except PermanentError as exc:
            if "closing date" not in str(exc).lower():
                raise
            # Books closed for the invoice's period: the fee goes on its own invoice, dated
            # today, like QuickBooks' own late fees. The tag makes it findable on a retry.
            log.info("quickbooks.fee_after_closing_date", invoice=invoice_id)
            # A new request id: the refused update's answer is stored under the key's own.
            return self._fee_invoice(
                invoice_id, charge, line, idempotency_key, request_key=f"{idempotency_key}:inv"
            )

    def _fee_invoice(
        self,
        invoice_id: str,
        fee: Charge,
        line: dict[str, Any],
        key: str,
        *,
        request_key: str | None = None,
    ) -> ActionResult:
        original = self._read("Invoice", invoice_id)
        if original is None:
            raise PermanentError(f"invoice {invoice_id} no longer exists")
        number = original.get("DocNumber") or invoice_id
        existing = reads.find_tagged_invoice(self._query, original, key)
        if existing is not None:
            # Written by an earlier attempt whose request id QBO no longer remembers.
            return ActionResult(
                remote_id=str(existing.get("Id")), detail=f"fee invoice for {number} exists"
            )
        body = writes.fee_invoice_body(original, number, line, key)
        created = self._post("Invoice", body, request_key or key)
        return ActionResult(remote_id=str(created.get("Id")), detail=f"fee invoice for {number}")

    def apply_credit(
        self, invoice_id: str, credit: Credit, *, idempotency_key: str
    ) -> ActionResult:
        """A tagged credit memo, then (unless QuickBooks applies it itself) the zero-total
        payment that links it to the invoice; see credits.py."""
        books = credits.Books(self._read, self._query, self._post, self._auto_apply_credit)
        memo, wrote = credits.apply(books, invoice_id, credit, idempotency_key, self.options)
        fresh = self._read("Invoice", invoice_id)
        number = memo.get("DocNumber") or memo["Id"]
        return ActionResult(
            remote_id=str(memo["Id"]),
            detail=f"credit memo {number} applied" if wrote else "already applied",
            invoice=self._record(fresh) if fresh else None,
        )

    def _auto_apply_credit(self) -> bool:
        url = f"{self._qb.api_url}/company/{self._qb.company_id}/preferences"
        body = self._call(lambda: self._qb.get(url))
        prefs = (body or {}).get("Preferences") or {}
        return bool((prefs.get("SalesFormsPrefs") or {}).get("AutoApplyCredit"))

    def close(self) -> None:
        self.session.close()
        self.tokens.close()
