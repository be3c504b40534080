"""Built-in policy presets shipped as TOML inside the package.

This is the only module of the engine that reads files, and only the package's own
data (via ``importlib.resources``), so that a config can say ``extends = "standard"``
without syncd fetching anything. Presets are plain raw tables here; ``resolve`` merges
and validates them exactly like user policies.
"""

from __future__ import annotations

import copy
import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any


@lru_cache(maxsize=1)
def _load_all() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for entry in (resources.files("policies") / "presets").iterdir():
        if entry.name.endswith(".toml") and entry.is_file():
            out[entry.name[: -len(".toml")]] = tomllib.loads(entry.read_text(encoding="utf-8"))
    return out


def preset_names() -> tuple[str, ...]:
    return tuple(sorted(_load_all()))


def preset_raw(name: str) -> dict[str, Any] | None:
    """A deep copy of the preset's raw table, or None; copies so callers may merge freely."""
    raw = _load_all().get(name)
    return copy.deepcopy(raw) if raw is not None else None
