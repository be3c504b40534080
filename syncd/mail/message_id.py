"""Message-IDs derived from the idempotency key, not from time or randomness.

A retried send of the same planned action carries the same Message-ID, so the copy is
recognisable downstream (in the BCC mailbox, the receiving server's logs, or a
reconciliation after a crash) instead of looking like a second, independent reminder.
"""

from __future__ import annotations

import re

__all__ = ["digest_from_message_id", "make_message_id"]

_PREFIX = "syncd."
# RFC 5322 dot-atom-text, restricted further to what hostnames and hex digests need.
_DIGEST = re.compile(r"^[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*$")
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_OURS = re.compile(r"^<syncd\.([A-Za-z0-9_-]+)@[A-Za-z0-9.-]+>$")


def _ascii_domain(domain: str) -> str:
    """IDNA-encode so a non-ASCII sender domain still yields a 7-bit header."""
    domain = domain.strip().rstrip(".").lower()
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"invalid domain {domain!r} for a Message-ID") from exc
    labels = ascii_domain.split(".")
    if len(ascii_domain) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"invalid domain {domain!r} for a Message-ID")
    return ascii_domain


def make_message_id(key_digest: str, domain: str) -> str:
    """``<syncd.{digest}@{domain}>``: same key, same ID; RFC 5322 ``msg-id`` syntax."""
    if not _DIGEST.match(key_digest) or len(key_digest) > 128:
        raise ValueError(f"key digest must be letters/digits, got {key_digest!r}")
    return f"<{_PREFIX}{key_digest}@{_ascii_domain(domain)}>"


def digest_from_message_id(message_id: str) -> str | None:
    """The digest back out of a Message-ID minted here; None for any other Message-ID."""
    match = _OURS.match(message_id.strip())
    return match.group(1) if match else None
