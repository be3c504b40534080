"""The control API under ``/_sandbox/``: the world around the books, and what happened to them.

Tests and demos use it to act as the business (a customer pays, a bookkeeper edits or voids an
invoice: :mod:`.controlbooks`), to bend the environment (clock, token expiry, throttle,
injected faults), and to read back the truth and everything the client wrote. No real QBO path
starts with ``/_sandbox``, so a client under test can never reach these endpoints by accident.
See README.md for the reference.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING

from . import controlbooks as business
from . import faults
from .controlkit import JSON, ControlError, error, json_body, ok
from .injection import rule_from_json
from .wire import Response, entity_time

if TYPE_CHECKING:
    from .server import HttpRequest, SandboxApp


def handle_control(app: SandboxApp, req: HttpRequest) -> Response:
    try:
        return _route(app, req)
    except faults.QBOFault as fault:
        return error(str(fault), fault=fault.body(app.company.now(), app.company.tz))
    except (ControlError, ValueError, KeyError, TypeError) as exc:
        return error(f"{type(exc).__name__}: {exc}")


def _route(app: SandboxApp, req: HttpRequest) -> Response:
    parts = [p for p in req.path[len("/_sandbox/") :].split("/") if p]
    handler = _ROUTES.get(parts[0] if parts else "")
    answer = handler(app, req, parts) if handler is not None else None
    if answer is None:
        return error(f"no control endpoint {req.method} {req.path}", 404)
    return answer


def _health(app: SandboxApp, req: HttpRequest, parts: list[str]) -> Response | None:
    if req.method == "GET" and parts == ["health"]:
        return ok({"ok": True, "realm_id": app.company.realm_id})
    return None


def _config(app: SandboxApp, req: HttpRequest, parts: list[str]) -> Response | None:
    return ok(app_config(app)) if req.method == "GET" and parts == ["config"] else None


def _clock(app: SandboxApp, req: HttpRequest, parts: list[str]) -> Response:
    company = app.company
    if req.method == "POST":
        body = json_body(req)
        if "freeze" in body:
            company.clock.freeze(bool(body["freeze"]))
        if "advance_seconds" in body or "advance_days" in body:
            seconds = float(body.get("advance_seconds", 0)) + 86400 * float(
                body.get("advance_days", 0)
            )
            company.clock.advance(seconds)
        if "set" in body:
            company.clock.set(datetime.fromisoformat(str(body["set"])))
    return ok({"now": company.now().isoformat(), "local": entity_time(company.now(), company.tz)})


def _tokens(app: SandboxApp, req: HttpRequest, parts: list[str]) -> Response | None:
    if req.method == "POST" and parts == ["tokens", "expire"]:
        return ok({"expired": app.oauth.expire_access_tokens()})
    if req.method == "POST" and parts == ["tokens", "access"]:
        return ok({"access_token": app.oauth.issue_access_token()})
    return None


def _consent(app: SandboxApp, req: HttpRequest, parts: list[str]) -> Response | None:
    if parts != ["consent"] or req.method not in ("GET", "POST"):
        return None
    if req.method == "POST":
        app.oauth.consent.deny = bool(json_body(req).get("deny", False))
    return ok({"deny": app.oauth.consent.deny})


def _rate_limit(app: SandboxApp, req: HttpRequest, parts: list[str]) -> Response | None:
    if req.method != "POST" or parts != ["rate-limit"]:
        return None
    body = json_body(req)
    if "per_minute" in body:
        app.limiter.set_limit(int(body["per_minute"]))
    if body.get("reset"):
        app.limiter.reset()
    return ok({"per_minute": app.limiter.per_minute})


def _settings(app: SandboxApp, req: HttpRequest, parts: list[str]) -> Response | None:
    if parts != ["settings"] or req.method not in ("GET", "POST"):
        return None
    if req.method == "POST":
        _change_settings(app, json_body(req))
    return ok(
        {
            "cdc_max_objects": app.settings.cdc_max_objects,
            "closing_date": (
                app.company.closing_date.isoformat() if app.company.closing_date else None
            ),
            "auto_apply_credit": app.company.auto_apply_credit,
            **app.company.unkind.as_json(),
        }
    )


def _change_settings(app: SandboxApp, body: JSON) -> None:
    if "cdc_max_objects" in body:
        value = int(body.pop("cdc_max_objects"))
        if value < 1:
            raise ControlError("cdc_max_objects must be >= 1")
        app.settings.cdc_max_objects = value
    if "closing_date" in body:
        closing = body.pop("closing_date")
        app.company.closing_date = None if closing is None else date.fromisoformat(closing)
    if "auto_apply_credit" in body:
        app.company.auto_apply_credit = bool(body.pop("auto_apply_credit"))
    if body.pop("strict", False):
        body = {**app.company.unkind.strict().as_json(), **body}
        body.pop("bulk_import")
    try:
        app.company.unkind.update(body)
    except ValueError as exc:
        raise ControlError(str(exc)) from exc


def _faults(app: SandboxApp, req: HttpRequest, parts: list[str]) -> Response:
    if req.method == "POST":
        app.injector.add(rule_from_json(json_body(req)))
    elif req.method == "DELETE":
        app.injector.clear()
    return ok({"faults": app.injector.list()})


def _reads(app: SandboxApp, req: HttpRequest, parts: list[str]) -> Response | None:
    """What happened: the truth, every stored payload, the client's writes, the requests."""
    if req.method != "GET" or len(parts) != 1:
        return None
    company = app.company
    if parts[0] == "truth":
        return ok(company.truth())
    if parts[0] == "snapshot":
        return ok(company.snapshot())
    if parts[0] == "writes":
        return ok(company.journal_copy())
    return ok({"requests": app.log_since(int(req.query.get("since", "0")))})


_ROUTES: dict[str, Callable[[SandboxApp, HttpRequest, list[str]], Response | None]] = {
    "health": _health,
    "config": _config,
    "clock": _clock,
    "tokens": _tokens,
    "consent": _consent,
    "rate-limit": _rate_limit,
    "settings": _settings,
    "faults": _faults,
    "truth": _reads,
    "snapshot": _reads,
    "writes": _reads,
    "requests": _reads,
    "payments": business.payments,
    "invoices": business.invoices,
    "credit-memos": business.credit_memos,
    "customers": business.customers,
}


def app_config(app: SandboxApp) -> dict[str, str]:
    """Credentials and URLs for one syncd ``[[orgs]]`` entry (latest rotated refresh token)."""
    return {
        "client_id": app.oauth.client_id,
        "client_secret": app.oauth.client_secret,
        "refresh_token": app.oauth.latest_refresh_token,
        "realm_id": app.company.realm_id,
        "base_url": f"{app.base_url}/v3",
        "token_url": f"{app.base_url}/oauth2/v1/tokens/bearer",
        "discovery_url": f"{app.base_url}/.well-known/openid_configuration",
    }
