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

import hashlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
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
    CustomerRecord,
    Deletion,
    EntityKind,
    InvoiceRecord,
    OrgConnection,
    Page,
    PaymentRecord,
    PermanentError,
    PreflightFinding,
    SkippedRecord,
    TransientError,
)
from connectors.kit import call_with_retries, decode_cursor, encode_cursor

from . import (
    company,
    credits,
    incremental,
    mapping,
    once,
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
from .settings import XeroCredentials, XeroOptions
from .transport import NotFound, RawResponse, Rejected, XeroTransport

XERO_API = "https://api.xero.com/api.xro/2.0"
#: Re-read this much before the newest change seen: If-Modified-Since is strictly-after,
#: two changes can share a second, and Xero may commit a change a little after stamping it.
OVERLAP = timedelta(seconds=60)
#: Xero's limit on a history note's ``Details``.
HISTORY_LIMIT = 250
IDEMPOTENCY_LIMIT = 128
ORDER = "UpdatedDateUTC ASC"
INVOICE_STATUSES = ["DRAFT", "SUBMITTED", "AUTHORISED", "PAID", "VOIDED", "DELETED"]
EDITABLE = ("DRAFT", "SUBMITTED", "AUTHORISED")
#: The fields of an existing line that are sent back unchanged when a fee line is added;
#: LineAmount and TaxAmount are derived by Xero and left out so they cannot contradict it.
KEPT_LINE_FIELDS = (
    "LineItemID",
    "Description",
    "Quantity",
    "UnitAmount",
    "ItemCode",
    "AccountCode",
    "TaxType",
    "DiscountRate",
    "Tracking",
)
#: Xero's wording when an update is refused because of payments or the invoice's status.
REFUSED_EDIT = ("cannot be edited", "not of valid status for modification", "lock date")

_T = TypeVar("_T")
STREAMS = ("contacts", "invoices", "payments", "credit_notes", *prepaid.STREAMS)
_BACKFILL: dict[EntityKind, tuple[str, ...]] = {
    EntityKind.CUSTOMERS: ("contacts",),
    EntityKind.INVOICES: ("invoices",),
    EntityKind.PAYMENTS: ("payments", "credit_notes", *prepaid.STREAMS),
}
_KIND = {
    "contacts": EntityKind.CUSTOMERS,
    "invoices": EntityKind.INVOICES,
    "payments": EntityKind.PAYMENTS,
    "credit_notes": EntityKind.PAYMENTS,
    **dict.fromkeys(prepaid.STREAMS, EntityKind.PAYMENTS),
}
_COLLECTION = {
    "contacts": "Contacts",
    "invoices": "Invoices",
    "payments": "Payments",
    "credit_notes": "CreditNotes",
    **prepaid.COLLECTION,
}
_ID_FIELD = {
    "contacts": "ContactID",
    "invoices": "InvoiceID",
    "payments": "PaymentID",
    "credit_notes": "CreditNoteID",
    **prepaid.ID_FIELD,
}


def header_key(key: str) -> str:
    """Xero takes keys of at most 128 characters; longer or non-ASCII keys are hashed."""
    if len(key) <= IDEMPOTENCY_LIMIT and key.isascii() and key.isprintable():
        return key
    return "syncd-" + hashlib.sha256(key.encode()).hexdigest()


def _second(ts: datetime) -> datetime:
    return ts.replace(microsecond=0)


def _fmt(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="milliseconds")


def _parse_cursor_time(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError("cursor time without offset")
    return parsed.astimezone(UTC)


@dataclass(frozen=True)
class Position:
    """Where a keyset pull of one stream stands: records modified after ``since``, page N."""

    stream: str
    since: datetime | None = None
    page: int = 1

    def dump(self) -> str:
        since = _fmt(self.since) if self.since else None
        return encode_cursor({"stream": self.stream, "since": since, "page": self.page})

    @classmethod
    def load(cls, text: str | None, first: str, allowed: tuple[str, ...]) -> Position:
        """An unreadable cursor restarts the stream (logged by the kit): never a crash."""

        def parse(data: dict[str, Any]) -> Position:
            stream, page = str(data["stream"]), int(data.get("page", 1))
            if stream not in allowed or page < 1:
                raise ValueError(f"no stream {stream!r} at page {page}")
            return cls(stream, _parse_cursor_time(data.get("since")), page)

        return decode_cursor(text, parse, provider="Xero") or cls(first)

    def after(self, rows: Sequence[Mapping[str, Any]]) -> Position:
        """The position that resumes after ``rows`` (a full page, in UpdatedDateUTC order)."""
        newest = _newest(rows)
        if newest is not None:
            candidate = _second(newest) - timedelta(seconds=1)
            if self.since is None or candidate > self.since:
                return Position(self.stream, candidate, 1)
        # The whole page shares the boundary second (or has no usable stamp): page on.
        return Position(self.stream, self.since, self.page + 1)


def _newest(rows: Sequence[Mapping[str, Any]]) -> datetime | None:
    stamps: list[datetime] = []
    for row in rows:
        try:
            stamps.append(mapping.parse_datetime(row.get("UpdatedDateUTC")))
        except mapping.MappingError:
            continue
    return max(stamps) if stamps else None


@dataclass(frozen=True)
class Listing:
    rows: list[dict[str, Any]]
    last_page: bool
    server_time: datetime | None
    #: Each row's JSON text as received (``texts[i]`` is ``rows[i]``), when it was kept.
    texts: Sequence[str] | None = None


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
            body = _raw(fn()).json()
            if not isinstance(body, dict):
                raise TransientError("Xero answered with something other than a JSON object")
            return body

        return self._call(call)

    def _body(self, fn: Callable[[], Any], collection: str) -> wire.Body:
        """A list call read once (:mod:`.wire`), parsed inside the retry like :meth:`_json`."""
        return self._call(lambda: wire.decode(_raw(fn()).data, collection))

    def _send(self, fn: Callable[[], Any]) -> None:
        self._call(lambda: _raw(fn()))

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
        body = self._body(lambda: fetch(tenant, **kwargs), _COLLECTION[stream])
        return listing_of(body, page, self.options.page_size)

    def _page(
        self,
        stream: str,
        rows: list[dict[str, Any]],
        cursor: str | None,
        texts: Sequence[str] | None = None,
    ) -> Page:
        customers: list[CustomerRecord] = []
        invoices: list[InvoiceRecord] = []
        payments: list[PaymentRecord] = []
        deletions: list[Deletion] = []
        skipped: list[SkippedRecord] = []
        home = self.options.home_currency
        for index, raw in enumerate(rows):
            text = texts[index] if texts is not None else None
            try:
                if stream == "contacts":
                    customers.append(mapping.customer(raw, text))
                    continue
                if stream == "invoices":
                    if mapping.is_sales_invoice(raw):
                        invoices.append(mapping.invoice(raw, home, text))
                    continue
                if stream in prepaid.MAPPERS:
                    record = prepaid.MAPPERS[stream](raw, home, text)
                elif stream == "payments":
                    record = mapping.payment(raw, home, text)
                else:
                    record = mapping.credit_note(raw, home, text)
            except mapping.MappingError as exc:
                raw_id = raw.get(_ID_FIELD[stream])
                skipped.append(
                    SkippedRecord(
                        _KIND[stream], str(raw_id) if raw_id else None, f"{stream}: {exc}", raw
                    )
                )
                continue
            if isinstance(record, Deletion):
                deletions.append(record)
            elif record is not None:
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
        streams = _BACKFILL[entity]
        pos = Position.load(resume, streams[0], streams)
        for stream in streams[streams.index(pos.stream) :]:
            if stream != pos.stream:
                pos = Position(stream)
            while True:
                listing = paging.listing(self, stream, pos)
                if not listing.rows and pos.page != paging.WINDOW:
                    break
                following = paging.after(pos, listing.rows)
                yield self._page(stream, listing.rows, following.dump(), listing.texts)
                if listing.last_page:
                    break
                pos = following

    def cursor_now(self) -> str:
        tenant = self.tenant_id
        body = self._json(
            lambda: self.api.get_invoices(
                tenant,
                if_modified_since=_second(self._now()),
                where='Type=="ACCREC"',
                page=1,
                page_size=1,
                summary_only=True,
                _preload_content=False,
            )
        )
        now = _server_time(body) or self._now()
        mark = _second(now) - OVERLAP
        # Everything was just read in full: the slower streams are not due for a while.
        fresh = {incremental.SECONDARY_KEY: self._now()}
        return incremental.dump({**dict.fromkeys(STREAMS, mark), **fresh})

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
        raw = self._invoice_raw(provider_id)
        if raw is None or not mapping.is_sales_invoice(raw):
            return None
        return self._record(raw)

    def fetch_records(self, entity: EntityKind, provider_ids: Sequence[str]) -> Page:
        return reads.fetch_records(self, entity, provider_ids)

    def company_info(self) -> CompanyInfo:
        return company.read_organisation(self).info

    def preflight(self) -> list[PreflightFinding]:
        return preflight.run(self)

    # -- actions -----------------------------------------------------------------------------

    def _history(self, invoice_id: str) -> list[str]:
        tenant = self.tenant_id
        try:
            body = self._json(
                lambda: self.api.get_invoice_history(tenant, invoice_id, _preload_content=False)
            )
        except NotFound:
            raise PermanentError(f"invoice {invoice_id} does not exist at Xero") from None
        return [
            str(r.get("Details") or "")
            for r in body.get("HistoryRecords") or []
            if isinstance(r, dict)
        ]

    def _write_note(self, invoice_id: str, details: str, key: str) -> None:
        tenant = self.tenant_id
        body = {"HistoryRecords": [{"Details": details}]}
        once.write_once(
            self,
            lambda: _raw(
                self.api.create_invoice_history(
                    tenant,
                    invoice_id,
                    body,
                    idempotency_key=header_key(key),
                    _preload_content=False,
                )
            ),
            lambda: details in self._history(invoice_id),
            what=f"history note on invoice {invoice_id}",
        )

    def add_note(self, invoice_id: str, text: str, *, idempotency_key: str) -> ActionResult:
        tag = mapping.tag(idempotency_key)
        if any(tag in details for details in self._history(invoice_id)):
            return ActionResult(remote_id=invoice_id, detail="already applied")
        details = fit_note(tag, text)
        self._write_note(invoice_id, details, idempotency_key)
        return ActionResult(remote_id=invoice_id, detail=details)

    # -- writes from the executor's confirming read (connectors.base.WritesFromRead) -------

    def writes_versioned(self, capability: str) -> bool:
        return False  # Xero has no optimistic lock: the caller confirms just before

    def add_note_seen(
        self, seen: InvoiceRecord, text: str, *, idempotency_key: str, attempt: int = 0
    ) -> ActionResult:
        if attempt != 1:  # an earlier attempt may have written it: look for the tag
            return self.add_note(seen.provider_id, text, idempotency_key=idempotency_key)
        details = fit_note(mapping.tag(idempotency_key), text)
        self._write_note(seen.provider_id, details, idempotency_key)
        return ActionResult(remote_id=seen.provider_id, detail=details)

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
        return self._charge_on(raw, charge, idempotency_key, attempt == 1)

    def send_provider_email(
        self, invoice_id: str, *, to: str | None, idempotency_key: str
    ) -> ActionResult:
        return reminders.send_reminder(self, invoice_id, to, idempotency_key)

    def _fee_line(self, fee: Charge, key: str, reference: str = "") -> dict[str, Any]:
        opts = self.options
        if not opts.late_fee_account_code and not opts.late_fee_item_code:
            raise PermanentError(
                "set late_fee_account_code (or late_fee_item_code) in the org's options to "
                "charge late fees in Xero"
            )
        description = f"{fee.description}{reference} {mapping.tag(key)}"
        line: dict[str, Any] = {
            "Description": description,
            "Quantity": Decimal(1),
            "UnitAmount": fee.amount,
            "TaxType": opts.late_fee_tax_type,
        }
        if opts.late_fee_account_code:
            line["AccountCode"] = opts.late_fee_account_code
        if opts.late_fee_item_code:
            line["ItemCode"] = opts.late_fee_item_code
        return line

    def add_charge(self, invoice_id: str, charge: Charge, *, idempotency_key: str) -> ActionResult:
        raw = self._invoice_raw(invoice_id)
        if raw is None or not mapping.is_sales_invoice(raw):
            raise PermanentError(f"sales invoice {invoice_id} does not exist at Xero")
        return self._charge_on(raw, charge, idempotency_key)

    def _charge_on(
        self, raw: dict[str, Any], charge: Charge, idempotency_key: str, first: bool = False
    ) -> ActionResult:
        invoice_id = str(raw["InvoiceID"])
        if self.options.late_fee_mode == "invoice":
            return self._fee_invoice(raw, charge, idempotency_key, first=first)
        record = self._record(raw)
        key_tag = mapping.tag_key(idempotency_key)
        applied = next((ln for ln in record.lines if ln.fee_key == key_tag), None)
        if applied is not None:
            return ActionResult(
                remote_id=applied.provider_line_id, detail="already applied", invoice=record
            )
        if record.currency != charge.currency:
            raise PermanentError(
                f"a fee in {charge.currency} cannot go on an invoice in {record.currency}"
            )
        reason = not_editable(raw)
        if reason is not None:
            return self._fee_invoice(raw, charge, idempotency_key, because=reason, first=first)
        kept = [
            {k: line[k] for k in KEPT_LINE_FIELDS if line.get(k) is not None}
            for line in raw.get("LineItems") or []
            if isinstance(line, dict)
        ]
        body = {
            "Invoices": [
                {
                    "InvoiceID": raw["InvoiceID"],
                    "LineItems": [*kept, self._fee_line(charge, idempotency_key)],
                }
            ]
        }
        tenant = self.tenant_id
        payload = exact_numbers(body)
        try:
            updated = once.write_json_once(
                self,
                lambda: self.api.update_invoice(
                    tenant,
                    invoice_id,
                    payload,
                    idempotency_key=header_key(idempotency_key),
                    _preload_content=False,
                ),
                lambda: self._fee_line_on(invoice_id, key_tag),
                what=f"fee line on invoice {invoice_id}",
            )
        except Rejected as exc:
            refused = " ".join(exc.messages).lower()
            if any(phrase in refused for phrase in REFUSED_EDIT):
                # A payment arrived between our read and our write: Xero no longer allows it.
                return self._fee_invoice(
                    raw, charge, idempotency_key, because=str(exc), first=first
                )
            raise
        if updated is None:  # the answer was lost, but the fee line is there
            updated = {"Invoices": [self._invoice_raw(invoice_id) or {}]}
        invoice = self._record((updated.get("Invoices") or [{}])[0])
        line = next((ln for ln in invoice.lines if ln.fee_key == key_tag), None)
        if line is None:
            raise PermanentError("Xero accepted the fee line but does not show it")
        return ActionResult(remote_id=line.provider_line_id, detail="fee line", invoice=invoice)

    def _fee_invoice(
        self,
        original: Mapping[str, Any],
        fee: Charge,
        key: str,
        because: str | None = None,
        *,
        first: bool = False,
    ) -> ActionResult:
        contact_id = (original.get("Contact") or {}).get("ContactID")
        if not contact_id:
            raise PermanentError("the invoice has no contact to charge a fee invoice to")
        number = str(original.get("InvoiceNumber") or original.get("InvoiceID")).replace('"', "'")
        reference = f"Late fee {number} {mapping.tag(key)}"
        # On a first attempt nothing can exist yet (a repeat is the Idempotency-Key's job).
        found = None if first else self._find_fee_invoice(str(contact_id), reference)
        if found is not None:
            return ActionResult(
                remote_id=found.provider_id, detail="already applied", invoice=found
            )
        today = self._now().date().isoformat()
        body = {
            "Invoices": [
                {
                    "Type": mapping.SALES_INVOICE,
                    "Contact": {"ContactID": contact_id},
                    "Date": today,
                    "DueDate": today,
                    "CurrencyCode": fee.currency,
                    "Status": "AUTHORISED",
                    "LineAmountTypes": "Exclusive",
                    "Reference": reference,
                    "LineItems": [self._fee_line(fee, key, f" (invoice {number})")],
                }
            ]
        }
        tenant = self.tenant_id
        payload = exact_numbers(body)
        created = once.write_json_once(
            self,
            lambda: self.api.create_invoices(
                tenant,
                payload,
                idempotency_key=header_key(f"{key}:fee-invoice"),
                _preload_content=False,
            ),
            lambda: self._find_fee_invoice(str(contact_id), reference) is not None,
            what=f"fee invoice for {number}",
        )
        if created is None:  # the answer was lost, but the fee invoice is there
            found = self._find_fee_invoice(str(contact_id), reference)
            assert found is not None
            return ActionResult(remote_id=found.provider_id, detail="fee invoice", invoice=found)
        invoice = self._record((created.get("Invoices") or [{}])[0])
        detail = f"fee invoice for {number}"
        if because:
            detail += f" (the invoice could not take a fee line: {because})"
        return ActionResult(remote_id=invoice.provider_id, detail=detail, invoice=invoice)

    def _fee_line_on(self, invoice_id: str, key_tag: str) -> bool:
        raw = self._invoice_raw(invoice_id)
        return raw is not None and any(ln.fee_key == key_tag for ln in self._record(raw).lines)

    def _find_fee_invoice(self, contact_id: str, reference: str) -> InvoiceRecord | None:
        tenant = self.tenant_id
        body = self._json(
            lambda: self.api.get_invoices(
                tenant,
                where=f'Type=="ACCREC" AND Reference=="{reference}"',
                contact_i_ds=[contact_id],
                page=1,
                _preload_content=False,
            )
        )
        for raw in body.get("Invoices") or []:
            if isinstance(raw, dict) and raw.get("Status") not in ("DELETED", "VOIDED"):
                return self._record(raw)
        return None

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


def _raw(result: Any) -> RawResponse:
    if not isinstance(result, RawResponse):
        raise ConnectorError(f"unexpected xero-python result {type(result).__name__}")
    return result


def listing_of(body: wire.Body, page: int, page_size: int) -> Listing:
    """A paged list response: last when Xero's ``pagination`` says so (else a short page)."""
    pagination = body.pagination
    if pagination is not None and pagination.get("pageCount") is not None:
        last = int(pagination.get("page", page)) >= int(pagination["pageCount"])
    else:
        last = len(body.rows) < page_size
    server_time = _server_time({"DateTimeUTC": body.server_time})
    return Listing(body.rows, last or not body.rows, server_time, body.texts)


def _server_time(body: Mapping[str, Any]) -> datetime | None:
    try:
        return mapping.parse_datetime(body.get("DateTimeUTC"), "DateTimeUTC")
    except mapping.MappingError:
        return None


def fit_note(tag: str, text: str, limit: int = HISTORY_LIMIT) -> str:
    """``[syncd:KEY] text`` on one line, cut to Xero's 250 characters with the tag intact."""
    note = f"{tag} {' '.join(text.split())}"
    if len(note) <= limit:
        return note
    if len(tag) + 2 > limit:
        raise PermanentError("the idempotency key is too long for a Xero history note")
    return note[: limit - 1] + "…"


def not_editable(raw: Mapping[str, Any]) -> str | None:
    """Why Xero would refuse to change this invoice's lines, or None if it allows it."""
    status = str(raw.get("Status") or "")
    if status not in EDITABLE:
        return f"it is {status}"
    for field in ("AmountPaid", "AmountCredited"):
        try:
            if mapping.money(raw, field, Decimal(0)) > 0:
                return "a payment or credit note is allocated to it"
        except mapping.MappingError:
            return f"its {field} is unreadable"
    for field in ("Prepayments", "Overpayments"):
        if raw.get(field):
            return "a prepayment or overpayment is allocated to it"
    return None


def exact_numbers(value: Any) -> Any:
    """Check every Decimal in a request body survives xero-python's serializer.

    The SDK turns Decimal into float before ``json.dumps``. A float's shortest repr gives back
    any amount with up to 15 significant digits exactly; anything else is refused rather than
    sent rounded.
    """
    if isinstance(value, dict):
        return {k: exact_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [exact_numbers(v) for v in value]
    if isinstance(value, Decimal) and Decimal(repr(float(value))) != value:
        raise PermanentError(f"{value} cannot be sent to Xero without rounding")
    return value
