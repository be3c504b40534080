"""Xero's error bodies, one constructor per kind of refusal.

Shapes come from Xero's OpenAPI ``Error`` schema and from bodies quoted in
public SDK issues: validation failures are ``ErrorNumber 10
ValidationException`` with ``Elements[].ValidationErrors``, bad ``where`` is
``ErrorNumber 16 QueryParseException``, authentication failures are RFC 7807
style ``{"Type":null,"Title":...,"Status":...,"Detail":...}``, an unknown id is
a bare text 404, and the identity server answers ``{"error":"invalid_grant"}``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

JSON = "application/json; charset=utf-8"
NOT_FOUND_TEXT = "The resource you're looking for cannot be found"


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str | None = JSON
    headers: dict[str, str] = field(default_factory=dict)


#: One encoder for every answer: ``json.dumps`` with these options builds a new one per call,
#: and a page's first serving encodes 1,000 records one by one.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(obj: Any) -> bytes:
    """``json.dumps(obj, ensure_ascii=False, separators=(",", ":"))`` as UTF-8 bytes."""
    return _ENCODER.encode(obj).encode("utf-8")


#: A record's JSON is encoded by orjson unless it holds something orjson would write otherwise
#: than ``json`` (subclasses, dataclasses, datetimes: passed through, so refused).
_ORJSON_OPTIONS = (
    orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
)


def record_dumps(obj: Any) -> bytes:
    """:func:`dumps` of a record rendered by :mod:`.render` (numbers from
    :func:`.money.json_number`), about ten times faster.

    orjson writes the same bytes for str keys, strings, ints within 64 bits, bools, None,
    lists and floats from 1e-4 to 1e16 (what ``json_number`` hands it); anything it refuses
    (other keys, larger ints, :class:`.money.ExactFloat`, any subclass) goes through ``json``.
    Not for bodies echoing a client's values: a float it parsed may be outside that range.
    """
    try:
        return orjson.dumps(obj, option=_ORJSON_OPTIONS)
    except TypeError:
        return dumps(obj)


def encode_text(obj: Any) -> str:
    """:func:`dumps` before the UTF-8 step (for text written around it)."""
    return str(_ENCODER.encode(obj))


def json_reply(status: int, obj: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, dumps(obj), JSON, dict(headers or {}))


def validation_body(elements: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
        "Elements": elements,
    }


def validation_error(elements: list[dict[str, Any]]) -> Reply:
    return json_reply(400, validation_body(elements))


def simple_validation_error(message: str, element: dict[str, Any] | None = None) -> Reply:
    item = dict(element or {})
    item["ValidationErrors"] = [{"Message": message}]
    return validation_error([item])


def query_parse_error(message: str) -> Reply:
    return json_reply(400, {"ErrorNumber": 16, "Type": "QueryParseException", "Message": message})


def not_found() -> Reply:
    return Reply(404, NOT_FOUND_TEXT.encode("utf-8"), "text/plain; charset=utf-8")


def _problem(status: int, title: str, detail: str) -> dict[str, Any]:
    return {
        "Type": None,
        "Title": title,
        "Status": status,
        "Detail": detail,
        "Instance": str(uuid.uuid4()),
        "Extensions": {},
    }


def unauthorized(detail: str = "AuthenticationUnsuccessful") -> Reply:
    return json_reply(
        401,
        _problem(401, "Unauthorized", detail),
        {"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def token_expired(expired_at: datetime) -> Reply:
    return unauthorized(
        f"TokenExpired: token expired at {expired_at.strftime('%m/%d/%Y %H:%M:%S')}"
    )


def forbidden() -> Reply:
    return json_reply(403, _problem(403, "Forbidden", "AuthenticationUnsuccessful"))


def rate_limited(problem: str, retry_after: int, headers: dict[str, str]) -> Reply:
    merged = dict(headers)
    merged["Retry-After"] = str(retry_after)
    merged["X-Rate-Limit-Problem"] = problem
    return json_reply(
        429, _problem(429, "Too Many Requests", f"Rate limit exceeded: {problem}"), merged
    )


def server_error(status: int) -> Reply:
    if status == 503:
        return json_reply(
            503, _problem(503, "Service Unavailable", "The Xero API is temporarily unavailable")
        )
    return json_reply(
        status,
        {
            "ErrorNumber": 500,
            "Type": "UnknownErrorException",
            "Message": "An error occurred in Xero.",
        },
    )


def oauth_error(error: str, status: int = 400) -> Reply:
    return json_reply(status, {"error": error})
