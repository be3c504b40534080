"""Config problems as the user sees them: a dotted key path and a short message.

Pydantic reports errors by its own location (with discriminator tags that are not keys in
the user's file) and in its own words; this module turns them into the paths and messages
the config loader prints, so every problem in a file is reported at once, each at its key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticCustomError


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One problem in the config: the dotted key path and a short human message."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class PolicyConfigError(ValueError):
    """Raised with *all* the problems found, so a user fixes the file in one go.

    ``issues`` is a tuple of ``ConfigIssue(path, message)``; paths are rooted at the
    ``root`` the validator was given (``policies`` by default), so the config loader only
    has to prefix the file name.
    """

    def __init__(self, issues: Sequence[ConfigIssue]) -> None:
        self.issues: tuple[ConfigIssue, ...] = tuple(issues)
        super().__init__("; ".join(str(i) for i in self.issues))

    def as_pairs(self) -> list[tuple[str, str]]:
        return [(i.path, i.message) for i in self.issues]


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def join_path(base: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{base}[{key}]"
    part = key if _IDENT.match(key) else f'"{key}"'
    return f"{base}.{part}" if base else part


def _friendly(err: Mapping[str, Any]) -> str:
    kind = err.get("type", "")
    msg = str(err.get("msg", ""))
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "expected an integer"
    if kind in ("decimal_parsing", "decimal_type"):
        return 'expected a decimal number (write money as a string, e.g. "25.00")'
    if kind in ("bool_parsing", "bool_type"):
        return "expected true or false"
    ctx = err.get("ctx") or {}
    if kind == "union_tag_invalid":
        return f"unknown kind {ctx.get('tag')!r} (expected one of {ctx.get('expected_tags')})"
    if kind == "union_tag_not_found":
        return "missing key 'kind' (the action type)"
    if msg.startswith("Input should be "):
        return "expected " + msg[len("Input should be ") :]
    if msg.startswith("Value error, "):
        return msg[len("Value error, ") :]
    return msg


def issues_from_validation_error(
    exc: ValidationError, data: Any, root: str = ""
) -> list[ConfigIssue]:
    """Translate pydantic errors into key paths that match what the user wrote.

    Discriminated unions add the tag (``email``) to pydantic's location; it is not a key
    in the user's file, so it is dropped by walking the input alongside the location.
    """
    out: list[ConfigIssue] = []
    for err in exc.errors():
        path = root
        cur: Any = data
        for seg in err["loc"]:
            if isinstance(cur, Mapping) and isinstance(seg, str):
                if seg in cur:
                    path = join_path(path, seg)
                    cur = cur[seg]
                elif cur.get("kind") == seg:
                    continue
                else:
                    path = join_path(path, seg)
                    cur = None
            elif isinstance(cur, list) and isinstance(seg, int):
                path = join_path(path, seg)
                cur = cur[seg] if 0 <= seg < len(cur) else None
            else:
                path = join_path(path, seg)
                cur = None
        ctx = err.get("ctx") or {}
        sub = ctx.get("issues")
        if err["type"] == "policy_semantics" and isinstance(sub, list):
            for sub_path, message in sub:
                full = f"{path}.{sub_path}" if path and sub_path else (path or sub_path)
                out.append(ConfigIssue(full, message))
        else:
            out.append(ConfigIssue(path, _friendly(err)))
    return out


def semantic_error(issues: list[tuple[str, str]]) -> PydanticCustomError:
    """Problems a model's own validator found, each with its path below the model, carried
    through pydantic so :func:`issues_from_validation_error` reports them at their keys."""
    return PydanticCustomError(
        "policy_semantics",
        "{summary}",
        {"summary": "; ".join(f"{p}: {m}" for p, m in issues), "issues": issues},
    )
