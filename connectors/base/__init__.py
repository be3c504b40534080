"""The connector protocol and the normalised records that cross it.

Everything syncd knows about an accounting system passes through this package, so a third
party can add a provider by implementing :class:`Connector` and :class:`ConnectorFactory`
against ``connectors.base`` alone and registering the factory under the ``syncd.connectors``
entry point group. Nothing here imports syncd's store, config or policy engine: records are
plain frozen dataclasses with ``Decimal`` money, ISO currency codes and timezone-aware UTC
times. Import from the package, not its modules: the modules are how it is kept, the names
below are what it offers.
"""

from connectors.base.actions import (
    ActionResult,
    Charge,
    CompanyInfo,
    Credit,
    FindingSeverity,
    LateFee,
    PreflightFinding,
)
from connectors.base.errors import (
    AuthError,
    ConnectorError,
    CursorExpiredError,
    PermanentError,
    StaleWriteError,
    TransientError,
)
from connectors.base.oauth import (
    OAuthApp,
    OAuthEndpoints,
    OAuthTokens,
    Tenant,
    TokenState,
    TokenStore,
)
from connectors.base.protocol import (
    ENTRY_POINT_GROUP,
    Connector,
    ConnectorFactory,
    OrgConnection,
    WritesFromRead,
)
from connectors.base.records import (
    Allocation,
    CustomerRecord,
    Deletion,
    EntityKind,
    InvoiceLine,
    InvoiceRecord,
    InvoiceStatus,
    Page,
    PaymentKind,
    PaymentRecord,
    SkippedRecord,
)
from connectors.base.urls import is_loopback, require_secure

__all__ = [
    "ENTRY_POINT_GROUP",
    "ActionResult",
    "Allocation",
    "AuthError",
    "Charge",
    "CompanyInfo",
    "Connector",
    "ConnectorError",
    "ConnectorFactory",
    "Credit",
    "CursorExpiredError",
    "CustomerRecord",
    "Deletion",
    "EntityKind",
    "FindingSeverity",
    "InvoiceLine",
    "InvoiceRecord",
    "InvoiceStatus",
    "LateFee",
    "OAuthApp",
    "OAuthEndpoints",
    "OAuthTokens",
    "OrgConnection",
    "Page",
    "PaymentKind",
    "PaymentRecord",
    "PermanentError",
    "PreflightFinding",
    "SkippedRecord",
    "StaleWriteError",
    "Tenant",
    "TokenState",
    "TokenStore",
    "TransientError",
    "WritesFromRead",
    "is_loopback",
    "require_secure",
]
