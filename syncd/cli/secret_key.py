"""``syncd secret-key``: make the key that encrypts stored OAuth tokens.

The config's ``[store] key_file`` (default ``syncd.key`` next to the config) is generated on
first use anyway; this command lets the person deploying syncd make it up front (to back it
up, or to put it in a secret store and set ``secret_key = "${SYNCD_SECRET_KEY}"``).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import typer
from cryptography.fernet import Fernet

from .output import fail


def secret_key_cmd(
    out: Path | None = typer.Option(
        None,
        "--out",
        dir_okay=False,
        help="Write the key to this file (created 0600, never overwritten); "
        "default: print it on stdout.",
    ),
) -> None:
    """Generate a new Fernet key for [store] secret_key or key_file.

    Losing the key means reconnecting every org (stored tokens cannot be decrypted);
    keep a copy with your backups, apart from the database.
    """
    key = Fernet.generate_key()
    if out is None:
        typer.echo(key.decode())
        return
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    except FileExistsError:
        fail(f"{out} exists; a key is never overwritten (tokens encrypted with it would be lost)")
    except OSError as exc:
        fail(f"cannot create {out}: {exc.strerror}")
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
    typer.echo(f"key written to {out} (mode 0600)", err=True)
