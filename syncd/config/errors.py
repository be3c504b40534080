"""Config errors as one line a user can act on: ``file: key.path: what was expected``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

_SECRET_HINTS = ("secret", "password", "token", "key")


def key_path(loc: Iterable[str | int]) -> str:
    """``("orgs", 1, "policy")`` becomes ``orgs[1].policy``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


class ConfigError(Exception):
    def __init__(self, file: Path | str, path: str, message: str) -> None:
        super().__init__(f"{file}: {path}: {message}")
        self.file, self.path, self.message = str(file), path, message


def _describe(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    message = str(error["msg"])
    message = message.replace("Input should be", "expected").replace("Value error, ", "")
    loc = [str(p).lower() for p in error["loc"]]
    # A database URL may carry a password: never echo it.
    if loc[-2:] == ["store", "url"]:
        return message
    shown = "<hidden>" if any(h in p for p in loc for h in _SECRET_HINTS) else None
    if "input" in error and not isinstance(error["input"], dict | list):
        got = shown or repr(error["input"])
        if len(got) > 60:
            got = got[:57] + "..."
        if got not in message:  # validators that already quote the value say it once
            message += f" (got {got})"
    return message


def from_validation_error(
    file: Path | str, exc: ValidationError, prefix: Sequence[str | int] = ()
) -> ConfigError:
    """Turns the first pydantic error into a ConfigError; the rest are appended briefly."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    path = key_path([*prefix, *first["loc"]])
    message = _describe(first)
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''})"
    return ConfigError(file, path, message)
