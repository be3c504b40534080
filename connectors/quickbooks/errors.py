"""QuickBooks' SDK errors as syncd's: what to retry, what to wait out, what to give up on.

python-quickbooks raises one exception type for everything; the executor decides by
:mod:`connectors.base` error type, so every SDK call goes through :func:`classify`, and a
write that needs the provider's own code (a stale SyncToken) reads it with :func:`error_code`.
"""

from __future__ import annotations

from quickbooks.exceptions import QuickbooksException

from connectors.base import PermanentError, TransientError
from connectors.kit import RateLimited


def classify(exc: QuickbooksException) -> Exception:
    code = getattr(exc, "error_code", None)
    text = str(exc.message)
    if code == 10000 and "Error reading json response" in text:
        # The SDK puts the whole unreadable body in its message: customer data, kilobytes
        # long. Logs and summaries get its first characters only.
        text = f"Error reading json response (body starts {text[29:].strip()[:60]!r})"
    message = f"QuickBooks error {code}: {text[:300]}"
    detail = getattr(exc, "detail", "")
    if detail:
        message += f" ({str(detail)[:300]})"
    if code in (3001, 3200) or "ThrottleExceeded" in str(exc.message):
        error: Exception = RateLimited(message, retry_after=60.0)
    elif code == 10000 and "Error reading json response" in text:
        # Intuit sometimes answers in XML or with a truncated body: worth another try.
        error = TransientError(message)
    else:
        error = PermanentError(message)
    return error


def error_code(exc: BaseException) -> int | None:
    cause = exc.__cause__ or exc.__context__
    code = getattr(cause, "error_code", None)
    try:
        return int(code) if code is not None else None
    except (TypeError, ValueError):
        return None
