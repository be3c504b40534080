"""``deploy/``: the container image (built and started where a docker engine runs), the
compose file's structure, the systemd unit (``systemd-analyze verify`` and its exposure
score where systemd-analyze exists), and the shipped config with a real ``syncd run``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from syncd.config import load_config
from tests.conftest import REPO
from tests.support.smtp import free_port

DEPLOY = REPO / "deploy"
VENV_SYNCD = Path(sys.executable).parent / "syncd"


def docker_engine() -> str | None:
    """Why docker tests cannot run here, or None when they can."""
    if shutil.which("docker") is None:
        return "no docker client on this machine"
    try:
        info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return "docker info timed out"
    if info.returncode != 0:
        return "a docker client but no reachable docker engine (docker info failed)"
    return None


def wait_healthy(url: str, timeout: float = 120) -> requests.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            reply = requests.get(url, timeout=5)
            if reply.status_code == 200:
                return reply
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline, f"{url} never answered 200"
        time.sleep(0.5)


# -- the shipped config ----------------------------------------------------------------------


def test_the_shipped_config_runs_the_daemon(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "SYNCD_CONFIG": str(DEPLOY / "syncd.toml"),
        "SYNCD_DATABASE_URL": f"sqlite:///{tmp_path / 'syncd.db'}",
        "SYNCD_METRICS_ADDRESS": f"127.0.0.1:{port}",
    }
    log = (tmp_path / "run.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "syncd", "--log-format", "json", "run"],
        stdout=log,
        stderr=log,
        env=env,
    )
    try:
        reply = wait_healthy(f"http://127.0.0.1:{port}/healthz")
        assert reply.json()["scheduler"] == "running"
        assert (
            "syncd_store_up 1.0" in requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        )
    finally:
        proc.terminate()
        proc.wait(60)
    assert proc.returncode == 0, (tmp_path / "run.log").read_text()
    assert (tmp_path / "syncd.db").exists(), "the store went where SYNCD_DATABASE_URL said"


def test_the_shipped_config_keeps_state_off_the_root_filesystem() -> None:
    config = load_config(DEPLOY / "syncd.toml", env={})
    assert config.store_url.startswith("sqlite:////var/lib/syncd/")
    assert config.settings.store.key_file.startswith("/var/lib/syncd/")
    assert config.settings.daemon.metrics_address == "0.0.0.0:9464"


# -- compose -----------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_compose_has_postgres_syncd_and_their_volumes() -> None:
    spec = compose()
    services, volumes = spec["services"], spec["volumes"]
    assert set(services) == {"postgres", "syncd"}
    used = {
        mount.split(":")[0]
        for service in services.values()
        for mount in service.get("volumes", [])
        if not mount.startswith((".", "/"))
    }
    assert used == set(volumes) == {"pgdata", "syncd-state"}, "every named volume declared"

    syncd = services["syncd"]
    assert syncd["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["postgres"]["healthcheck"]["test"]
    build = syncd["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    mounts = dict(m.split(":", 1) for m in syncd["volumes"])
    assert mounts["syncd-state"] == "/var/lib/syncd"
    assert (DEPLOY / "syncd.toml").samefile(DEPLOY / next(k for k in mounts if k.startswith(".")))
    assert syncd["read_only"] is True and "/tmp" in syncd["tmpfs"]
    assert syncd["cap_drop"] == ["ALL"]
    assert syncd["environment"]["SYNCD_DATABASE_URL"].startswith("postgresql://syncd:")
    assert "@postgres:5432/syncd" in syncd["environment"]["SYNCD_DATABASE_URL"]
    assert any(p.endswith(":9464") and p.startswith("127.0.0.1:") for p in syncd["ports"])


# -- Dockerfile --------------------------------------------------------------------------------


def instructions() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_the_image_runs_as_a_non_root_user_with_state_on_a_volume() -> None:
    steps = instructions()
    final = steps[max(i for i, (w, _) in enumerate(steps) if w == "FROM") :]
    users = [rest for word, rest in final if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert ("VOLUME", '["/var/lib/syncd"]') in final
    assert ("EXPOSE", "9464") in final
    assert any(w == "HEALTHCHECK" and "/healthz" in rest for w, rest in final)
    env = " ".join(rest for w, rest in final if w == "ENV")
    assert "SYNCD_CONFIG=/etc/syncd/syncd.toml" in env and "PYTHONDONTWRITEBYTECODE=1" in env
    for word, rest in steps:  # what the build copies from the repository exists
        if word == "COPY" and not rest.startswith("--from"):
            for source in rest.split()[:-1]:
                assert (REPO / source).exists(), source


@pytest.fixture
def image() -> Iterator[str]:
    reason = docker_engine()
    if reason is not None:
        pytest.skip(reason)
    tag = f"syncd-test:{uuid.uuid4().hex[:8]}"
    build = subprocess.run(
        ["docker", "build", "-f", str(DEPLOY / "Dockerfile"), "-t", tag, str(REPO)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert build.returncode == 0, build.stderr[-4000:]
    try:
        yield tag
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, timeout=120)


def test_the_container_starts_read_only_and_answers_healthz(image: str) -> None:
    uid = subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--entrypoint",
            "python",
            image,
            "-c",
            "import os; print(os.getuid())",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert uid.returncode == 0 and uid.stdout.strip() != "0", uid
    port, name = free_port(), f"syncd-test-{uuid.uuid4().hex[:8]}"
    volume = f"{name}-state"
    hardened = ["--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL"]
    mounts = ["-v", f"{volume}:/var/lib/syncd", "-p", f"127.0.0.1:{port}:9464"]
    run = subprocess.run(
        ["docker", "run", "-d", "--name", name, *hardened, *mounts, image],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    try:
        reply = wait_healthy(f"http://127.0.0.1:{port}/healthz")
        assert reply.json()["status"] == "ok"
        files = subprocess.run(
            ["docker", "exec", name, "ls", "/var/lib/syncd"], capture_output=True, text=True
        )
        assert "syncd.db" in files.stdout, "the SQLite store is on the volume"
        state = json.loads(
            subprocess.run(
                ["docker", "inspect", name], capture_output=True, text=True, check=True
            ).stdout
        )[0]["State"]
        assert state["Running"], state
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=120)
        subprocess.run(["docker", "volume", "rm", "-f", volume], capture_output=True, timeout=120)


# -- systemd -----------------------------------------------------------------------------------

needs_systemd_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here"
)


def unit_for_this_machine(tmp_path: Path) -> Path:
    """The unit with ExecStart pointed at this checkout's syncd: ``verify`` checks that the
    binary exists, and /opt/syncd is where the unit expects an installation, not a test."""
    text = (DEPLOY / "syncd.service").read_text(encoding="utf-8")
    assert "ExecStart=/opt/syncd/bin/syncd run" in text
    assert VENV_SYNCD.exists()
    path = tmp_path / "syncd.service"
    path.write_text(text.replace("/opt/syncd/bin/syncd", str(VENV_SYNCD)), encoding="utf-8")
    return path


@needs_systemd_analyze
def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit_for_this_machine(tmp_path))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


@needs_systemd_analyze
def test_the_unit_is_hardened(tmp_path: Path) -> None:
    settings = {
        key: value
        for key, _, value in (
            line.partition("=")
            for line in (DEPLOY / "syncd.service").read_text(encoding="utf-8").splitlines()
            if "=" in line and not line.startswith("#")
        )
    }
    for key, expected in {
        "DynamicUser": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "NoNewPrivileges": "yes",
        "StateDirectory": "syncd",
        "ConfigurationDirectory": "syncd",
        "CapabilityBoundingSet": "",
    }.items():
        assert settings.get(key) == expected, key
    # systemd's own score: 0 (locked down) .. 10 (exposed); --threshold is that times ten.
    unit = str(unit_for_this_machine(tmp_path))
    done = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--threshold=20", "--no-pager", unit],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    assert "Overall exposure level" in done.stdout
