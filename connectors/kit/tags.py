"""``[syncd:KEY]`` tags: how syncd recognises its own writes once the provider forgets them.

A provider's idempotency replay (``requestid``, ``Idempotency-Key``) may expire; the tag,
written into a note, a line description or a reference, does not. Engine keys carry ``/``
and percent-encoded parts (``acme:C%2F1:customer/C%2F1:email/reminder:ab12``), which are kept
as they are; a key with spaces, brackets or more than 100 characters is hashed so that the tag
stays one token that :data:`TAG_RE` finds again.
"""

from __future__ import annotations

import hashlib
import re

#: Finds a tag and captures its key (anything up to ``]`` without whitespace).
TAG_RE = re.compile(r"\[syncd:([^\]\s]+)\]")
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9:._/%+\-]{1,100}$")


def tag_key(idempotency_key: str) -> str:
    """The key as it appears inside a tag: itself when plain, else a stable hash."""
    if _PLAIN_KEY.match(idempotency_key):
        return idempotency_key
    return "sha-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


def tag(idempotency_key: str) -> str:
    return f"[syncd:{tag_key(idempotency_key)}]"


def find_tag(text: str | None) -> str | None:
    """The key of the first tag in ``text`` (as :func:`tag_key` wrote it), or None."""
    found = TAG_RE.search(text or "")
    return found.group(1) if found else None


def has_tag(text: str | None, idempotency_key: str) -> bool:
    return tag(idempotency_key) in (text or "")
