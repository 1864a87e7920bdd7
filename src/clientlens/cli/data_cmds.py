"""``clientlens generate``: write the sample shop (or a larger synthetic one) as files."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from clientlens.cli.common import console


def _as_of(value: str | None) -> date:
    from clientlens.datasets.generator import DEFAULT_AS_OF

    try:
        return date.fromisoformat(value) if value else DEFAULT_AS_OF
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a date YYYY-MM-DD", param_hint="--as-of") from exc


def generate(
    customers: Annotated[int, typer.Option("--customers", min=1,
                                           help="Number of customers to generate.")] = 5000,
    out: Annotated[Path, typer.Option(  # required: "..." is Typer's "no default"
        "--out", help="Folder to write the files into (created if needed).")] = ...,  # type: ignore[assignment]
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same files.")] = 0,
    format: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    as_of: Annotated[str | None, typer.Option("--as-of",
                                              help="Last day of the history (YYYY-MM-DD).")] = None,
    chunk_size: Annotated[int, typer.Option("--chunk-size", min=1,
                                            help="Customers per chunk when streaming Parquet.")] = 100_000,
    workers: Annotated[int, typer.Option("--workers", min=1,
                                         help="Processes generating Parquet chunks.")] = 1,
) -> None:
    """Generate the documented sample shop: customers, orders, order lines, products,
    interactions, feedback, and the ground truth of each customer's archetypes (truth file)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from clientlens.datasets.generator import generate_shop, generate_to_parquet, write_shop

    if format not in ("csv", "parquet"):
        raise typer.BadParameter("must be csv or parquet", param_hint="--format")
    end = _as_of(as_of)
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("generating customers", total=customers)

        def advance(n: int) -> None:
            progress.advance(task, n)

        if format == "parquet":
            paths = generate_to_parquet(customers, out, chunk_size=chunk_size, seed=seed, as_of=end,
                                        progress=advance, workers=workers)
        else:
            shop = generate_shop(customers, seed=seed, as_of=end, progress=advance)
            paths = write_shop(shop, out, format="csv")
    for name, path in paths.items():
        console.print(f"{name:13} {path}")
    console.print(f"sample shop of {customers:,} customers (seed {seed}, as of {end.isoformat()}) "
                  f"written to {out}")


def register(app: typer.Typer) -> None:
    """Add ``generate`` to the root app."""
    app.command("generate")(generate)
