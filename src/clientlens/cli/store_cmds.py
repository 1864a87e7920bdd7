"""``clientlens init`` and ``clientlens status``."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from clientlens.cli.common import app_context, console


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init(ctx: typer.Context) -> None:
        """Create the store, or upgrade it to the current schema."""
        from clientlens.store.db import head_version, mask_url, schema_version, upgrade

        actx = app_context(ctx)
        before = schema_version(actx.engine)
        upgrade(actx.engine)
        state = "created" if before is None else ("already current" if before == head_version() else f"upgraded from {before}")
        console.print(f"store {mask_url(actx.db_url)}: {state} (schema {head_version()})")

    @app.command("status")
    def status(ctx: typer.Context, format: str = typer.Option("table", "--format", help="table or json")) -> None:
        """What the store holds, per shop."""
        from clientlens.store.status import store_status

        doc = store_status(app_context(ctx).engine)
        if format == "json":
            typer.echo(json.dumps(doc, indent=2))
            return
        console.print(f"store: {doc['store']}  schema: {doc['schema_version'] or 'not initialised (run clientlens init)'}")
        table = Table("shop", "customers", "orders", "order lines", "products", "interactions", "feedback",
                      "last order", "last analysis")
        for name, s in doc["shops"].items():
            la = s["last_analysis"]
            table.add_row(name, *(f"{s[k]:,}" for k in ("customers", "orders", "order_lines", "products",
                                                         "interactions", "feedback")),
                          s["last_order"] or "-", la["as_of"] if la else "-")
        console.print(table)
