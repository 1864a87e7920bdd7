"""``clientlens init`` and ``clientlens status``."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table

from clientlens.cli.common import TableOrJson, app_context, console

COUNTED = ("customers", "orders", "order_lines", "products", "interactions", "feedback")


def init(ctx: typer.Context) -> None:
    """Create the store, or upgrade it to the current schema."""
    from clientlens.store.db import head_version, mask_url, schema_version, upgrade

    actx = app_context(ctx)
    before = schema_version(actx.engine)
    upgrade(actx.engine)
    if before is None:
        state = "created"
    else:
        state = "already current" if before == head_version() else f"upgraded from {before}"
    console.print(f"store {mask_url(actx.db_url)}: {state} (schema {head_version()})")


def status(ctx: typer.Context, format: TableOrJson = "table") -> None:
    """What the store holds, per shop."""
    from clientlens.store.status import store_status

    doc = store_status(app_context(ctx).engine)
    if format == "json":
        typer.echo(json.dumps(doc, indent=2))
        return
    schema = doc["schema_version"] or "not initialised (run clientlens init)"
    console.print(f"store: {doc['store']}  schema: {schema}")
    console.print(_shops_table(doc["shops"]))


def _shops_table(shops: dict[str, Any]) -> Table:
    table = Table("shop", "customers", "orders", "order lines", "products", "interactions", "feedback",
                  "last order", "last analysis")
    for name, s in shops.items():
        la = s["last_analysis"]
        table.add_row(name, *(f"{s[k]:,}" for k in COUNTED), s["last_order"] or "-",
                      la["as_of"] if la else "-")
    return table


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("status")(status)
