"""syncd's dunning policy engine: pure decision code, state in, actions out.

Nothing here does I/O, reads the clock or imports the rest of syncd; ``today`` is an
argument. The public entry points are re-exported here; see ``README.md``.
"""

from policies.actions import (
    ACCOUNT_SUMMARY_TEMPLATE,
    ActionKind,
    EmailItem,
    IdempotencyKey,
    PlannedAction,
)
from policies.calendar import SendCalendar
from policies.engine import (
    Deferral,
    InvoiceDecision,
    OrgContext,
    Outcome,
    PlanResult,
    plan_cycle,
)
from policies.explain import explain_decision, explain_invoice, explain_policy
from policies.money import Money, round_money
from policies.pauses import dispute, pause, resume, with_holds
from policies.presets import preset_names
from policies.resolve import available_policies, preset_policies, resolve_policies
from policies.schema import (
    CalendarConfig,
    ConfigIssue,
    EscalationLevel,
    OnboardingConfig,
    PolicyConfig,
    PolicyConfigError,
    PolicySettings,
    RatesConfig,
    RuleConfig,
    cross_check,
    validate_settings,
)
from policies.simulate import SimulationResult, Totals, simulate
from policies.snapshot import (
    CustomerSnapshot,
    DunningInput,
    DunningState,
    FeeCharge,
    Hold,
    HoldKind,
    InterestClaim,
    InvoiceSnapshot,
    InvoiceStatus,
    Payment,
    StepOutcome,
    StepRecord,
)

__all__ = [
    "ACCOUNT_SUMMARY_TEMPLATE",
    "ActionKind",
    "CalendarConfig",
    "ConfigIssue",
    "CustomerSnapshot",
    "Deferral",
    "DunningInput",
    "DunningState",
    "EmailItem",
    "EscalationLevel",
    "FeeCharge",
    "Hold",
    "HoldKind",
    "IdempotencyKey",
    "InterestClaim",
    "InvoiceDecision",
    "InvoiceSnapshot",
    "InvoiceStatus",
    "Money",
    "OnboardingConfig",
    "OrgContext",
    "Outcome",
    "Payment",
    "PlanResult",
    "PlannedAction",
    "PolicyConfig",
    "PolicyConfigError",
    "PolicySettings",
    "RatesConfig",
    "RuleConfig",
    "SendCalendar",
    "SimulationResult",
    "StepOutcome",
    "StepRecord",
    "Totals",
    "available_policies",
    "cross_check",
    "dispute",
    "explain_decision",
    "explain_invoice",
    "explain_policy",
    "pause",
    "plan_cycle",
    "preset_names",
    "preset_policies",
    "resolve_policies",
    "resume",
    "round_money",
    "simulate",
    "validate_settings",
    "with_holds",
]
