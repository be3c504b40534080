"""Which policy applies to an invoice, or whether it is excluded from dunning.

Rules are tried in order and the first whose conditions all match wins; with no match
the org's default policy applies. Order-based first-match (like a firewall) is easy to
reason about in ``syncd policy explain`` and never needs tie-breaking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from policies.experiments import Arm
from policies.schema import RuleConfig
from policies.snapshot import CustomerSnapshot, InvoiceSnapshot


@dataclass(frozen=True, slots=True)
class PolicySelection:
    policy: str | None
    """None when excluded or when there is no default policy."""
    excluded: bool
    rule_index: int | None
    reason: str


def rule_label(rule: RuleConfig, index: int) -> str:
    return f"rule {rule.name!r}" if rule.name else f"rule #{index + 1}"


def rule_matches(rule: RuleConfig, invoice: InvoiceSnapshot, customer: CustomerSnapshot) -> bool:
    if rule.customer_ids is not None and invoice.customer_id not in rule.customer_ids:
        return False
    if rule.groups is not None and not (customer.groups & set(rule.groups)):
        return False
    if rule.currencies is not None and invoice.currency not in rule.currencies:
        return False
    if rule.balance_min is not None:
        low = rule.balance_min.for_currency(invoice.currency)
        if low is None or invoice.balance < low:
            return False
    if rule.balance_max is not None:
        high = rule.balance_max.for_currency(invoice.currency)
        if high is None or invoice.balance >= high:
            return False
    return True


def _experiment_selection(
    rule: RuleConfig, index: int, customer: CustomerSnapshot
) -> PolicySelection:
    assert rule.experiment is not None and rule.name is not None
    arm = customer.arm(rule.name)
    label = rule_label(rule, index)
    if arm == Arm.CANDIDATE:
        policy = rule.experiment.policy
        why = f"policy {policy!r} chosen by {label}: the customer is in experiment "
        return PolicySelection(policy, False, index, why + f"{rule.name!r}'s candidate arm")
    what = "control arm" if arm == Arm.CONTROL else "not assigned, so its rule's policy"
    why = f"policy {rule.policy!r} chosen by {label}: experiment {rule.name!r}, {what}"
    return PolicySelection(rule.policy, False, index, why)


def select_policy(
    rules: Sequence[RuleConfig],
    default_policy: str | None,
    invoice: InvoiceSnapshot,
    customer: CustomerSnapshot,
) -> PolicySelection:
    for i, rule in enumerate(rules):
        if rule_matches(rule, invoice, customer):
            label = rule_label(rule, i)
            if rule.exclude:
                return PolicySelection(None, True, i, f"excluded from dunning by {label}")
            if rule.experiment is not None and rule.name:
                return _experiment_selection(rule, i, customer)
            return PolicySelection(
                rule.policy, False, i, f"policy {rule.policy!r} chosen by {label}"
            )
    if default_policy is None:
        return PolicySelection(
            None, False, None, "no rule matched and the org has no default policy"
        )
    return PolicySelection(
        default_policy, False, None, f"the org's default policy {default_policy!r}"
    )
