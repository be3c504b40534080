"""QBO error bodies.

Shapes follow real QBO responses: ``{"Fault":{"Error":[{"Message","Detail","code","element"}],
"type"},"time"}`` with ``code`` as a string, except the 401 body which QBO sends with lower-case
keys. Codes matter more than wording because python-quickbooks maps them to exception classes
(610 -> ObjectNotFoundException, 2000-4999 -> ValidationException, 5010 -> QuickbooksException,
>= 10000 -> SevereException).
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from .wire import Response, envelope_time, json_response


class QBOFault(Exception):
    """Raised anywhere inside request handling; the server turns it into the HTTP answer."""

    def __init__(self, status: int, fault_type: str, errors: list[dict[str, str]]) -> None:
        super().__init__(errors[0].get("Message", fault_type) if errors else fault_type)
        self.status = status
        self.fault_type = fault_type
        self.errors = errors

    @property
    def code(self) -> str:
        return self.errors[0].get("code", "") if self.errors else ""

    def body(self, now: datetime, tz: tzinfo) -> dict[str, Any]:
        return {
            "Fault": {"Error": self.errors, "type": self.fault_type},
            "time": envelope_time(now, tz),
        }

    def response(self, now: datetime, tz: tzinfo) -> Response:
        return json_response(self.status, self.body(now, tz))


def _error(code: str, message: str, detail: str, element: str = "") -> dict[str, str]:
    return {"Message": message, "Detail": detail, "code": code, "element": element}


def validation(code: str, message: str, detail: str, element: str = "") -> QBOFault:
    return QBOFault(400, "ValidationFault", [_error(code, message, detail, element)])


def stale_object(entity: str, entity_id: str, sent: str, current: str) -> QBOFault:
    return validation(
        "5010",
        "Stale Object Error",
        f"Stale Object Error : You and sandbox-user were working on this at the same time. "
        f"sandbox-user finished before you did, so your work was not saved. "
        f"({entity} {entity_id}: SyncToken sent {sent}, current {current})",
    )


def not_found(entity: str, entity_id: str) -> QBOFault:
    return validation(
        "610",
        "Object Not Found",
        f"Object Not Found : Something you're trying to use has been made inactive. "
        f"Check the fields with accounts, customers, items, vendors or employees. "
        f"({entity} {entity_id})",
    )


def invalid_reference(detail: str, element: str = "") -> QBOFault:
    return validation("2500", "Invalid Reference Id", f"Invalid Reference Id : {detail}", element)


def required_param(detail: str, element: str = "") -> QBOFault:
    return validation(
        "2020",
        "Required param missing, need to supply the required value for the API",
        detail,
        element,
    )


def invalid_value(detail: str, element: str = "") -> QBOFault:
    """Generic "bad request content" fault (code 2010, the one QBO uses for unknown properties)."""
    return validation("2010", "Request has invalid or unsupported property", detail, element)


def business_validation(detail: str, element: str = "") -> QBOFault:
    return validation(
        "6000",
        "A business validation error has occurred while processing your request",
        f"Business Validation Error: {detail}",
        element,
    )


def query_parse(detail: str) -> QBOFault:
    return validation("4000", "Error parsing query", f"QueryParserError: {detail}")


def query_validation(detail: str) -> QBOFault:
    return validation("4001", "Invalid query", f"QueryValidationError: {detail}")


def unsupported_operation(detail: str) -> QBOFault:
    return QBOFault(
        400,
        "ValidationFault",
        [_error("500", "Unsupported Operation", f"Operation {detail} is not supported.")],
    )


def system_error(detail: str = "System Failure Error: An unexpected error occurred.") -> QBOFault:
    return QBOFault(
        500,
        "SystemFault",
        [
            _error(
                "10000", "An application error has occurred while processing your request", detail
            )
        ],
    )


def authorization_failed(realm_id: str) -> QBOFault:
    """Token valid but not for this company (HTTP 403)."""
    return QBOFault(
        403,
        "AuthorizationFault",
        [
            _error(
                "3100",
                "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
                f"The application is not authorized to access company {realm_id}.",
            )
        ],
    )


def authentication_failed_response(now: datetime, tz: tzinfo, detail: str) -> Response:
    """HTTP 401 in QBO's lower-case variant (the SDK raises before parsing it)."""
    body = {
        "fault": {
            "error": [
                {
                    "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                    "detail": detail,
                    "code": "3200",
                }
            ],
            "type": "AUTHENTICATION",
        },
        "time": envelope_time(now, tz),
    }
    return json_response(401, body, headers=(("WWW-Authenticate", 'Bearer realm="Intuit"'),))


THROTTLE_MESSAGE = "message=ThrottleExceeded; errorCode=003001; statusCode=429"
THROTTLE_DETAIL = "The request limit was reached. Please try again later."


def throttled_response(now: datetime, tz: tzinfo, *, xml: bool = False) -> Response:
    """HTTP 429. QBO historically sent this as XML even to JSON clients, hence the option."""
    if xml:
        text = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<IntuitResponse xmlns="http://schema.intuit.com/finance/v3" '
            f'time="{envelope_time(now, tz)}">\n'
            '  <Fault type="SERVICE">\n'
            '    <Error code="3001">\n'
            f"      <Message>{THROTTLE_MESSAGE}</Message>\n"
            f"      <Detail>{THROTTLE_DETAIL}</Detail>\n"
            "    </Error>\n"
            "  </Fault>\n"
            "</IntuitResponse>\n"
        )
        return Response(429, text.encode("utf-8"), content_type="application/xml;charset=UTF-8")
    fault = QBOFault(
        429,
        "SERVICE",
        [{"Message": THROTTLE_MESSAGE, "Detail": THROTTLE_DETAIL, "code": "3001", "element": ""}],
    )
    return fault.response(now, tz)


def service_unavailable_response() -> Response:
    """A 503 from the load balancer: HTML, not JSON, as gateways send it."""
    html = (
        "<html><head><title>503 Service Temporarily Unavailable</title></head>"
        "<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
    )
    return Response(503, html.encode("utf-8"), content_type="text/html")


def oauth_error_response(error: str, description: str | None = None, status: int = 400) -> Response:
    body: dict[str, str] = {"error": error}
    if description:
        body["error_description"] = description
    return json_response(status, body)
