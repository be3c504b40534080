"""``syncd db``: schema management."""

from __future__ import annotations

import typer

from syncd.store.engine import StoreError, current_revision, make_engine, store_errors, upgrade

from .context import fail_store, state_of

app = typer.Typer(help="Manage the local store.", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply every pending migration (other commands do this on their own, too)."""
    state = state_of(ctx)
    url = state.config().store_url
    try:
        with store_errors(url):
            engine = make_engine(url)
            try:
                before = current_revision(engine)
                upgrade(engine)
                after = current_revision(engine)
            finally:
                engine.dispose()
    except StoreError as exc:
        fail_store(exc)
    if before == after:
        typer.echo(f"store is up to date (revision {after})")
    else:
        typer.echo(f"store upgraded from {before or 'empty'} to {after}")
