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
from decimal import Decimal
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
    ConnectorError,
    Credit,
    EntityKind,
    InvoiceRecord,
    OrgConnection,
    Page,
    PermanentError,
    PreflightFinding,
    StaleWriteError,
    TransientError,
)
from connectors.kit import (
    RateLimited,
    call_with_retries,
    countries,
    tag,
)

from . import (
    changefeed,
    companyinfo,
    credits,
    keyset,
    mapping,
    pages,
    preflight,
    privatenote,
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
STALE_OBJECT = 5010
#: Fresh read + new request id after a stale SyncToken, this many times before failing.
STALE_RETRIES = 3
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


def attempt_key(key: str, attempt: int) -> str:
    """The request id of one attempt: the key itself first, then key-derived fresh ids."""
    return key if attempt == 0 else f"{key}#{attempt}"


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
        try:
            info = self._read("CompanyInfo", self._qb.company_id) or {}
            findings = [
                PreflightFinding(
                    "connection",
                    preflight.OK,
                    f"connected to {info.get('CompanyName') or 'the company'} "
                    f"(realm {self._qb.company_id}, country {info.get('Country') or 'unknown'})",
                ),
                preflight.check_fee_item(self._read, self.options),
                preflight.check_tax_code(
                    self._read, self.options, countries.to_alpha2(info.get("Country"))
                ),
                preflight.check_reminders(info),
            ]
        except ConnectorError as exc:
            return [PreflightFinding("connection", preflight.ERROR, f"QuickBooks: {exc}")]
        return findings

    # -- actions -----------------------------------------------------------------------------

    def _with_fresh_invoice(
        self, invoice_id: str, key: str, build: Callable[[dict[str, Any]], dict[str, Any] | None]
    ) -> ActionResult:
        """Read, build a sparse update, post; on a stale SyncToken read again and post again.

        Each retry carries a new request id derived from the key and the attempt: QBO replays
        the stale answer forever under the old id. The ``[syncd:KEY]`` tag in the body makes a
        write that did land recognisable on the fresh read, so nothing is written twice.
        """
        for attempt in range(STALE_RETRIES + 1):
            raw = self._read("Invoice", invoice_id)
            if raw is None:
                raise PermanentError(f"invoice {invoice_id} no longer exists")
            body = build(raw)
            if body is None:
                return ActionResult(detail="already applied", invoice=self._record(raw))
            try:
                updated = self._post("Invoice", body, attempt_key(key, attempt))
            except PermanentError as exc:
                if writes.error_code(exc) == STALE_OBJECT and attempt < STALE_RETRIES:
                    log.info(
                        "quickbooks.stale_synctoken",
                        invoice=invoice_id,
                        attempt=attempt + 1,
                        retry="fresh read, new request id",
                    )
                    continue
                raise
            return ActionResult(remote_id=str(updated.get("Id")), invoice=self._record(updated))
        raise PermanentError(  # pragma: no cover - the loop returns or raises
            f"invoice {invoice_id} kept changing under us (stale SyncToken)"
        )

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
        line = self._fee_line(charge, key)
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

        def mark(raw: dict[str, Any]) -> dict[str, Any] | None:
            if reminders.marked_previous(raw.get("PrivateNote"), key) is not None:
                return None
            note = privatenote.append(raw.get("PrivateNote"), key, reminders.marker_text(raw))
            return {
                "Id": raw["Id"],
                "SyncToken": raw["SyncToken"],
                "sparse": True,
                "PrivateNote": note,
            }

        self._with_fresh_invoice(invoice_id, f"{key}:mark", mark)
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

    def _fee_line(self, fee: Charge, key: str) -> dict[str, Any]:
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
                **(
                    {"TaxCodeRef": {"value": self.options.late_fee_tax_code_id}}
                    if self.options.late_fee_tax_code_id
                    else {}
                ),
            },
        }

    def add_charge(self, invoice_id: str, charge: Charge, *, idempotency_key: str) -> ActionResult:
        line = self._fee_line(charge, idempotency_key)
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
        created = self._post("Invoice", body, request_key or key)
        return ActionResult(remote_id=str(created.get("Id")), detail=f"fee invoice for {number}")

    def apply_credit(
        self, invoice_id: str, credit: Credit, *, idempotency_key: str
    ) -> ActionResult:
        """A tagged credit memo, then (unless QuickBooks applies it itself) the zero-total
        payment that links it to the invoice; see credits.py."""
        key = idempotency_key
        invoice = self._read("Invoice", invoice_id)
        if invoice is None:
            raise PermanentError(f"invoice {invoice_id} no longer exists")
        customer_id = str(invoice["CustomerRef"]["value"])
        memo = credits.find_memo(self._query, customer_id, key)
        wrote = memo is None
        if memo is None:
            if not self.options.settlement_item_id:
                raise PermanentError("options.settlement_item_id is not set for this org")
            credits.check(invoice, credit, self.options.home_currency)
            auto = self._auto_apply_credit()
            if auto:
                credits.refuse_misapplied(self._query, invoice, customer_id)
            body = credits.memo_body(
                invoice, credit, key, self.options.settlement_item_id,
                self.options.late_fee_tax_code_id,
            )  # fmt: skip
            memo = self._post("CreditMemo", body, key)
            memo = self._read("CreditMemo", str(memo["Id"])) or memo
        remaining = Decimal(str(memo.get("Balance", "0")))
        if remaining > 0:
            invoice = self._read("Invoice", invoice_id) or invoice
            credits.check(invoice, Credit(remaining, credit.currency, credit.reference), (
                self.options.home_currency))  # fmt: skip
            link = credits.link_body(invoice, memo, remaining, credit.on, key)
            self._post("Payment", link, f"{key}:link")
            wrote = True
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


def _classify(exc: QuickbooksException) -> Exception:
    code = getattr(exc, "error_code", None)
    text = str(exc.message)
    if code == 10000 and "Error reading json response" in text:
        # The SDK puts the whole unreadable body in its message: customer data, kilobytes
        # long. Logs and summaries get its first characters only.
        text = f"Error reading json response (body starts {text[29:].strip()[:60]!r})"
    message = f"QuickBooks error {code}: {text[:300]}"
    detail = getattr(exc, "detail", "")
    if detail:
        message += f" ({str(detail)[:300]})"
    if code in (3001, 3200) or "ThrottleExceeded" in str(exc.message):
        error: Exception = RateLimited(message, retry_after=60.0)
    elif code == 10000 and "Error reading json response" in text:
        # Intuit sometimes answers in XML or with a truncated body: worth another try.
        error = TransientError(message)
    else:
        error = PermanentError(message)
    return error
