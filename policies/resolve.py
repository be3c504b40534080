"""Resolving ``extends``: a config policy may start from a preset or another config
policy and override parts of it.

Merge rules (documented in the README): tables merge key by key; ``steps`` merge by step
identity (a step whose ``id`` matches a base step updates that step's keys, any other
step is added); ``drop_steps = ["id", ...]`` removes inherited steps; ``fees`` merge by
rule name (a rule whose ``kind`` changes is replaced whole). Merging happens on the raw
tables, then the result is validated once, and error paths are mapped back to what the
user wrote, so ``policies.mine.steps[0].days`` points into the user's own table.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from policies.presets import preset_names, preset_raw
from policies.schema import (
    ConfigIssue,
    PolicyConfig,
    PolicyConfigError,
    default_step_id,
    issues_from_validation_error,
    join_path,
)


@dataclass
class _Merged:
    data: dict[str, Any]
    # for each merged step, the index in the policy's *own* steps list, or the name of
    # the policy it was inherited from
    origin: list[int | str] = field(default_factory=list)
    ok: bool = True


def _step_key(step: Any) -> str | None:
    if not isinstance(step, Mapping):
        return None
    sid = step.get("id")
    if isinstance(sid, str):
        return sid
    days = step.get("days")
    if isinstance(days, int) and not isinstance(days, bool):
        return default_step_id(days)
    return None


def _merge(
    base: _Merged,
    base_name: str,
    own: Mapping[str, Any],
    path: str,
    issues: list[ConfigIssue],
) -> _Merged:
    out = copy.deepcopy(base.data)
    out.pop("extends", None)
    steps: list[Any] = list(out.get("steps") or [])
    origin: list[int | str] = [base_name] * len(steps)
    for key, value in own.items():
        if key in ("extends", "drop_steps"):
            continue
        if key == "steps" and isinstance(value, list):
            for j, step in enumerate(value):
                sid = _step_key(step)
                idx = next((i for i, s in enumerate(steps) if sid and _step_key(s) == sid), None)
                if idx is not None and isinstance(step, Mapping):
                    steps[idx] = {**steps[idx], **copy.deepcopy(dict(step))}
                    origin[idx] = j
                else:
                    steps.append(copy.deepcopy(step))
                    origin.append(j)
        elif key == "steps":
            out["steps"] = value  # wrong type; validation reports it at the user's path
            steps, origin = [], []
        elif key == "fees" and isinstance(value, Mapping) and isinstance(out.get("fees"), Mapping):
            fees = dict(out["fees"])
            for fname, rule in value.items():
                old = fees.get(fname)
                same_kind = isinstance(old, Mapping) and isinstance(rule, Mapping)
                if (
                    same_kind
                    and old is not None
                    and rule.get("kind", old.get("kind")) == old.get("kind")
                ):
                    fees[fname] = {**old, **copy.deepcopy(dict(rule))}
                else:
                    fees[fname] = copy.deepcopy(rule)
            out["fees"] = fees
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = {**out[key], **copy.deepcopy(dict(value))}
        else:
            out[key] = copy.deepcopy(value)
    drop = own.get("drop_steps", [])
    if not isinstance(drop, list) or not all(isinstance(d, str) for d in drop):
        issues.append(ConfigIssue(join_path(path, "drop_steps"), "expected a list of step ids"))
        drop = []
    for k, sid in enumerate(drop):
        idx = next((i for i, s in enumerate(steps) if _step_key(s) == sid), None)
        if idx is None or not isinstance(origin[idx], str):
            issues.append(
                ConfigIssue(
                    join_path(join_path(path, "drop_steps"), k), f"no inherited step {sid!r}"
                )
            )
            continue
        del steps[idx]
        del origin[idx]
    if isinstance(out.get("steps"), list) or steps:
        out["steps"] = steps
    return _Merged(out, origin)


_STEP_PATH = re.compile(r"^steps\[(\d+)\]")


def _remap(issue: ConfigIssue, merged: _Merged, path: str) -> ConfigIssue:
    match = _STEP_PATH.match(issue.path)
    if match is None or not merged.origin:
        rel = issue.path
        message = issue.message
    else:
        idx = int(match.group(1))
        src = merged.origin[idx] if idx < len(merged.origin) else idx
        if isinstance(src, int):
            rel = f"steps[{src}]" + issue.path[match.end() :]
            message = issue.message
        else:
            rel = issue.path
            message = f"{issue.message} (in a step inherited from {src!r})"
    full = f"{path}.{rel}" if rel else path
    return ConfigIssue(full, message)


class _Resolver:
    def __init__(self, raw: Mapping[str, Any], root: str) -> None:
        self.raw = raw
        self.root = root
        self.issues: list[ConfigIssue] = []
        self.done: dict[tuple[str, str], _Merged] = {}

    def path(self, ns: str, name: str) -> str:
        return join_path(self.root, name) if ns == "config" else f"<preset {name}>"

    def table(self, ns: str, name: str) -> Mapping[str, Any] | None:
        if ns == "config":
            value = self.raw.get(name)
            return value if isinstance(value, Mapping) else None
        return preset_raw(name)

    def resolve(self, ns: str, name: str, stack: tuple[tuple[str, str], ...]) -> _Merged:
        key = (ns, name)
        if key in self.done:
            return self.done[key]
        path = self.path(ns, name)
        own = self.table(ns, name)
        if own is None:
            self.issues.append(ConfigIssue(path, "expected a table"))
            result = _Merged({}, ok=False)
            self.done[key] = result
            return result
        ext = own.get("extends")
        if ext is None:
            if "drop_steps" in own:
                self.issues.append(
                    ConfigIssue(join_path(path, "drop_steps"), "only allowed with extends")
                )
                result = _Merged({}, ok=False)
            else:
                data = {k: v for k, v in own.items()}
                steps = data.get("steps")
                origin: list[int | str] = list(range(len(steps))) if isinstance(steps, list) else []
                result = _Merged(copy.deepcopy(data), origin)
        elif not isinstance(ext, str):
            self.issues.append(ConfigIssue(join_path(path, "extends"), "expected a policy name"))
            result = _Merged({}, ok=False)
        else:
            if ns == "config" and ext != name and ext in self.raw:
                base_key = ("config", ext)
            elif ext in preset_names() and (ns == "config" or ext != name):
                base_key = ("preset", ext)
            else:
                self.issues.append(
                    ConfigIssue(
                        join_path(path, "extends"),
                        f"no policy or preset named {ext!r} (presets: {', '.join(preset_names())})",
                    )
                )
                base_key = None
            if base_key is None:
                result = _Merged({}, ok=False)
            elif base_key in stack:
                chain = " -> ".join(n for _, n in (*stack, key, base_key))
                self.issues.append(ConfigIssue(join_path(path, "extends"), f"cycle: {chain}"))
                result = _Merged({}, ok=False)
            else:
                base = self.resolve(base_key[0], base_key[1], (*stack, key))
                if not base.ok:
                    result = _Merged({}, ok=False)  # the base's own errors are reported
                else:
                    result = _merge(base, base_key[1], own, path, self.issues)
        if result.ok:
            try:
                PolicyConfig.model_validate(result.data)
            except ValidationError as exc:
                for issue in issues_from_validation_error(exc, result.data):
                    self.issues.append(_remap(issue, result, path))
                result.ok = False
        self.done[key] = result
        return result


def resolve_policies(raw: Mapping[str, Any], *, root: str = "policies") -> dict[str, PolicyConfig]:
    """Validate the ``[policies]`` table of a config: ``{name: table}`` -> resolved policies.

    Raises ``PolicyConfigError`` listing every problem with its key path under ``root``.
    The returned policies have ``extends`` resolved (and set to None).
    """
    if not isinstance(raw, Mapping):
        raise PolicyConfigError([ConfigIssue(root, "expected a table of policies")])
    resolver = _Resolver(raw, root)
    for name in raw:
        if not isinstance(name, str) or not name:
            resolver.issues.append(ConfigIssue(root, f"invalid policy name {name!r}"))
            continue
        resolver.resolve("config", name, ())
    if resolver.issues:
        raise PolicyConfigError(_dedupe(resolver.issues))
    return {name: PolicyConfig.model_validate(resolver.done[("config", name)].data) for name in raw}


def _dedupe(issues: list[ConfigIssue]) -> list[ConfigIssue]:
    seen: set[ConfigIssue] = set()
    out: list[ConfigIssue] = []
    for issue in issues:
        if issue not in seen:
            seen.add(issue)
            out.append(issue)
    return out


@lru_cache(maxsize=1)
def preset_policies() -> dict[str, PolicyConfig]:
    """The built-in presets, validated (a broken preset is a bug, so this raises)."""
    return resolve_policies({name: {"extends": name} for name in preset_names()})


def available_policies(config: Mapping[str, PolicyConfig]) -> dict[str, PolicyConfig]:
    """Presets usable by name, overridden by config policies of the same name."""
    return {**preset_policies(), **config}
