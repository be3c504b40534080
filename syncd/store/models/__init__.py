"""The store's tables as SQLAlchemy 2 typed models, one module per responsibility.

``base`` (the declarative base and naming convention), ``orgs`` (connected organisations,
their tokens and leases), ``books`` (the provider's records as synced), ``dunning`` (state,
holds, the outbox, the audit log, experiments) and ``agreements`` (payment plans,
settlements, call tasks). The ladder's later rungs keep their tables in ``syncd.store.ladder``.
Every name is re-exported here: ``from syncd.store.models import Invoice`` is the way in.
"""

from __future__ import annotations

from .agreements import CallTask, PaymentPlan, PaymentPlanInstalment, PaymentPlanInvoice, Settlement
from .base import NAMING, Base
from .books import (
    Customer,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentAllocation,
    SkippedRecordRow,
    SyncCursor,
)
from .dunning import (
    AuditEntry,
    DunningState,
    ExperimentAssignment,
    Hold,
    HoldKind,
    OutboxAction,
    OutboxStatus,
)
from .orgs import Org, OrgLease

__all__ = [
    "NAMING",
    "AuditEntry",
    "Base",
    "CallTask",
    "Customer",
    "DunningState",
    "ExperimentAssignment",
    "Hold",
    "HoldKind",
    "Invoice",
    "InvoiceLine",
    "Org",
    "OrgLease",
    "OutboxAction",
    "OutboxStatus",
    "Payment",
    "PaymentAllocation",
    "PaymentPlan",
    "PaymentPlanInstalment",
    "PaymentPlanInvoice",
    "Settlement",
    "SkippedRecordRow",
    "SyncCursor",
]
