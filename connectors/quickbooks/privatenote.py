"""Appending syncd's notes to an invoice's ``PrivateNote`` without ever touching the user's text.

QuickBooks has no invoice history, so the private note is the only place a note can live, and
it holds at most 4000 characters. syncd's entries are single lines tagged ``[syncd:KEY]`` at
the end of the note; when space runs out the oldest syncd entries go first. The tag also makes
a note recognisable after a crash, so it is never added twice.
"""

from __future__ import annotations

from connectors.base import PermanentError
from connectors.kit import TAG_RE, has_tag, tag

LIMIT = 4000


def _is_entry(line: str) -> bool:
    return TAG_RE.match(line) is not None


def has_entry(note: str | None, key: str) -> bool:
    return has_tag(note, key)


def append(note: str | None, key: str, text: str, limit: int = LIMIT) -> str:
    lines = (note or "").split("\n") if note else []
    user = [ln for ln in lines if not _is_entry(ln)]
    entries = [ln for ln in lines if _is_entry(ln)]
    user_text = "\n".join(user).rstrip("\n")
    entry = f"{tag(key)} " + " ".join(text.split())
    entries.append(entry)

    def render(kept: list[str]) -> str:
        return "\n".join([user_text, *kept]) if user_text else "\n".join(kept)

    while len(entries) > 1 and len(render(entries)) > limit:
        entries.pop(0)
    result = render(entries)
    if len(result) > limit:
        room = limit - (len(user_text) + 1 if user_text else 0)
        if room < len(f"{tag(key)} ") + 20:
            raise PermanentError("the invoice's private note is full of the user's own text")
        entries[-1] = entry[: room - 1] + "…"
        result = render(entries)
    return result
