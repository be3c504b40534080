"""Structured logging with secrets removed before anything is rendered.

Redaction works on two levels: any value under a key that names a secret is masked, and any
string that contains a known secret value (registered when config is loaded) or a bearer /
``token=`` pattern is scrubbed, wherever in the event it appears (nested dicts, lists,
exception text).
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import MutableMapping
from typing import Any, Literal

import structlog

MASK = "***"
_SECRET_KEY = re.compile(
    r"(token|secret|password|passwd|authorization|api[_-]?key|client[_-]?secret|cookie)",
    re.IGNORECASE,
)
_INLINE = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-._~+/]+=*"),
    re.compile(r"(?i)(basic\s+)[A-Za-z0-9+/]+=*"),
    re.compile(
        r"(?i)((?:access|refresh|id)_token|client_secret|password|secret)"
        r"([\"']?\s*[:=]\s*[\"']?)[^\"'&\s,}]+"
    ),
]

_known: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a secret value so it is masked even where no key names it."""
    if value and len(value) >= 6:
        with _lock:
            _known.add(value)


def scrub(text: str) -> str:
    for secret in sorted(_known, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    text = _INLINE[0].sub(lambda m: m.group(1) + MASK, text)
    text = _INLINE[1].sub(lambda m: m.group(1) + MASK, text)
    return _INLINE[2].sub(lambda m: m.group(1) + m.group(2) + MASK, text)


def redact(value: Any, key: str | None = None) -> Any:
    if key is not None and _SECRET_KEY.search(key) and value not in (None, ""):
        return MASK
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(v) for v in value)
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, BaseException):
        return scrub(f"{type(value).__name__}: {value}")
    return value


def redact_processor(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        event_dict[key] = redact(event_dict[key], None if key == "event" else key)
    return event_dict


def _scrub_rendered(_logger: Any, _method: str, rendered: Any) -> Any:
    # Tracebacks are formatted after redact_processor ran; scrub the final text once more.
    return scrub(rendered) if isinstance(rendered, str) else rendered


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the moment of writing, so a logger configured
    once keeps working when a test runner or an embedding program swaps the stream."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def configure(
    fmt: Literal["auto", "json", "console"] = "auto", level: str = "INFO", stream: Any = None
) -> None:
    stream = stream or _CurrentStderr()
    use_json = fmt == "json" or (fmt == "auto" and not sys.stdout.isatty())
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_processor,
    ]
    if use_json:
        processors += [
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ]
    else:
        processors += [structlog.dev.ConsoleRenderer(colors=stream.isatty())]
    processors.append(_scrub_rendered)
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
