"""Webhook receiver for ``syncd run``: signed provider notifications trigger targeted syncs.

The HTTP thread only checks the signature, parses the body and queues what it names; a worker
thread does the reads and writes, so both providers get their answer within their deadlines.
"""

from .receiver import WebhookReceiver
from .signatures import sign, verify

__all__ = ["WebhookReceiver", "sign", "verify"]
