"""Policy config validation: presets, key paths in errors, extends/override merging."""

from __future__ import annotations

import tomllib
from decimal import Decimal

import pytest

from policies import (
    PolicyConfig,
    PolicyConfigError,
    available_policies,
    cross_check,
    preset_names,
    preset_policies,
    resolve_policies,
    validate_settings,
)
from policies.schema import FeeKind, LateFeeAction


def issues(raw: dict[str, object]) -> list[tuple[str, str]]:
    with pytest.raises(PolicyConfigError) as exc:
        resolve_policies(raw)
    return exc.value.as_pairs()


def test_presets_ship_and_validate() -> None:
    assert set(preset_names()) == {"gentle", "standard", "firm", "uk-statutory"}
    presets = preset_policies()
    standard = presets["standard"]
    assert [(s.id, s.days) for s in standard.schedule()] == [
        ("heads-up", -3),
        ("reminder", 1),
        ("firm-reminder", 7),
        ("late-fee", 14),
        ("final-notice", 30),
    ]
    assert presets["uk-statutory"].interest is not None
    assert standard.fees["monthly"].kind is FeeKind.PERCENT_PER_PERIOD


def test_error_names_the_key_path() -> None:
    raw = tomllib.loads(
        """
        [standard]
        steps = [
          { days = -3, actions = [{ kind = "email", template = "a" }] },
          { days = 1, actions = [{ kind = "email", template = "b" }] },
          { days = "fourteen", actions = [{ kind = "email", template = "c" }] },
        ]
        """
    )
    with pytest.raises(PolicyConfigError) as exc:
        resolve_policies(raw)
    assert str(exc.value.issues[0]) == "policies.standard.steps[2].days: expected an integer"


def test_unknown_keys_and_bad_actions_are_reported_together() -> None:
    found = issues(
        {
            "p": {
                "grace_day": 3,
                "steps": [
                    {
                        "days": 1,
                        "actions": [
                            {"kind": "email"},
                            {"kind": "emial", "template": "x"},
                            {"template": "x"},
                        ],
                    }
                ],
            }
        }
    )
    paths = dict(found)
    assert paths["policies.p.grace_day"] == "unknown key"
    assert paths["policies.p.steps[0].actions[0].template"] == "required key is missing"
    assert paths["policies.p.steps[0].actions[1]"].startswith("unknown kind 'emial'")
    assert "kind" in paths["policies.p.steps[0].actions[2]"]


def test_semantic_errors_have_paths() -> None:
    found = dict(
        issues(
            {
                "p": {
                    "steps": [
                        {"id": "a", "days": 1, "actions": [{"kind": "late_fee", "fee": "nope"}]},
                        {"id": "a", "days": 2, "actions": [{"kind": "interest"}]},
                        {"days": 2, "actions": [{"kind": "note", "text": "x"}]},
                    ],
                }
            }
        )
    )
    assert found["policies.p.steps[0].actions[0].fee"] == "no fee rule named 'nope'"
    assert found["policies.p.steps[1].id"] == "duplicate step id 'a'"
    assert found["policies.p.steps[1].actions[0]"] == "needs an [interest] section"
    assert "already on day 2" in found["policies.p.steps[2].days"]


def test_fee_rule_fields_must_match_kind() -> None:
    found = dict(
        issues(
            {
                "p": {
                    "fees": {
                        "f": {"kind": "fixed", "percent": 2},
                        "g": {"kind": "percent", "percent": 2, "period": "week"},
                        "h": {"kind": "percent_per_period", "percent": 101},
                    }
                }
            }
        )
    )
    assert found["policies.p.fees.f.amount"] == "required for a fixed fee"
    assert "not allowed" in found["policies.p.fees.f.percent"]
    assert "percent_per_period" in found["policies.p.fees.g.period"]
    assert found["policies.p.fees.h.percent"].startswith("expected less than or equal to 100")


def test_fee_rule_started_twice_is_an_error() -> None:
    found = dict(
        issues(
            {
                "p": {
                    "steps": [
                        {"days": 1, "actions": [{"kind": "late_fee", "fee": "f"}]},
                        {"days": 9, "actions": [{"kind": "late_fee", "fee": "f"}]},
                    ],
                    "fees": {"f": {"kind": "fixed", "amount": "10"}},
                }
            }
        )
    )
    assert "already started" in found["policies.p.steps[1].actions[0].fee"]


def test_money_and_currency_validation() -> None:
    found = dict(
        issues(
            {
                "p": {
                    "steps": [{"days": 1, "actions": [{"kind": "late_fee", "fee": "f"}]}],
                    "fees": {"f": {"kind": "fixed", "amount": {"GPB": "10"}}},
                    "fee_cap": {"amount": "-5"},
                }
            }
        )
    )
    assert found["policies.p.fees.f.amount"] == "unknown currency code 'GPB'"
    assert found["policies.p.fee_cap.amount"] == "must not be negative"


def test_toml_floats_become_exact_decimals() -> None:
    raw = tomllib.loads(
        """
        [p]
        steps = [{ days = 14, actions = [{ kind = "late_fee", fee = "m" }] }]
        fees.m = { kind = "percent_per_period", percent = 1.1, period = "month" }
        """
    )
    policy = resolve_policies(raw)["p"]
    assert policy.fees["m"].percent == Decimal("1.1")


def test_default_step_id_is_the_day_offset() -> None:
    policy = resolve_policies(
        {"p": {"steps": [{"days": -3, "actions": [{"kind": "email", "template": "x"}]}]}}
    )["p"]
    assert policy.steps[0].id == "day-3"


def test_extends_preset_and_override_by_step_id() -> None:
    raw = tomllib.loads(
        """
        [mine]
        extends = "standard"
        description = "standard, fee later and no heads-up"
        drop_steps = ["heads-up"]
        steps = [
          { id = "late-fee", days = 21 },
          { id = "courtesy-call", days = 45, actions = [{ kind = "note", text = "call them" }] },
        ]
        fees.monthly = { percent = "2" }
        fee_cap = { amount = { GBP = "50" } }
        """
    )
    mine = resolve_policies(raw)["mine"]
    assert [(s.id, s.days) for s in mine.schedule()] == [
        ("reminder", 1),
        ("firm-reminder", 7),
        ("late-fee", 21),
        ("final-notice", 30),
        ("courtesy-call", 45),
    ]
    late = mine.step("late-fee")
    assert late is not None and isinstance(late.actions[1], LateFeeAction)
    assert mine.fees["monthly"].percent == Decimal(2)
    assert mine.fees["monthly"].period == "month"  # inherited
    assert mine.fee_cap is not None and mine.fee_cap.percent_of_total == Decimal(10)
    assert mine.fee_cap.amount is not None and mine.fee_cap.amount.for_currency("GBP") == 50
    assert mine.extends is None


def test_extends_another_config_policy_and_shadowing_a_preset() -> None:
    raw = {
        "standard": {"extends": "standard", "group_emails": False},
        "strict": {"extends": "standard", "steps": [{"id": "reminder", "days": 2}]},
    }
    out = resolve_policies(raw)
    assert out["standard"].group_emails is False
    assert out["strict"].group_emails is False  # from the config's "standard"
    step = out["strict"].step("reminder")
    assert step is not None and step.days == 2


def test_extends_errors() -> None:
    found = dict(
        issues(
            {
                "a": {"extends": "b"},
                "b": {"extends": "a"},
                "c": {"extends": "nothing"},
                "d": {"drop_steps": ["x"]},
                "e": {"extends": "gentle", "steps": [{"id": "reminder", "days": "x"}]},
                "f": {"extends": "gentle", "steps": [{"id": "new", "days": 3}]},
            }
        )
    )
    assert any(p in found for p in ("policies.a.extends", "policies.b.extends"))
    assert "cycle" in next(v for k, v in found.items() if k.endswith(("a.extends", "b.extends")))
    assert found["policies.c.extends"].startswith("no policy or preset named 'nothing'")
    assert found["policies.d.drop_steps"] == "only allowed with extends"
    assert found["policies.e.steps[0].days"] == "expected an integer"
    assert found["policies.f.steps[0].actions"] == "required key is missing"


def test_settings_validation_and_cross_check() -> None:
    raw = tomllib.loads(
        """
        [calendar]
        send_days = ["mon", "tue", "wed", "thu", "fri"]
        send_from = 08:30:00
        send_until = "17:30"
        holiday_country = "GB"
        holiday_subdivision = "SCT"

        [[rules]]
        name = "vip"
        groups = ["vip"]
        policy = "gentle"

        [[rules]]
        currencies = ["USD"]
        exclude = true

        [[rules]]
        balance_min = { GBP = "10000" }
        policy = "missing"

        [rates]
        boe_base = [{ since = 2023-08-03, percent = "5.25" }]
        """
    )
    with pytest.raises(PolicyConfigError) as exc:
        validate_settings(raw, policies=available_policies({}), root="dunning")
    assert exc.value.as_pairs() == [("dunning.rules[2].policy", "no policy named 'missing'")]
    settings = validate_settings({k: v for k, v in raw.items() if k != "rules"})
    assert cross_check(settings, available_policies({})) == []


def test_settings_errors_have_paths() -> None:
    with pytest.raises(PolicyConfigError) as exc:
        validate_settings(
            {
                "calendar": {"send_days": ["mon", "funday"], "send_from": "18:00"},
                "rules": [{"policy": "a", "exclude": True}],
                "rates": {"boe_base": [{"since": "2024-01-01", "percent": "x"}]},
            },
            root="dunning",
        )
    found = dict(exc.value.as_pairs())
    assert "dunning.calendar.send_days[1]" in found
    assert "dunning.rules[0]" in found
    assert found["dunning.rates.boe_base[0].percent"].startswith("expected")


def test_uk_policy_without_rates_is_caught() -> None:
    settings = validate_settings({})
    problems = cross_check(settings, {"uk": preset_policies()["uk-statutory"]}, root="dunning")
    assert [p.path for p in problems] == ["dunning.rates.boe_base"]


def test_policy_config_is_frozen() -> None:
    policy = preset_policies()["standard"]
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen error type
        policy.group_emails = False  # type: ignore[misc]
    assert isinstance(policy, PolicyConfig)


def test_readme_examples_validate() -> None:
    import re
    from pathlib import Path

    import policies

    text = (Path(policies.__file__).parent / "README.md").read_text(encoding="utf-8")
    policy_block, settings_block = re.findall(r"```toml\n(.*?)```", text, re.S)[:2]
    resolved = resolve_policies(tomllib.loads(policy_block)["policies"])
    mine = resolved["standard-plus"]
    assert [s.id for s in mine.schedule()] == [
        "reminder",
        "firm-reminder",
        "late-fee",
        "call",
        "final-notice",
    ]
    settings = validate_settings(
        tomllib.loads(settings_block)["dunning"],
        policies=available_policies(resolved),
        root="dunning",
    )
    assert settings.calendar.holiday_subdivision == "ENG"


def test_holiday_country_and_subdivision_are_checked() -> None:
    for calendar, path, message in [
        ({"holiday_country": "QQ"}, "calendar.holiday_country", "unknown country 'QQ'"),
        (
            {"holiday_country": "GB", "holiday_subdivision": "XXX"},
            "calendar.holiday_subdivision",
            "GB has no subdivision 'XXX'",
        ),
        ({"holiday_subdivision": "ENG"}, "calendar.holiday_subdivision", "needs holiday_country"),
    ]:
        with pytest.raises(PolicyConfigError) as exc:
            validate_settings({"calendar": calendar})
        assert exc.value.as_pairs() == [(path, message)]
