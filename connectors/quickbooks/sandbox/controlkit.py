"""What every control endpoint shares: its error, its JSON answers, its JSON body."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .money import dumps
from .wire import Response

if TYPE_CHECKING:
    from .server import HttpRequest

JSON = dict[str, Any]


class ControlError(ValueError):
    """A bad control request (HTTP 400 with ``{"error": ...}``)."""


def ok(payload: Any, status: int = 200) -> Response:
    return Response(status, dumps(payload).encode("utf-8"), content_type="application/json")


def error(message: str, status: int = 400, **extra: Any) -> Response:
    return ok({"error": message, **extra}, status)


def json_body(req: HttpRequest) -> JSON:
    if not req.body:
        return {}
    try:
        data = json.loads(req.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ControlError(f"body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ControlError("body must be a JSON object")
    return data
