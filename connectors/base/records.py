"""The connector protocol and the normalised records that cross it.

Everything syncd knows about an accounting system passes through this module, so a third
party can add a provider by implementing :class:`Connector` and :class:`ConnectorFactory`
against this file alone and registering the factory under the ``syncd.connectors`` entry
point group. Nothing here imports syncd's store, config or policy engine: records are plain
frozen dataclasses with ``Decimal`` money, ISO currency codes and timezone-aware UTC times.
"""

from __future__ import annotations

import enum
import ipaddress
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar, Protocol, runtime_checkable
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel

ENTRY_POINT_GROUP = "syncd.connectors"


class InvoiceStatus(enum.StrEnum):
    """Where an invoice stands. Only ``OPEN`` invoices are ever dunned."""

    DRAFT = "draft"
    OPEN = "open"
    PAID = "paid"
    VOIDED = "voided"
    DELETED = "deleted"


class PaymentKind(enum.StrEnum):
    """Anything that reduces an invoice's balance."""

    PAYMENT = "payment"
    CREDIT_NOTE = "credit_note"


class EntityKind(enum.StrEnum):
    """The entity streams a connector pulls; each has its own cursor in the store."""

    CUSTOMERS = "customers"
    INVOICES = "invoices"
    PAYMENTS = "payments"


def _require_utc(name: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")


def _require_decimal(name: str, value: object) -> None:
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, got {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    provider_id: str
    name: str
    email: str | None
    currency: str | None
    updated_at: datetime
    active: bool = True
    deleted: bool = False
    locale: str | None = None
    #: Customer groups, types or tags as the provider names them (Xero ContactGroups by
    #: name, QuickBooks CustomerTypeRef by name); policy rules match these.
    groups: tuple[str, ...] = ()
    #: ISO 3166-1 alpha-2 country of the billing address, where the provider has one.
    country: str | None = None
    #: True for a business, False for a consumer, None when the provider does not say
    #: (statutory interest applies only to business debts; the policy decides the default).
    is_business: bool | None = None
    phone: str | None = None
    #: Billing address lines, most specific first (for letters and case files).
    address: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)
    #: The record's JSON text exactly as the provider sent it, when the connector kept it
    #: (the fast read path): the store keeps these bytes instead of re-encoding ``raw``.
    raw_json: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        _require_utc("updated_at", self.updated_at)


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    provider_line_id: str | None
    description: str | None
    amount: Decimal
    item_ref: str | None = None
    #: The idempotency key of the syncd late fee that created this line, if any.
    fee_key: str | None = None

    def __post_init__(self) -> None:
        _require_decimal("amount", self.amount)


@dataclass(frozen=True, slots=True)
class InvoiceRecord:
    provider_id: str
    number: str | None
    customer_provider_id: str
    issue_date: date | None
    due_date: date | None
    currency: str
    total: Decimal
    balance: Decimal
    status: InvoiceStatus
    updated_at: datetime
    #: The provider's optimistic-lock token or change stamp
    #: (QuickBooks SyncToken, Xero UpdatedDateUTC).
    version: str | None = None
    lines: tuple[InvoiceLine, ...] = ()
    pay_url: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)
    #: The record's JSON text exactly as the provider sent it, when the connector kept it
    #: (the fast read path): the store keeps these bytes instead of re-encoding ``raw``.
    raw_json: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        _require_utc("updated_at", self.updated_at)
        _require_decimal("total", self.total)
        _require_decimal("balance", self.balance)


@dataclass(frozen=True, slots=True)
class Allocation:
    invoice_provider_id: str
    amount: Decimal

    def __post_init__(self) -> None:
        _require_decimal("amount", self.amount)


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    provider_id: str
    kind: PaymentKind
    customer_provider_id: str | None
    date: date | None
    currency: str
    amount: Decimal
    unapplied: Decimal
    updated_at: datetime
    allocations: tuple[Allocation, ...] = ()
    deleted: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)
    #: The record's JSON text exactly as the provider sent it, when the connector kept it
    #: (the fast read path): the store keeps these bytes instead of re-encoding ``raw``.
    raw_json: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        _require_utc("updated_at", self.updated_at)
        _require_decimal("amount", self.amount)
        _require_decimal("unapplied", self.unapplied)


@dataclass(frozen=True, slots=True)
class Deletion:
    """A record the provider says is gone; the store marks it deleted, never forgets it."""

    entity: EntityKind
    provider_id: str
    deleted_at: datetime
    kind: PaymentKind | None = None

    def __post_init__(self) -> None:
        _require_utc("deleted_at", self.deleted_at)


@dataclass(frozen=True, slots=True)
class SkippedRecord:
    """A provider record that could not be mapped; kept with its reason, never lost silently."""

    entity: EntityKind
    provider_id: str | None
    reason: str
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class Page:
    """One bounded unit of work that the store commits in a single transaction.

    ``cursor`` is what the caller must persist together with the page's rows: for a backfill
    it resumes the pull after this page, for an incremental pull it is the next change cursor.
    """

    customers: tuple[CustomerRecord, ...] = ()
    invoices: tuple[InvoiceRecord, ...] = ()
    payments: tuple[PaymentRecord, ...] = ()
    deletions: tuple[Deletion, ...] = ()
    skipped: tuple[SkippedRecord, ...] = ()
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class Charge:
    """A line of money added to the customer's invoice (late fee, interest, compensation)."""

    amount: Decimal
    currency: str
    description: str

    def __post_init__(self) -> None:
        _require_decimal("amount", self.amount)


LateFee = Charge
"""The name ``Charge`` had before the generic write capabilities; kept for callers."""


@dataclass(frozen=True, slots=True)
class Credit:
    """A credit note for ``amount`` applied to one invoice (a settlement's write-off).

    ``reference`` names why (the settlement) and appears on the provider's document;
    ``on`` is the credit's date in the business's calendar (the connector's "today" if None).
    """

    amount: Decimal
    currency: str
    reference: str
    on: date | None = None

    def __post_init__(self) -> None:
        _require_decimal("amount", self.amount)
        if self.amount <= 0:
            raise ValueError(f"a credit must be positive, got {self.amount}")


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What the provider did; ``remote_id`` names what was written (note, fee line, invoice)."""

    remote_id: str | None = None
    detail: str | None = None
    invoice: InvoiceRecord | None = None


@dataclass(frozen=True, slots=True)
class CompanyInfo:
    """The business syncd speaks for: its name signs every email and heads every letter."""

    name: str
    legal_name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: tuple[str, ...] = ()
    country: str | None = None
    base_currency: str | None = None


class FindingSeverity(enum.StrEnum):
    OK = "ok"
    WARNING = "warning"
    #: Something that would make an action fail at execution time.
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class PreflightFinding:
    """One pre-flight check a connector ran against the live provider (``syncd check``)."""

    check: str
    severity: FindingSeverity
    detail: str


class ConnectorError(Exception):
    """Base of provider errors. Messages must never contain secrets."""


class TransientError(ConnectorError):
    """Worth retrying later: timeouts, 5xx, throttling."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(ConnectorError):
    """Retrying the same request cannot succeed: validation, missing data, refused edits."""


class AuthError(ConnectorError):
    """The credentials are no longer valid; a human must reconnect the organisation."""


class CursorExpiredError(ConnectorError):
    """The change cursor is older than the provider can answer for; do a full pull instead."""


class StaleWriteError(PermanentError):
    """The invoice changed at the provider since the version the write was based on, and the
    provider refused the write (nothing was written). The caller reads the invoice again and
    decides again: retrying blindly with the new version would act on an unread change."""


@dataclass(slots=True)
class TokenState:
    access_token: str | None = None
    access_expires_at: datetime | None = None
    refresh_token: str | None = None
    refresh_expires_at: datetime | None = None


class TokenStore(Protocol):
    """Durable token storage owned by syncd; ``save`` must commit before it returns."""

    def load(self) -> TokenState: ...

    def save(self, state: TokenState) -> None: ...


@runtime_checkable
class Connector(Protocol):
    """One organisation in one accounting system."""

    def backfill(self, entity: EntityKind, resume: str | None) -> Iterator[Page]:
        """Pull every record of ``entity`` page by page, starting after ``resume``."""
        ...

    def cursor_now(self) -> str:
        """A change cursor meaning "now" by the provider's clock; taken before a backfill starts
        so that whatever changes during the backfill is picked up by the next incremental pull."""
        ...

    def changes(self, cursor: str) -> Iterator[Page]:
        """Pull what changed since ``cursor`` (all entities, deletions and voids included).

        Raises :class:`CursorExpiredError` when the provider cannot answer that far back.
        """
        ...

    def fetch_invoice(self, provider_id: str) -> InvoiceRecord | None:
        """Read one invoice fresh from the provider; ``None`` if it no longer exists."""
        ...

    def fetch_records(self, entity: EntityKind, provider_ids: Sequence[str]) -> Page:
        """Read the named records fresh in as few calls as the provider allows (batched
        fresh reads, webhook-triggered syncs). Ids the provider no longer has come back as
        :class:`Deletion` entries; the page's ``cursor`` is ``None``."""
        ...

    def company_info(self) -> CompanyInfo:
        """The connected business as the provider describes it."""
        ...

    def preflight(self) -> list[PreflightFinding]:
        """Check, without writing anything, that every write this connection is configured
        for would be accepted (late-fee item, account, tax code; reminder channel)."""
        ...

    # -- generic write capabilities ----------------------------------------------------
    # A small set of writes every action kind's executor handler composes from
    # (``syncd.outbox.handlers``); a new kind needs a new capability only if it writes
    # something new to the ledger. Each is idempotent under ``idempotency_key``: a repeat
    # with the same key answers as the first did and writes nothing twice.

    def add_note(self, invoice_id: str, text: str, *, idempotency_key: str) -> ActionResult:
        """Add a note to the invoice (history note / private note), tagged with the key."""
        ...

    def send_provider_email(
        self, invoice_id: str, *, to: str | None, idempotency_key: str
    ) -> ActionResult:
        """Ask the provider to email the invoice itself (to ``to``, or its own address)."""
        ...

    def add_charge(self, invoice_id: str, charge: Charge, *, idempotency_key: str) -> ActionResult:
        """Add a charge line to the invoice (or a separate fee invoice, per the options)."""
        ...

    def apply_credit(
        self, invoice_id: str, credit: Credit, *, idempotency_key: str
    ) -> ActionResult:
        """Issue a credit note for ``credit`` and apply it to the invoice, exactly once: a
        replay (same key) finds the tagged credit note and completes or returns it.
        ``remote_id`` is the credit note's id; ``invoice`` the invoice after it.
        Raises :class:`PermanentError` when the credit exceeds the amount due or its
        currency differs from the invoice's."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class WritesFromRead(Protocol):
    """Optional: writes built from an invoice the caller already read (``seen``, from a
    batched read) instead of a read of their own. Where the provider can tell (QuickBooks'
    SyncToken), a write is refused with :class:`StaleWriteError` if the invoice changed since
    ``seen`` was read: a payment changes the version, so the write itself proves the invoice
    was not paid after the read. Idempotent under the key, as the plain capabilities are."""

    def writes_versioned(self, capability: str) -> bool:
        """Whether ``capability`` ("note", "charge") is version-checked with this org's
        options; if not, ``seen`` must have been read just before (the caller's job)."""
        ...

    def add_note_seen(
        self, seen: InvoiceRecord, text: str, *, idempotency_key: str, attempt: int = 0
    ) -> ActionResult:
        """``attempt``: the caller's attempt number for this key (0: unknown). On attempt 1 no
        earlier attempt can have written anything, so a connector need not look for its tag in
        what ``seen`` does not show (Xero's history notes, a fee invoice) before writing; a
        later attempt is a new request (a provider may replay a refusal under an old id)."""
        ...

    def add_charge_seen(
        self,
        seen: InvoiceRecord,
        charge: Charge,
        *,
        idempotency_key: str,
        attempt: int = 0,
    ) -> ActionResult: ...


@dataclass(frozen=True, slots=True)
class OrgConnection:
    """What syncd hands a factory: the org's validated settings and where to keep tokens."""

    org_name: str
    credentials: BaseModel
    options: BaseModel
    base_url: str | None
    token_url: str | None
    tokens: TokenStore
    #: The only source of "now" a connector may use (token expiry, cursors).
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


class ConnectorFactory(Protocol):
    """Registered under the ``syncd.connectors`` entry point group by name."""

    name: ClassVar[str]
    #: Validates ``[orgs.credentials]``; secrets should be ``pydantic.SecretStr``.
    credentials_model: ClassVar[type[BaseModel]]
    #: Validates ``[orgs.options]`` (late-fee item, fee mode, page size ...).
    options_model: ClassVar[type[BaseModel]]

    def create(self, connection: OrgConnection) -> Connector: ...


# -- OAuth 2 with rotating refresh tokens, shared by connectors ---------------------------


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_secure(url: str) -> None:
    """Bearer tokens and client secrets travel only over HTTPS, except to a local sandbox."""
    if urlsplit(url).scheme != "https" and not is_loopback(url):
        raise ConnectorError(f"refusing to send credentials over plain HTTP to {url}")


class OAuthTokens:
    """One connection's tokens, refreshed by syncd itself; safe to share between threads.

    Providers rotate refresh tokens and the SDKs neither persist the rotated one nor refresh
    predictably, so the refresh is a plain form post to ``token_url`` and the rotated refresh
    token is saved through :class:`TokenStore` *before* the new access token is used. The
    stored token wins; the configured one is tried when a user reconnected the organisation
    and pasted a new token into the config. ``refresh_lifetime`` is the provider's documented
    refresh-token lifetime; without it the response's ``x_refresh_token_expires_in`` is used.
    """

    def __init__(
        self,
        *,
        provider: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        bootstrap_refresh_token: str,
        store: TokenStore,
        now: Callable[[], datetime],
        ca_bundle: str | None = None,
        margin: timedelta = timedelta(minutes=5),
        timeout: float = 60,
        refresh_lifetime: timedelta | None = None,
        on_answer: Callable[[int | None], None] | None = None,
    ) -> None:
        require_secure(token_url)
        self._provider = provider
        self._token_url = token_url
        self._client = (client_id, client_secret)
        self._bootstrap = bootstrap_refresh_token
        self._store = store
        self._now = now
        self._margin = margin
        self._timeout = timeout
        self._refresh_lifetime = refresh_lifetime
        #: Told the HTTP status of each token request (None: no answer), for call counting.
        self._on_answer = on_answer or (lambda _status: None)
        self._http = requests.Session()
        if ca_bundle:
            self._http.verify = ca_bundle
        self._lock = threading.Lock()
        self.refreshes = 0

    def access_token(self) -> str:
        with self._lock:
            state = self._store.load()
            if self._fresh(state):
                assert state.access_token is not None
                return state.access_token
            return self._refresh(state)

    def after_unauthorized(self, rejected: str | None) -> str:
        """Refresh once after a 401, unless another caller already replaced the token."""
        with self._lock:
            state = self._store.load()
            if state.access_token and state.access_token != rejected and self._fresh(state):
                return state.access_token
            return self._refresh(state)

    def _fresh(self, state: TokenState) -> bool:
        return bool(
            state.access_token
            and state.access_expires_at
            and state.access_expires_at - self._margin > self._now()
        )

    def _refresh(self, state: TokenState) -> str:
        candidates = [t for t in (state.refresh_token, self._bootstrap) if t]
        last_error: AuthError | None = None
        for refresh_token in dict.fromkeys(candidates):
            try:
                return self._exchange(refresh_token)
            except AuthError as exc:
                last_error = exc
        raise last_error or AuthError(
            "no refresh token; connect the organisation first (syncd connect)"
        )

    def redeem_code(self, code: str, *, redirect_uri: str, code_verifier: str | None) -> str:
        """Exchange an authorization code (``syncd connect``); the tokens are saved first."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if code_verifier:
            form["code_verifier"] = code_verifier
        with self._lock:
            return self._grant(form, None, "the authorization code", "sign in again")

    def _exchange(self, refresh_token: str) -> str:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        access = self._grant(form, refresh_token, "the token refresh", "reconnect the organisation")
        self.refreshes += 1
        return access

    def _grant(
        self, form: dict[str, str], refresh_token: str | None, what: str, remedy: str
    ) -> str:
        try:
            response = self._http.post(
                self._token_url,
                data=form,
                auth=self._client,  # HTTP Basic keeps the secret out of the form body
                headers={"Accept": "application/json"},
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            self._on_answer(None)
            raise TransientError(f"token endpoint unreachable: {type(exc).__name__}") from None
        self._on_answer(response.status_code)
        if response.status_code in (400, 401):
            error = _json_object(response).get("error", f"HTTP {response.status_code}")
            raise AuthError(f"{self._provider} refused {what} ({error}); {remedy}")
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientError(f"token endpoint answered HTTP {response.status_code}")
        if response.status_code != 200:
            raise AuthError(f"token endpoint answered HTTP {response.status_code}")
        body = _json_object(response)
        try:
            access, expires_in = str(body["access_token"]), int(body["expires_in"])
            rotated = str(body.get("refresh_token") or refresh_token or "")
        except (KeyError, TypeError, ValueError):
            raise TransientError("token endpoint answered without access_token") from None
        if not rotated:
            raise AuthError(
                f"{self._provider} issued no refresh token (is offline access granted?)"
            )
        now = self._now()
        lifetime = self._refresh_lifetime
        if lifetime is None and body.get("x_refresh_token_expires_in"):
            lifetime = timedelta(seconds=int(body["x_refresh_token_expires_in"]))
        # Saved before anyone uses the new access token: the old refresh token is now on its
        # way out, and the new one exists nowhere else.
        self._store.save(
            TokenState(
                access_token=access,
                access_expires_at=now + timedelta(seconds=expires_in),
                refresh_token=rotated,
                refresh_expires_at=now + lifetime if lifetime else None,
            )
        )
        return access

    def close(self) -> None:
        self._http.close()


# -- Connecting an organisation (``syncd connect`` / ``syncd disconnect``) ---------------


@dataclass(frozen=True, slots=True)
class OAuthEndpoints:
    """Where one provider's authorization-code flow happens: all at the real provider or all
    at one local sandbox, never a mix (a sandbox's code must never reach a real provider)."""

    authorize_url: str
    token_url: str
    revocation_url: str
    scope: str
    #: Send a PKCE (S256) challenge: only where the provider documents support for it.
    pkce: bool
    #: Where the organisations a grant reaches are listed (Xero); ``None``: the callback
    #: names the organisation (QuickBooks ``realmId``).
    connections_url: str | None = None


@dataclass(frozen=True, slots=True)
class Tenant:
    """An organisation a grant reaches."""

    id: str
    name: str
    #: The provider's id of the app's connection to it (Xero), used to disconnect.
    connection_id: str | None = None


class OAuthApp(Protocol):
    """The provider-specific half of connecting; a factory offers it as ``oauth_app``.

    Every network call raises :class:`ConnectorError` subclasses with messages fit for the
    user; none of them contains a token or secret.
    """

    #: The ``[orgs.credentials]`` key that names the organisation (``realm_id``, ``tenant_id``).
    tenant_key: str

    def endpoints(
        self, base_url: str | None, token_url: str | None, http: requests.Session
    ) -> OAuthEndpoints: ...

    def client(self, credentials: BaseModel) -> tuple[str, str]:
        """``(client_id, client_secret)`` from the validated ``[orgs.credentials]``."""
        ...

    def tenant_of(self, credentials: BaseModel) -> str | None: ...

    def tokens(
        self,
        endpoints: OAuthEndpoints,
        credentials: BaseModel,
        options: BaseModel,
        store: TokenStore,
        now: Callable[[], datetime],
    ) -> OAuthTokens: ...

    def tenants(
        self,
        endpoints: OAuthEndpoints,
        callback: Mapping[str, str],
        access_token: str,
        http: requests.Session,
    ) -> list[Tenant]: ...

    def revoke(
        self,
        endpoints: OAuthEndpoints,
        refresh_token: str,
        client: tuple[str, str],
        http: requests.Session,
    ) -> None: ...

    def disconnect(
        self,
        endpoints: OAuthEndpoints,
        tenant_id: str,
        access_token: str,
        http: requests.Session,
    ) -> None:
        """Remove the app's connection to the organisation where the provider has one."""
        ...


def _json_object(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
