"""The demo's folder: its config, SQLite store, key and mail, replaced on every run.

Only files the demo itself writes are removed, so a re-run starts clean without touching
anything else a user may have put in the folder.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from syncd.cli.sandbox_cmd import org_block

from .sandboxes import DemoOrg


class WorkspaceError(RuntimeError):
    """The demo folder cannot be used (a file in the way, no permission)."""


OWNED = ("syncd.toml", "syncd.db", "syncd.db-wal", "syncd.db-shm", "syncd.db-journal", "syncd.key")


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "syncd.toml"

    @property
    def store(self) -> Path:
        return self.root / "syncd.db"

    @property
    def mail(self) -> Path:
        return self.root / "mail"

    def reset(self) -> None:
        """Remove the previous run's config, store, key and mail."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            for name in OWNED:
                (self.root / name).unlink(missing_ok=True)
            shutil.rmtree(self.mail, ignore_errors=True)
            self.mail.mkdir()
        except OSError as exc:
            raise WorkspaceError(
                f"cannot use {self.root} for the demo: {exc.strerror or exc}"
            ) from None

    def write_config(self, orgs: list[DemoOrg], smtp_port: int) -> Path:
        """A config for these sandboxes and the local mail catcher (review stays on: "all")."""
        blocks = []
        for org in orgs:
            config = org.box.org_config()
            blocks.append(org_block(org.provider, org.name, config, org.options, org.timezone))
        text = (
            "# Written by `syncd demo`: the sandboxes it points at only live during the demo.\n"
            '[store]\nurl = "sqlite:///syncd.db"\n\n'
            f'[email]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\n'
            'from_address = "Demo Accounts <accounts@demo.invalid>"\n'
            'reply_to = "accounts@demo.invalid"\n\n' + "\n".join(blocks)
        )
        self.config.write_text(text, encoding="utf-8")
        return self.config
