"""The email side of letters and case files: a letter's PDF attached to its email, and
every email kept exactly as handed to the SMTP server.

Before this module syncd kept only an email's Message-ID and the invoices it listed; a
case file needs the body the customer received. Messages are kept from now on (emails
sent before the upgrade show their Message-ID, subject-less, in the communication log).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from connectors.base import PermanentError

from ..store import Store
from ..store.ladder import Letter, SentMessage
from ..store.models import OutboxAction


def attach_letter(store: Store, message: EmailMessage, row: OutboxAction) -> None:
    """Attach the letter an email carries (``payload["letter_id"]``), checked against the
    digest recorded when it was made: a letter changed on disk is never sent."""
    letter_id = row.payload.get("letter_id")
    if letter_id is None:
        return
    with store.sessions() as session:
        letter = session.get(Letter, int(letter_id))
    if letter is None:
        raise PermanentError(f"letter {letter_id} is not in the store")
    try:
        data = Path(letter.path).read_bytes()
    except OSError as exc:
        raise PermanentError(f"letter {letter_id}: cannot read {letter.path}: {exc}") from None
    if hashlib.sha256(data).hexdigest() != letter.sha256:
        raise PermanentError(f"letter {letter_id}: {letter.path} changed since it was made")
    message.add_attachment(
        data, maintype="application", subtype="pdf", filename=Path(letter.path).name
    )


def keep_sent(
    store: Store, org_id: int, row: OutboxAction, message: EmailMessage, now: datetime
) -> None:
    """Store the message about to be handed to SMTP (replacing an earlier attempt's)."""
    raw = message.as_bytes(policy=SMTP).decode("utf-8", "replace")
    with store.sessions.begin() as session:
        kept = session.query(SentMessage).filter(SentMessage.action_id == row.id).one_or_none()
        if kept is None:
            kept = SentMessage(org_id=org_id, action_id=row.id)
            session.add(kept)
        kept.customer_provider_id = row.customer_provider_id
        kept.message_id = str(message["Message-ID"])
        kept.subject = str(message["Subject"] or "")
        kept.raw = raw
        kept.created_at = now
