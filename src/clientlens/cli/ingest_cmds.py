"""``clientlens import ENTITY FILE``: load a file into the store.

Exit codes: 0 every row kept, 3 some rows rejected (see the quarantine file), 4 the file is unusable
(nothing changed), 1 the import failed (rolled back whole, its run marked failed) or another import
into the shop is still running.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from clientlens.cli.common import (
    DEFAULT_SHOP,
    EXIT_ERROR,
    EXIT_REJECTED,
    EXIT_UNUSABLE,
    Shop,
    app_context,
    console,
    err_console,
)
from clientlens.errors import InputError, StoreError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from clientlens.config import Settings
    from clientlens.ingest import ImportReport, ParseOptions


class Entity(StrEnum):
    customers = "customers"
    orders = "orders"
    order_lines = "order-lines"
    products = "products"
    interactions = "interactions"
    feedback = "feedback"
    rates = "rates"


EntityArg = Annotated[Entity, typer.Argument(help="What the file holds.")]
FileArg = Annotated[Path, typer.Argument(help="CSV (any delimiter, .gz too), Parquet or .xlsx file.")]
MappingOpt = Annotated[Path | None, typer.Option("--mapping", help="TOML mapping file: a columns table and a "
                                                 "parse table (see docs/import.md).")]
EncodingOpt = Annotated[str | None, typer.Option("--encoding", help="Text encoding (default: detected).")]
DateFormatOpt = Annotated[str | None, typer.Option("--date-format", help="strftime format, e.g. %d/%m/%Y.")]
DecimalOpt = Annotated[str | None, typer.Option("--decimal", help="Decimal separator: '.' or ','.")]
DelimiterOpt = Annotated[str | None, typer.Option("--delimiter", help="Field delimiter (default: detected).")]
CurrencyOpt = Annotated[str | None, typer.Option("--currency", help="Currency of amounts when the file has none.")]


def import_cmd(ctx: typer.Context, entity: EntityArg, file: FileArg, shop: Shop = DEFAULT_SHOP,
               mapping: MappingOpt = None, encoding: EncodingOpt = None, date_format: DateFormatOpt = None,
               decimal: DecimalOpt = None, delimiter: DelimiterOpt = None, currency: CurrencyOpt = None) -> None:
    """Import customers, orders, order lines, products, interactions, feedback or rates."""
    from clientlens.ingest import ParseOptions

    actx = app_context(ctx)
    options = ParseOptions(date_format=date_format, decimal=decimal, delimiter=delimiter, encoding=encoding,
                           currency=currency)
    try:
        report = _run(actx.ready_engine(), actx.settings, shop, entity.value, file, mapping, options)
    except InputError as exc:
        _error(exc)
        err_console.print("nothing was imported", highlight=False)
        raise typer.Exit(EXIT_UNUSABLE) from exc
    except StoreError as exc:
        _error(exc)
        raise typer.Exit(EXIT_ERROR) from exc
    _summary(report)
    from clientlens.service.imports import after_import

    after_import(actx.ready_engine(), actx.settings, shop, entity.value)  # new messages join their conversations
    if report.rejected:
        raise typer.Exit(EXIT_REJECTED)


def _run(engine: Engine, settings: Settings, shop: str, entity: str, file: Path, mapping: Path | None,
         options: ParseOptions) -> ImportReport:
    """``import_file`` with a progress bar (rows loaded so far)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from clientlens.ingest import import_file

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as bar:
        task = bar.add_task(f"import {file.name}", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        return import_file(engine, shop, entity, file, mapping=mapping, options=options, settings=settings,
                           progress=progress)


def _error(exc: Exception) -> None:
    err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)


def _summary(report: ImportReport) -> None:
    """The counts table, the one-line summary and the first rejections."""
    c = report.counts()
    table = Table()
    table.add_column(f"{report.entity} -> shop {escape(report.shop)}")
    table.add_column("count", justify="right")
    for key, value in c.items():
        table.add_row(key, f"{value:,}")
    console.print(table)
    console.print(f"{escape(report.file)}: " + ", ".join(f"{k} {v:,}" for k, v in c.items()),
                  highlight=False, soft_wrap=True)
    if not report.rejected:
        return
    for rej in report.rejections:
        err_console.print(f"rejected: {escape(rej.describe())}", highlight=False, soft_wrap=True)
    more = report.rejected - len({r.row for r in report.rejections})
    if more > 0:
        err_console.print(f"... and {more:,} more rejected rows", highlight=False)
    err_console.print(f"{report.rejected:,} rows rejected; see {report.quarantine}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``import`` to the root app."""
    app.command("import")(import_cmd)
