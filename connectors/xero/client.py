"""The Xero connector: xero-python's AccountingApi over syncd's own tokens and HTTP seam.

Pulls are keyset-paged on ``UpdatedDateUTC``: every query asks for records modified after a
``since`` (the ``If-Modified-Since`` header, which Xero answers strictly-after) in
``UpdatedDateUTC`` order, and after each full page ``since`` moves to one second before the
newest record seen. A record that changes while a backfill runs moves behind the cursor
instead of shifting an unchanged one off a page boundary (what plain ``page=N`` paging would
do), rows at the boundary second are read twice and de-duplicated by the store's content
fingerprint, and when a whole page shares one second the pull reads that second in one
unpaged window (:mod:`.paging`): tied rows may come back in any order.

Incremental pulls (:mod:`.incremental`) use the same loop per stream from a per-stream
cursor: the newest ``UpdatedDateUTC`` seen, minus :data:`OVERLAP`, and never later than the
moment the pull of that stream started by Xero's clock. Contacts, invoices and payments are
read every pass; credit notes, prepayments and overpayments when an invoice names a new one,
or every few minutes. List bodies are parsed once (:mod:`.wire`) and each record keeps its
text as received (``raw_json``). ``backfill()`` iterators may run in parallel threads: the
rate governor, the HTTP pool and the token refresh are shared and thread-safe.

Writes carry an ``Idempotency-Key`` and a ``[syncd:KEY]`` tag (in a history note, a fee line's
description, a fee invoice's reference) that is looked for before writing, so a write is
recognisable even after Xero stops replaying the key.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token

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
    TransientError,
)
from connectors.kit import call_with_retries

from . import (
    company,
    credits,
    fees,
    incremental,
    mapping,
    notes,
    pages,
    paging,
    preflight,
    prepaid,
    reads,
    reminders,
    wire,
    writes,
)
from .auth import XERO_TOKEN_URL, require_secure, xero_tokens
from .limits import MAX_CONCURRENT, DayLimitReached, RateGovernor
from .positions import ORDER, OVERLAP, Listing, Position, listing_of, second, server_time
from .settings import XeroCredentials, XeroOptions
from .transport import NotFound, RawResponse, XeroTransport

XERO_API = "https://api.xero.com/api.xro/2.0"
INVOICE_STATUSES = ["DRAFT", "SUBMITTED", "AUTHORISED", "PAID", "VOIDED", "DELETED"]

_T = TypeVar("_T")


class XeroConnector:
    def __init__(
        self,
        connection: OrgConnection,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        max_attempts: int = 6,
    ) -> None:
        creds = cast(XeroCredentials, connection.credentials)
        if creds.tenant_id is None:
            raise AuthError(
                f"org {connection.org_name!r} has no tenant_id yet; run "
                f"`syncd connect xero --org {connection.org_name}`"
            )
        self.options = options = cast(XeroOptions, connection.options)
        self.tenant_id = creds.tenant_id
        self._now = connection.now
        self.sleep = sleep
        self.max_attempts = max_attempts
        api_url = (connection.base_url or XERO_API).rstrip("/")
        require_secure(api_url)
        self.tokens = xero_tokens(
            token_url=connection.token_url or XERO_TOKEN_URL,
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
        self.governor = RateGovernor(
            options.minute_limit, options.day_limit, monotonic=monotonic, sleep=sleep
        )
        # Configuration() hands back a copy of the first instance ever built and ignores its
        # arguments, so everything this org needs is set on the copy, never passed in.
        configuration = Configuration()
        configuration.oauth2_token = OAuth2Token()
        configuration.ssl_ca_cert = options.ca_bundle
        configuration.connection_pool_maxsize = MAX_CONCURRENT
        self.configuration = configuration
        api_client = ApiClient(
            configuration,
            oauth2_token_getter=self._sdk_token,
            oauth2_token_saver=self._sdk_refreshed,
        )
        self.transport = XeroTransport(
            api_client.rest_client, self.governor, timeout=options.timeout_seconds
        )
        api_client.rest_client = self.transport
        self.api = AccountingApi(api_client, base_url=api_url)

    # -- plumbing ---------------------------------------------------------------------------

    def _sdk_token(self) -> dict[str, Any]:
        """What the SDK asks for before every call: an access token syncd has made valid.

        No refresh token and no expiry are handed over, so the SDK never tries to refresh
        (and lose the rotated refresh token) on its own.
        """
        return {
            "access_token": self.tokens.access_token(),
            "refresh_token": None,
            "scope": [],
            "expires_in": None,
            "expires_at": None,
            "token_type": "Bearer",
        }

    def _sdk_refreshed(self, token: Mapping[str, Any]) -> None:
        raise ConnectorError("xero-python tried to refresh a token; syncd owns refreshing")

    def _call(self, fn: Callable[[], _T]) -> _T:
        """Run one SDK call with a token refresh on 401 and bounded, jittered retries."""

        def retryable(exc: BaseException) -> bool:
            # A spent day allowance is not waited out inside a call: the org stops instead.
            return isinstance(exc, TransientError) and not isinstance(exc, DayLimitReached)

        return call_with_retries(
            fn,
            provider="Xero",
            refresh=lambda: self.tokens.after_unauthorized(self.transport.last_token),
            sleep=self.sleep,
            max_attempts=self.max_attempts,
            retryable=retryable,
        )

    def _json(self, fn: Callable[[], Any]) -> dict[str, Any]:
        """An SDK call whose body is read by syncd (parsed inside the retry: Xero sometimes
        cuts a body short)."""

        def call() -> dict[str, Any]:
            body = raw_response(fn()).json()
            if not isinstance(body, dict):
                raise TransientError("Xero answered with something other than a JSON object")
            return body

        return self._call(call)

    def _body(self, fn: Callable[[], Any], collection: str) -> wire.Body:
        """A list call read once (:mod:`.wire`), parsed inside the retry like :meth:`_json`."""
        return self._call(lambda: wire.decode(raw_response(fn()).data, collection))

    def _send(self, fn: Callable[[], Any]) -> None:
        self._call(lambda: raw_response(fn()))

    # -- pulls -------------------------------------------------------------------------------

    def _list(self, stream: str, since: datetime | None, page: int) -> Listing:
        if stream in prepaid.STREAMS:
            return prepaid.list_rows(self, stream, since, page)
        kwargs: dict[str, Any] = {
            "order": ORDER,
            "page": page,
            "page_size": self.options.page_size,
            "_preload_content": False,
        }
        if since is not None:
            kwargs["if_modified_since"] = since
        tenant = self.tenant_id
        if stream == "contacts":
            kwargs["include_archived"] = True
            fetch: Callable[..., Any] = self.api.get_contacts
        elif stream == "invoices":
            kwargs["where"] = 'Type=="ACCREC"'
            # Explicit, so that voided and deleted invoices come back and leave the open set.
            kwargs["statuses"] = INVOICE_STATUSES
            fetch = self.api.get_invoices
        elif stream == "payments":
            kwargs["where"] = 'PaymentType=="ACCRECPAYMENT"'
            fetch = self.api.get_payments
        else:
            kwargs["where"] = 'Type=="ACCRECCREDIT"'
            fetch = self.api.get_credit_notes
        body = self._body(lambda: fetch(tenant, **kwargs), pages.COLLECTION[stream])
        return listing_of(body, page, self.options.page_size)

    def _page(self, stream: str, rows: Sequence[wire.Row], cursor: str | None) -> Page:
        return pages.build(stream, rows, cursor, self.options.home_currency)

    def backfill(self, entity: EntityKind, resume: str | None) -> Iterator[Page]:
        streams = pages.BACKFILL[entity]
        pos = Position.load(resume, streams[0], streams)
        for stream in streams[streams.index(pos.stream) :]:
            if stream != pos.stream:
                pos = Position(stream)
            while True:
                listing = paging.listing(self, stream, pos)
                if not listing.rows and pos.page != paging.WINDOW:
                    break
                following = paging.after(pos, listing.rows)
                page = self._page(stream, listing.rows, following.dump())
                last = listing.last_page
                # Neither is held here while the next page is read: the listing's Structs
                # are done with, and the page is the writer's.
                del listing
                yield page
                del page
                if last:
                    break
                pos = following

    def cursor_now(self) -> str:
        tenant = self.tenant_id
        body = self._json(
            lambda: self.api.get_invoices(
                tenant,
                if_modified_since=second(self._now()),
                where='Type=="ACCREC"',
                page=1,
                page_size=1,
                summary_only=True,
                _preload_content=False,
            )
        )
        now = server_time(body.get("DateTimeUTC")) or self._now()
        mark = second(now) - OVERLAP
        # Everything was just read in full: the slower streams are not due for a while.
        fresh = {incremental.SECONDARY_KEY: self._now()}
        return incremental.dump({**dict.fromkeys(pages.STREAMS, mark), **fresh})

    def changes(self, cursor: str) -> Iterator[Page]:
        return incremental.changes(self, cursor)

    def _invoice_raw(self, invoice_id: str) -> dict[str, Any] | None:
        tenant = self.tenant_id
        try:
            body = self._json(
                lambda: self.api.get_invoice(tenant, invoice_id, _preload_content=False)
            )
        except NotFound:
            return None
        rows = body.get("Invoices") or []
        return rows[0] if rows and isinstance(rows[0], dict) else None

    def _record(self, raw: Mapping[str, Any]) -> InvoiceRecord:
        try:
            return mapping.invoice(raw, self.options.home_currency)
        except mapping.MappingError as exc:
            raise PermanentError(f"invoice {raw.get('InvoiceID')}: {exc}") from None

    def fetch_invoice(self, provider_id: str) -> InvoiceRecord | None:
        tenant = self.tenant_id
        try:
            body = self._body(
                lambda: self.api.get_invoice(tenant, provider_id, _preload_content=False),
                "Invoices",
            )
        except NotFound:
            return None
        if not body.rows:
            return None
        row = body.rows[0]
        try:
            record = pages.record_of("invoices", row, self.options.home_currency)
        except mapping.MappingError as exc:
            raise PermanentError(f"invoice {row.field('InvoiceID')}: {exc}") from None
        return record if isinstance(record, InvoiceRecord) else None

    def fetch_records(self, entity: EntityKind, provider_ids: Sequence[str]) -> Page:
        return reads.fetch_records(self, entity, provider_ids)

    def company_info(self) -> CompanyInfo:
        return company.read_organisation(self).info

    def preflight(self) -> list[PreflightFinding]:
        return preflight.run(self)

    # -- actions -----------------------------------------------------------------------------

    def _write_note(self, invoice_id: str, details: str, key: str) -> None:
        notes.write_note(self, invoice_id, details, key)

    def add_note(self, invoice_id: str, text: str, *, idempotency_key: str) -> ActionResult:
        return notes.add_note(self, invoice_id, text, idempotency_key)

    # -- writes from the executor's confirming read (connectors.base.WritesFromRead) -------

    def writes_versioned(self, capability: str) -> bool:
        return False  # Xero has no optimistic lock: the caller confirms just before

    def add_note_seen(
        self, seen: InvoiceRecord, text: str, *, idempotency_key: str, attempt: int = 0
    ) -> ActionResult:
        # Only a first attempt cannot have written it already; any other looks for the tag.
        return notes.add_note(
            self, seen.provider_id, text, idempotency_key, look_first=attempt != 1
        )

    def add_charge_seen(
        self,
        seen: InvoiceRecord,
        charge: Charge,
        *,
        idempotency_key: str,
        attempt: int = 0,
    ) -> ActionResult:
        raw = writes.seen_raw(seen)
        if not mapping.is_sales_invoice(raw):
            raise PermanentError(f"sales invoice {seen.provider_id} does not exist at Xero")
        return fees.charge_on(self, raw, charge, idempotency_key, attempt == 1)

    def send_provider_email(
        self, invoice_id: str, *, to: str | None, idempotency_key: str
    ) -> ActionResult:
        return reminders.send_reminder(self, invoice_id, to, idempotency_key)

    def add_charge(self, invoice_id: str, charge: Charge, *, idempotency_key: str) -> ActionResult:
        raw = self._invoice_raw(invoice_id)
        if raw is None or not mapping.is_sales_invoice(raw):
            raise PermanentError(f"sales invoice {invoice_id} does not exist at Xero")
        return fees.charge_on(self, raw, charge, idempotency_key)

    def apply_credit(
        self, invoice_id: str, credit: Credit, *, idempotency_key: str
    ) -> ActionResult:
        account = self.options.settlement_account_code
        if not account:
            raise PermanentError(
                "set settlement_account_code in the org's options to close settlements in Xero"
            )
        return credits.apply_credit(self, invoice_id, credit, idempotency_key, account)

    def close(self) -> None:
        self.transport.close()
        self.tokens.close()


def raw_response(result: Any) -> RawResponse:
    if not isinstance(result, RawResponse):
        raise ConnectorError(f"unexpected xero-python result {type(result).__name__}")
    return result
