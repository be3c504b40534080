"""The HTML report opened in a real headless browser (Debian's chromium): every chart is
drawn by the inlined plotly.js, and the page asks nothing of the network."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from syncd.cli.app import app
from tests.reports.seeded import seeded_history

runner = CliRunner()
CHARTS = {"aging": "bars", "dso": "scatter", "paid": "scatter", "overdue": "bars"}


def chromium() -> str | None:
    return shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )


def browser_args(profile: Path) -> list[str]:
    return [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=10000",
    ]


def charts_drawn(dom: str) -> dict[str, list[str]]:
    """For each chart container, the plotly trace types drawn inside it (after JS ran)."""
    body = dom[dom.index("<body") :]
    marks = list(re.finditer(r'data-chart="(\w+)"', body))
    out: dict[str, list[str]] = {}
    for n, m in enumerate(marks):
        end = marks[n + 1].start() if n + 1 < len(marks) else len(body)
        part = body[m.start() : end]
        drawn = 'class="main-svg"' in part and (
            'class="point"' in part or 'class="js-line"' in part
        )
        out[m.group(1)] = re.findall(r'class="trace (\w+)', part) if drawn else []
    return out


@pytest.mark.skipif(chromium() is None, reason="no chromium here (CI installs Debian's)")
def test_every_chart_is_drawn_in_a_real_browser(tmp_path: Path) -> None:
    browser = chromium()
    assert browser is not None
    with seeded_history(tmp_path, f"sqlite:///{tmp_path / 'syncd.db'}", days=20) as world:
        now = world.clock.now()
        out = tmp_path / "report.html"
        result = runner.invoke(
            app,
            [
                *("--config", str(world.config.path), "--now", now.isoformat()),
                *("report", "html", "--out", str(out)),
                *("--from", (now - timedelta(days=200)).date().isoformat()),
            ],
        )
        assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    # Self-contained: no script, style or image fetched from anywhere.
    assert not re.search(r"<(script|img|iframe)[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=", html)
    # Before the browser runs the page, no chart exists yet: the drawing below is the JS's.
    assert all(not v for v in charts_drawn(html).values())
    dom = subprocess.run(
        [browser, *browser_args(tmp_path / "profile"), "--dump-dom", out.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    drawn = charts_drawn(dom)
    assert set(drawn) == set(CHARTS)
    for chart, kind in CHARTS.items():
        assert kind in drawn[chart], (chart, drawn[chart])
    assert "A/B experiments" in dom and "No policy experiments are recorded" in dom
