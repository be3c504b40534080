"""``config.example.toml`` documents every payment-plan setting beside its plan section, and
the loader accepts what it shows (``tests/config`` checks the whole file)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from policies.plans import PaymentPlanSettings
from syncd.plans.follow import QUIET_AFTER_CONFIRMATION

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def _plan_section() -> str:
    """The comment block above ``[policies.firm.payment_plan]`` and the table itself."""
    text = EXAMPLE.read_text(encoding="utf-8")
    end = text.index("[[policies.firm.steps]]")
    start = text.rindex("\n\n", 0, text.index("# Payment plans"))
    return text[start:end]


def test_every_plan_setting_is_documented_in_the_example() -> None:
    section = _plan_section()
    for name in PaymentPlanSettings.model_fields:
        assert name in section, f"{name} is not documented in config.example.toml"
    quiet = f"{int(QUIET_AFTER_CONFIRMATION.total_seconds() // 3600)} hours"
    for rule in ("coming up", "due today", "not yet received", quiet, "already due"):
        assert rule in section, rule


def test_the_examples_plan_table_is_valid() -> None:
    table = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))["policies"]["firm"]
    settings = PaymentPlanSettings.model_validate(table["payment_plan"])
    assert settings.grace_days >= (settings.after_miss_days or 0)
