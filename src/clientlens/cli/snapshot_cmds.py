"""``clientlens snapshots list|delete DATE``: the analyses kept in the store."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from clientlens.cli.common import DEFAULT_SHOP, Shop, TableOrJson, add_commands, app_context, console


def list_(ctx: typer.Context, shop: Shop = DEFAULT_SHOP, format: TableOrJson = "table") -> None:
    """The shop's snapshots, oldest first; the current one is the newest whose as-of is not in the future."""
    from clientlens.analysis.store_io import list_snapshots

    rows = list_snapshots(app_context(ctx).engine, shop)
    if format == "json":
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    table = Table("as of", "engine", "created")
    for r in rows:
        table.add_row(r["as_of"].isoformat(), r["engine"], str(r["created_at"]))
    console.print(table if rows else f"shop {shop!r} has no snapshots; run clientlens analyze --shop {shop}")


def delete_(ctx: typer.Context, as_of: Annotated[str, typer.Argument(metavar="DATE", help="As-of date (YYYY-MM-DD).")],
            shop: Shop = DEFAULT_SHOP) -> None:
    """Remove one snapshot (its features, labels, scores and summary); audited."""
    from clientlens.analysis.store_io import delete_snapshot
    from clientlens.service.auth import audit
    from clientlens.store.db import session_scope

    try:
        day = date.fromisoformat(as_of)
    except ValueError as exc:
        raise typer.BadParameter(f"{as_of!r} is not a date (YYYY-MM-DD)", param_hint="DATE") from exc
    engine = app_context(ctx).engine
    done = delete_snapshot(engine, shop, day)
    with session_scope(engine) as session:
        audit(session, "cli", "snapshot_deleted", target=day.isoformat(), shop=shop)
    console.print(f"deleted the snapshot of shop {shop!r} as of {day.isoformat()} ({done['labels']:,} labels)")


def register(app: typer.Typer) -> None:
    snapshots = typer.Typer(help="Snapshots (analyses) kept in the store.", no_args_is_help=True)
    app.add_typer(snapshots, name="snapshots")
    add_commands(snapshots, {"list": list_, "delete": delete_})
