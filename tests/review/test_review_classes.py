"""Review classes come from the kinds' registry entries: a kind of the ``approval`` class is
held in every review mode, ``off`` included, unless the org lists it in ``review_exempt``;
the config refuses a ``review_exempt`` entry that is not such a kind."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from policies import PlannedAction
from policies.actions import step_key
from policies.kinds import registry
from policies.kinds.base import KindSpec, ReviewClass
from syncd.config import load_config
from syncd.config.loader import ConfigError
from syncd.review.hold import hold_reason

MODES = ("all", "fees-and-escalations", "first-contact", "off")


def _planned(kind: str, **fields: str) -> PlannedAction:
    return PlannedAction(
        kind=kind,
        key=step_key("o", "inv1", "s1", kind),
        org="o",
        customer_id="c1",
        invoice_id="inv1",
        invoice_number="1",
        policy="standard",
        step_id="s1",
        scheduled_for=datetime(2026, 11, 3, tzinfo=UTC),
        reason="why",
        **fields,  # type: ignore[arg-type]
    )


@pytest.fixture
def confirmation(monkeypatch: pytest.MonkeyPatch) -> str:
    """A kind that always needs approval, registered for this test only."""
    registry.load()
    spec = KindSpec(name="plan_confirmation", order=45, review_class=ReviewClass.APPROVAL)
    monkeypatch.setitem(registry._KINDS, spec.name, spec)
    return spec.name


@pytest.mark.parametrize("mode", MODES)
def test_an_approval_kind_is_held_in_every_mode_unless_exempt(confirmation: str, mode: str) -> None:
    action = _planned(confirmation)
    why = hold_reason(action, mode, contacted=True)
    assert why is not None and "always waits for approval" in why and "review_exempt" in why
    # a step's review = "never" does not release it: only the org's own exemption does
    never = _planned(confirmation, review_mode="never")
    assert hold_reason(never, mode, contacted=True) is not None
    exempt = hold_reason(action, mode, contacted=True, exempt=[confirmation])
    assert exempt == hold_reason(_planned("note"), mode, contacted=True)


@pytest.mark.parametrize("mode", MODES)
def test_the_call_kind_is_internal(mode: str) -> None:
    held = hold_reason(_planned("call"), mode, contacted=False)
    assert (held is not None) == (mode in ("all", "first-contact"))


def test_review_exempt_names_only_approval_kinds(tmp_path: Path) -> None:
    path = tmp_path / "syncd.toml"
    path.write_text(
        '[store]\nurl = "sqlite:///x.db"\n\n[[orgs]]\nname = "acme"\nconnector = "quickbooks"\n'
        'policy = "standard"\nreview_exempt = ["email"]\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert "review_exempt" in text and "'email' is not an action kind that always needs" in text
