"""One retry policy and one error taxonomy for every connector, and a log line per retry.

A backfill that met 500, 503, two 429s and a timeout used to run for minutes in silence: each
retry and each wait is now logged with its reason, the attempt and the delay, so an operator
can tell a slow provider from a hung daemon.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import structlog
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from connectors.base import AuthError, ConnectorError, TransientError

log = structlog.get_logger("connectors.kit")

_T = TypeVar("_T")


class Unauthorized(ConnectorError):
    """The API answered 401: the access token expired early or was revoked.

    Internal to a connector: :func:`call_with_retries` refreshes once and retries; it never
    reaches syncd.
    """


class RateLimited(TransientError):
    """The provider answered 429; ``retry_after`` is how long it asked us to wait."""


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, TransientError)


def _reason(exc: BaseException | None) -> str:
    return str(exc)[:300] if exc is not None else "unknown"


def log_rate_limit_wait(provider: str, reason: str, delay: float) -> None:
    """For a connector's own pacing (a sliding window, a provider's remaining-calls header).

    At a sliding window's edge every call waits a few milliseconds: those are logged at
    debug level, so that the waits that matter (a second or more) stand out at info."""
    level = log.info if delay >= 1 else log.debug
    level("connector.rate_limit_wait", provider=provider, reason=reason, delay=round(delay, 3))


def call_with_retries(
    fn: Callable[[], _T],
    *,
    provider: str,
    refresh: Callable[[], object],
    sleep: Callable[[float], None],
    max_attempts: int,
    retryable: Callable[[BaseException], bool] = _retryable,
) -> _T:
    """Run ``fn``: refresh once on 401, retry transient errors with backoff, log each retry.

    The wait is jittered exponential backoff, never shorter than a ``retry_after`` the
    provider sent. After ``max_attempts`` the last ``TransientError`` is raised as it is.
    """

    def wait(state: RetryCallState) -> float:
        backoff = wait_exponential_jitter(initial=1, max=60)(state)
        exc = state.outcome.exception() if state.outcome else None
        hint = exc.retry_after if isinstance(exc, TransientError) else None
        return max(backoff, hint or 0.0)

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        event = "connector.rate_limited" if isinstance(exc, RateLimited) else "connector.retry"
        log.warning(
            event,
            provider=provider,
            reason=_reason(exc),
            error=type(exc).__name__,
            attempt=state.attempt_number,
            max_attempts=max_attempts,
            delay=round(delay, 3),
        )

    def attempt() -> _T:
        try:
            return fn()
        except Unauthorized as exc:
            log.info("connector.token_refused", provider=provider, reason=_reason(exc))
            refresh()
            return fn()

    retrying = Retrying(
        retry=retry_if_exception(retryable),
        wait=wait,
        stop=stop_after_attempt(max_attempts),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        return retrying(attempt)
    except Unauthorized:
        raise AuthError(
            f"{provider} rejected a freshly refreshed access token; reconnect the organisation"
        ) from None
    except TransientError as exc:
        if retryable(exc):
            log.warning(
                "connector.retries_exhausted",
                provider=provider,
                reason=_reason(exc),
                error=type(exc).__name__,
                attempts=max_attempts,
            )
        raise
