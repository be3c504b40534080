"""A/B experiments on the pure side: config validation, stable hash assignment, and the
policy the engine chooses from the arm syncd recorded."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from policies import (
    CustomerSnapshot,
    InvoiceSnapshot,
    InvoiceStatus,
    PolicyConfigError,
    preset_policies,
    validate_settings,
)
from policies.experiments import Arm, assign_arm, bucket
from policies.rules import select_policy

EXP = {"policy": "firm", "share": 0.5, "seed": "2026-q4"}


def settings(**rule: Any) -> Any:
    base = {"name": "late-payers", "groups": ["late"], "policy": "standard", "experiment": EXP}
    return validate_settings(
        {"rules": [{**base, **rule}]},
        policies={k: v for k, v in preset_policies().items() if v.interest is None},
    )


@pytest.mark.parametrize(
    ("rule", "path", "message"),
    [
        ({"experiment": {**EXP, "share": 1}}, "rules[0].experiment.share", "less than 1"),
        ({"experiment": {**EXP, "share": 0}}, "rules[0].experiment.share", "greater than 0"),
        ({"experiment": {**EXP, "seed": " "}}, "rules[0].experiment.seed", "blank"),
        ({"experiment": {**EXP, "policy": "nope"}}, "rules[0].experiment.policy", "'nope'"),
        ({"name": None}, "rules[0].name", "required when the rule has an experiment"),
        ({"experiment": {**EXP, "policy": "standard"}}, "rules[0].experiment.policy", "differ"),
        ({"experiment": {"policy": "firm", "share": 0.5}}, "rules[0].experiment.seed", "missing"),
    ],
)
def test_bad_experiment_config_names_the_key(rule: dict[str, Any], path: str, message: str) -> None:
    with pytest.raises(PolicyConfigError) as err:
        settings(**rule)
    assert any(i.path == path and message in i.message for i in err.value.issues), err.value


def test_assignment_is_deterministic_and_close_to_the_share() -> None:
    ids = [f"C{i}" for i in range(4000)]
    arms = [assign_arm("2026-q4", "acme", c, Decimal("0.3")) for c in ids]
    assert arms == [assign_arm("2026-q4", "acme", c, Decimal("0.3")) for c in ids]
    share = arms.count(Arm.CANDIDATE) / len(ids)
    assert 0.27 < share < 0.33  # binomial sd ~0.007
    other_seed = [assign_arm("2027-q1", "acme", c, Decimal("0.3")) for c in ids]
    assert other_seed != arms
    assert bucket("a", "bc", "d") != bucket("ab", "c", "d")


def test_the_engine_uses_the_recorded_arm() -> None:
    s = settings()
    inv = InvoiceSnapshot(
        invoice_id="1", number="1", customer_id="C1", currency="GBP", total=Decimal(10),
        balance=Decimal(10), issue_date=date(2026, 1, 1), due_date=date(2026, 2, 1),
        status=InvoiceStatus.OPEN,
    )  # fmt: skip

    def chosen(arms: tuple[tuple[str, str], ...]) -> tuple[str | None, str]:
        cust = CustomerSnapshot("C1", groups=frozenset({"late"}), experiments=arms)
        sel = select_policy(s.rules, "gentle", inv, cust)
        return sel.policy, sel.reason

    assert chosen((("late-payers", "candidate"),))[0] == "firm"
    assert "candidate arm" in chosen((("late-payers", "candidate"),))[1]
    assert chosen((("late-payers", "control"),))[0] == "standard"
    policy, why = chosen(())
    assert policy == "standard" and "not assigned" in why
