"""A local SMTP server (aiosmtpd) that keeps every message as an ``.eml`` file.

Reminders go through syncd's real SMTP client to this server, so what lands in the folder is
byte for byte what a customer's mail server would have received; open any file in a mail
program to see it as the customer would.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class EmlFolder:
    """aiosmtpd handler: one numbered ``.eml`` file per accepted message."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.count += 1
            path = self.folder / f"{self.count:05d}.eml"
        raw: bytes = envelope.original_content or envelope.content
        path.write_bytes(raw)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def mail_catcher(folder: Path) -> Iterator[tuple[EmlFolder, int]]:
    """An SMTP server on a free loopback port writing into ``folder`` while the block runs."""
    folder.mkdir(parents=True, exist_ok=True)
    handler = EmlFolder(folder)
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()
