"""``clientlens generate``: write the sample shop (or a larger synthetic one) as files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from clientlens.cli.common import console


def register(app: typer.Typer) -> None:
    """Add ``generate`` to the root app."""

    @app.command("generate")
    def generate(
        customers: int = typer.Option(5000, "--customers", min=1, help="Number of customers to generate."),
        out: Path = typer.Option(..., "--out", help="Folder to write the files into (created if needed)."),
        seed: int = typer.Option(0, "--seed", help="Random seed: the same seed gives the same files."),
        format: str = typer.Option("csv", "--format", help="csv or parquet."),
        as_of: str = typer.Option(None, "--as-of", help="Last day of the history (YYYY-MM-DD)."),
        chunk_size: int = typer.Option(100_000, "--chunk-size", min=1,
                                       help="Customers per chunk when streaming Parquet."),
        workers: int = typer.Option(1, "--workers", min=1, help="Processes generating Parquet chunks."),
    ) -> None:
        """Generate the documented sample shop: customers, orders, order lines, products,
        interactions, feedback, and the ground truth of each customer's archetypes (truth file)."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from clientlens.datasets.generator import (
            DEFAULT_AS_OF,
            generate_shop,
            generate_to_parquet,
            write_shop,
        )

        if format not in ("csv", "parquet"):
            raise typer.BadParameter("must be csv or parquet", param_hint="--format")
        try:
            end = date.fromisoformat(as_of) if as_of else DEFAULT_AS_OF
        except ValueError as exc:
            raise typer.BadParameter(f"{as_of!r} is not a date YYYY-MM-DD", param_hint="--as-of") from exc
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
        console.print(f"sample shop of {customers:,} customers (seed {seed}, as of {end.isoformat()}) written to {out}")
