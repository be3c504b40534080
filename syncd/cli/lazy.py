"""Sub-commands imported only when run.

Importing every command module up front pulls in the store, SQLAlchemy, alembic, the
policies and the PDF renderer: seconds of start-up for ``syncd --help`` or ``syncd sandbox``,
which need none of them. The root group therefore knows each sub-command by name and by the
first paragraph of its help (all ``syncd --help`` prints of it) and imports its module only
when that command is resolved. tests/cli/test_lazy_cli.py checks the table against the
commands themselves, so a changed docstring cannot leave a stale help line behind.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

import typer
from typer import _click
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True)
class LazyCommand:
    """Where a sub-command lives: ``attr`` of ``syncd.cli.<module>``, a function (a command)
    or a ``typer.Typer`` (``group``)."""

    name: str
    module: str
    attr: str
    help: str
    group: bool = False

    def load(self) -> _click.Command:
        """The command exactly as ``app.command(name)(f)`` / ``app.add_typer(t, name=name)``
        on the root would have built it (same settings as the root ``Typer``)."""
        target: Any = getattr(importlib.import_module(f"syncd.cli.{self.module}"), self.attr)
        holder = typer.Typer(rich_markup_mode=None, pretty_exceptions_enable=False)
        holder.callback()(_no_op)
        if self.group:
            holder.add_typer(target, name=self.name)
        else:
            holder.command(self.name)(target)
        built = typer.main.get_command(holder)
        assert isinstance(built, TyperGroup)
        return built.commands[self.name]


def _no_op() -> None:
    """The holder group's callback: it only makes ``get_command`` return a group."""


def _cmd(name: str, module: str, attr: str, help: str) -> LazyCommand:
    return LazyCommand(name, module, attr, help)


def _grp(name: str, module: str, attr: str, help: str) -> LazyCommand:
    return LazyCommand(name, module, attr, help, group=True)


# In the order ``syncd --help`` lists them (Typer lists commands before groups).
COMMANDS: tuple[LazyCommand, ...] = (
    _cmd("invoices", "invoices", "invoices", "List stored invoices."),
    _cmd(
        "backfill",
        "sync_cmd",
        "backfill",
        "Pull every customer, invoice and payment (resumes an interrupted backfill).",
    ),
    _cmd(
        "sync",
        "sync_cmd",
        "sync",
        "One incremental pass: what changed since the last one, deletions and voids included.",
    ),
    _cmd(
        "sandbox",
        "sandbox_cmd",
        "sandbox",
        "Serve a local, seeded imitation of a provider's API on 127.0.0.1.",
    ),
    _cmd(
        "plan",
        "dunning_cmd",
        "plan",
        "What the next dunning cycle would do, with the reason for each action (read-only).",
    ),
    _cmd(
        "simulate",
        "dunning_cmd",
        "simulate",
        "Replay policies day by day over the stored invoices and their payments (read-only).",
    ),
    _cmd(
        "pause",
        "holds_cmd",
        "pause",
        "Pause dunning of an invoice or a customer until a date (a promise to pay).",
    ),
    _cmd(
        "resume",
        "holds_cmd",
        "resume",
        "End pauses and disputes; dunning continues from where it stood.",
    ),
    _cmd(
        "dispute",
        "holds_cmd",
        "dispute",
        "Mark an invoice or customer disputed: no dunning until resumed.",
    ),
    _cmd(
        "demo",
        "demo_cmd",
        "demo",
        "Two sandbox companies, a local mail catcher and two simulated months of syncd.",
    ),
    _cmd(
        "run-once",
        "run_cmd",
        "run_once_cmd",
        "One full cycle (sync, plan, execute) and exit; non-zero if anything failed.",
    ),
    _cmd(
        "run",
        "run_cmd",
        "run",
        "Run as a service: sync, dunning cycles and the executor on a schedule.",
    ),
    _cmd(
        "retry",
        "run_cmd",
        "retry",
        "Put a failed action back in the queue (under the org's lease).",
    ),
    _cmd(
        "preview",
        "preview_cmd",
        "preview",
        "Render what the executor would do: the email (text, HTML or .eml), note or fee line.",
    ),
    _cmd(
        "check",
        "check_cmd",
        "check",
        "Pre-flight: late-fee settings, customers without email, SMTP login, reference\n"
        "rates and the business's name and address, before anything runs. Writes nothing to\n"
        "the provider and sends no email.",
    ),
    _cmd(
        "secret-key",
        "secret_key",
        "secret_key_cmd",
        "Generate a new Fernet key for [store] secret_key or key_file.",
    ),
    _cmd(
        "connect",
        "connect_cmd",
        "connect",
        "Sign in at the provider and store the org's tokens encrypted (OAuth 2.0 code flow).",
    ),
    _cmd(
        "disconnect",
        "connect_cmd",
        "disconnect",
        "Revoke the org's tokens at the provider and forget them.",
    ),
    _grp("db", "db", "app", "Manage the local store."),
    _grp("config", "config_cmd", "app", "Inspect the configuration."),
    _grp("policy", "dunning_cmd", "policy_app", "Inspect dunning policies."),
    _grp(
        "actions",
        "actions_cmd",
        "app",
        "The action outbox: list (default) or show one action in full.",
    ),
    _grp("review", "review_cmd", "app", "Actions held for review: list (default), approve, skip."),
    _grp(
        "report",
        "report_cmd",
        "app",
        "Reports on receivables and on what syncd's actions achieved.",
    ),
    _grp("payment-plan", "plans_cmd", "app", "Agree, follow and cancel payment plans."),
    _grp(
        "settle",
        "settle_cmd",
        "app",
        "Settle an invoice for less: --org, --invoice, --amount, --pay-by [--note].",
    ),
    _grp(
        "letters",
        "letters_cmd",
        "app",
        "Demand letters: list them (--pending: still to post) and mark them posted.",
    ),
    _grp(
        "handoff",
        "handoff_cmd",
        "app",
        "Hand a customer's debt to an agency or lawyer (case file, no more automatic action).",
    ),
    _grp(
        "customer",
        "customer_cmd",
        "app",
        "A customer's record: everything syncd knows and did, in time order.",
    ),
    _grp(
        "tasks",
        "tasks_cmd",
        "app",
        "Call tasks for people: list (default), show ID, done ID --outcome ...",
    ),
)


class LazyCommands(MutableMapping[str, _click.Command]):
    """A group's ``commands``: every name is known, a command is built on first lookup."""

    def __init__(self, built: MutableMapping[str, _click.Command], lazy: tuple[LazyCommand, ...]):
        self.lazy = {entry.name: entry for entry in lazy}
        self.built: dict[str, _click.Command] = dict(built)
        self._order = [*self.lazy, *(name for name in built if name not in self.lazy)]

    def __getitem__(self, name: str) -> _click.Command:
        if name not in self.built:
            self.built[name] = self.lazy[name].load()
        return self.built[name]

    def __setitem__(self, name: str, command: _click.Command) -> None:
        self.built[name] = command
        if name not in self._order:
            self._order.append(name)

    def __delitem__(self, name: str) -> None:
        if name not in self._order:
            raise KeyError(name)
        self.built.pop(name, None)
        self.lazy.pop(name, None)
        self._order.remove(name)

    def __contains__(self, name: object) -> bool:
        return name in self.built or name in self.lazy

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._order))

    def __len__(self) -> int:
        return len(self._order)


class LazyGroup(TyperGroup):
    """The root group: sub-commands from ``COMMANDS``, imported on use."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = LazyCommands(self.commands, COMMANDS)

    def list_commands(self, ctx: _click.Context) -> list[str]:
        """Names in order, without building the commands (Typer's own walks ``items()``)."""
        return list(self.commands)

    def format_commands(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        """The command list of ``--help`` without importing the commands: a command not
        loaded yet is listed from its help line in ``COMMANDS``."""
        commands = self.commands
        assert isinstance(commands, LazyCommands)
        rows: list[tuple[str, _click.Command]] = []
        for name in self.list_commands(ctx):
            cmd = commands.built.get(name)
            if cmd is None:
                cmd = TyperCommand(name, help=commands.lazy[name].help)
            if not cmd.hidden:
                rows.append((name, cmd))
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _ in rows)
            with formatter.section("Commands"):
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in rows])
