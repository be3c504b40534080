"""Recording each customer's arm of an A/B policy experiment and handing it to the engine.

The engine stays pure: it reads the arm from ``CustomerSnapshot.experiments``. This module
looks the arms up in the store, and for a customer the experiment's rule now applies to
but who has no arm yet, computes it from the hash (``policies.experiments.assign_arm``).
Only the dunning cycle records new arms (with an audit entry); read-only commands
(``plan``, ``simulate``) use the same hash without writing, so they show what the cycle
will do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from policies import DunningInput
from policies.experiments import Arm, assign_arm
from policies.rules import rule_matches
from policies.schema import RuleConfig

from ..store.audit import record
from ..store.models import ExperimentAssignment


def experiment_rule(rules: Sequence[RuleConfig], item: DunningInput) -> RuleConfig | None:
    """The experiment the invoice is under: its first matching rule, if that has one."""
    for rule in rules:
        if rule_matches(rule, item.invoice, item.customer):
            return rule if rule.experiment is not None and rule.name else None
    return None


def recorded_arms(session: Session, org_id: int) -> dict[tuple[str, str], str]:
    rows = session.execute(
        select(
            ExperimentAssignment.experiment,
            ExperimentAssignment.customer_provider_id,
            ExperimentAssignment.arm,
        ).where(ExperimentAssignment.org_id == org_id)
    )
    return {(e, c): a for e, c, a in rows}


def with_arms(
    session: Session,
    *,
    org_name: str,
    org_id: int,
    rules: Sequence[RuleConfig],
    inputs: list[DunningInput],
    now: datetime,
    record_new: bool,
) -> list[DunningInput]:
    """``inputs`` with every customer's recorded arms; new arms recorded if ``record_new``."""
    if not any(r.experiment is not None for r in rules):
        return inputs
    arms = recorded_arms(session, org_id)
    for item in inputs:
        rule = experiment_rule(rules, item)
        if rule is None or rule.name is None or rule.experiment is None:
            continue
        key = (rule.name, item.customer.customer_id)
        if key in arms:
            continue
        exp = rule.experiment
        arm = assign_arm(exp.seed, org_name, item.customer.customer_id, exp.share)
        arms[key] = arm.value
        if record_new:
            _record(session, org_id, rule, item.customer.customer_id, arm, now)
    by_customer: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for (experiment, customer), arm_name in arms.items():
        by_customer[customer].append((experiment, arm_name))
    out: list[DunningInput] = []
    for item in inputs:
        mine = tuple(sorted(by_customer.get(item.customer.customer_id, ())))
        out.append(replace(item, customer=replace(item.customer, experiments=mine)))
    return out


def _record(
    session: Session, org_id: int, rule: RuleConfig, customer_id: str, arm: Arm, now: datetime
) -> None:
    assert rule.experiment is not None and rule.name is not None and rule.policy is not None
    exp = rule.experiment
    policy = exp.policy if arm is Arm.CANDIDATE else rule.policy
    session.add(
        ExperimentAssignment(
            org_id=org_id,
            experiment=rule.name,
            customer_provider_id=customer_id,
            arm=arm.value,
            policy=policy,
            seed=exp.seed,
            share=exp.share,
            assigned_at=now,
        )
    )
    record(
        session,
        at=now,
        event="experiment.assigned",
        org_id=org_id,
        subject_type="customer",
        subject_id=customer_id,
        experiment=rule.name,
        arm=arm.value,
        policy=policy,
        seed=exp.seed,
        share=str(exp.share),
    )
