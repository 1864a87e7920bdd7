"""``clientlens import ENTITY FILE``: load a file into the store (exit 0, 3 rows rejected, 4 unusable)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from clientlens.cli.common import (
    EXIT_ERROR,
    EXIT_REJECTED,
    EXIT_UNUSABLE,
    ShopOption,
    app_context,
    console,
    err_console,
)
from clientlens.errors import InputError, StoreError


class Entity(StrEnum):
    customers = "customers"
    orders = "orders"
    order_lines = "order-lines"
    products = "products"
    interactions = "interactions"
    feedback = "feedback"
    rates = "rates"


def register(app: typer.Typer) -> None:
    """Add ``import`` to the root app."""

    @app.command("import")
    def import_cmd(
        ctx: typer.Context,
        entity: Entity = typer.Argument(..., help="What the file holds."),
        file: Path = typer.Argument(..., help="CSV (any delimiter, .gz too), Parquet or .xlsx file."),
        shop: str = ShopOption,
        mapping: Path = typer.Option(None, "--mapping", help="TOML mapping file: a columns table and a parse table (see docs/import.md)."),
        encoding: str = typer.Option(None, "--encoding", help="Text encoding (default: detected)."),
        date_format: str = typer.Option(None, "--date-format", help="strftime format, e.g. %d/%m/%Y."),
        decimal: str = typer.Option(None, "--decimal", help="Decimal separator: '.' or ','."),
        delimiter: str = typer.Option(None, "--delimiter", help="Field delimiter (default: detected)."),
        currency: str = typer.Option(None, "--currency", help="Currency of amounts when the file has none."),
    ) -> None:
        """Import customers, orders, order lines, products, interactions, feedback or rates."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from clientlens.ingest import ParseOptions, import_file

        actx = app_context(ctx)
        options = ParseOptions(date_format=date_format, decimal=decimal, delimiter=delimiter,
                               encoding=encoding, currency=currency)
        try:
            engine = actx.ready_engine()
            with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=console, transient=False) as bar:
                task = bar.add_task(f"import {file.name}", total=None)

                def progress(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total or None)

                report = import_file(engine, shop, entity.value, file, mapping=mapping, options=options,
                                     settings=actx.settings, progress=progress)
        except InputError as exc:
            err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
            err_console.print("nothing was imported", highlight=False)
            raise typer.Exit(EXIT_UNUSABLE) from exc
        except StoreError as exc:
            err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_ERROR) from exc
        c = report.counts()
        table = Table()
        table.add_column(f"{report.entity} -> shop {escape(report.shop)}")
        table.add_column("count", justify="right")
        for key, value in c.items():
            table.add_row(key, f"{value:,}")
        console.print(table)
        console.print(f"{escape(report.file)}: " + ", ".join(f"{k} {v:,}" for k, v in c.items()),
                      highlight=False, soft_wrap=True)
        if report.rejected:
            for rej in report.rejections:
                err_console.print(f"rejected: {escape(rej.describe())}", highlight=False, soft_wrap=True)
            more = report.rejected - len({r.row for r in report.rejections})
            if more > 0:
                err_console.print(f"... and {more:,} more rejected rows", highlight=False)
            err_console.print(f"{report.rejected:,} rows rejected; see {report.quarantine}", highlight=False)
            raise typer.Exit(EXIT_REJECTED)
