"""Every HTTP call a connector makes reaches the metrics, counted per provider, endpoint and
answer: checked against the sandbox's own request log, with 429s injected by the sandbox."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from connectors.kit import ApiCall, add_observer, report_call
from syncd.metrics import Metrics
from tests.contract.conftest import PROVIDERS, make_world


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client import generate_latest

    text = generate_latest(metrics.registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith("syncd_") and s.name.endswith("_total")
    }


def by_code(
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float], endpoint: str
) -> Counter[int]:
    out: Counter[int] = Counter()
    for (name, labels), value in found.items():
        label = dict(labels)
        if name == "syncd_api_calls_total" and label["endpoint"] == endpoint:
            out[int(label["code"])] += int(value)
    return out


@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_call_and_each_429_is_counted(tmp_path: Path, provider: str) -> None:
    url = f"sqlite:///{tmp_path / 'syncd.db'}"
    for world in make_world(tmp_path, url, provider, "kind", invoices=30):
        metrics = Metrics()
        stop = metrics.watch_calls()
        try:
            connector = world.connector()
            invoice = world.adapter.deletable_invoice()
            assert connector.fetch_invoice(invoice) is not None
            world.adapter.fault("429", count=2, retry_after=1)
            assert connector.fetch_invoice(invoice) is not None
            connector.close()
        finally:
            stop()
        statuses = world.adapter.statuses()
        found = samples(metrics)
        assert statuses.count(429) == 2
        assert by_code(found, "api") == Counter(statuses)
        throttled = ("syncd_api_rate_limited_total", (("endpoint", "api"), ("provider", provider)))
        assert found[throttled] == 2
        assert by_code(found, "token") == Counter({200: 1}), "one refresh for a new connection"
        assert all(dict(labels)["provider"] == provider for _, labels in found)


def test_a_broken_observer_does_not_break_the_call_and_can_be_removed() -> None:
    seen: list[ApiCall] = []

    def broken(call: ApiCall) -> None:
        raise RuntimeError("counter down")

    remove_broken, remove_seen = add_observer(broken), add_observer(seen.append)
    try:
        report_call("quickbooks", 503)  # must not raise
    finally:
        remove_broken()
    report_call("xero", None, endpoint="token")
    remove_seen()
    report_call("xero", 200)
    assert seen == [ApiCall("quickbooks", "api", 503), ApiCall("xero", "token", None)]
