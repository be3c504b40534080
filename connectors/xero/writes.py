"""The invoice a write is built from, when the executor read it moments before.

The executor confirms invoices with one batched re-read per small group of actions; building
the write from that record instead of reading the invoice again halves the calls of a Xero
fee line. Amounts come back exact: from the text as received when the read kept it.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from connectors.base import InvoiceRecord, PermanentError


def seen_raw(seen: InvoiceRecord) -> dict[str, Any]:
    if seen.raw_json:
        raw = json.loads(seen.raw_json, parse_float=Decimal)
        if isinstance(raw, dict):
            return raw
    if seen.raw:
        return dict(seen.raw)
    raise PermanentError(f"invoice {seen.provider_id}: the read kept no payload to write from")
