"""``clientlens validate``: calibration / holdout validation of the transaction models."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.table import Table

from clientlens.cli.common import ShopOption, app_context, console

log = logging.getLogger(__name__)


def read_shop_orders(engine: Any, shop: str, settings: Any) -> pd.DataFrame:
    """The shop's canonical orders frame: the features store reader, or (if it fails) a direct
    SQLAlchemy query of ``store.models.Order`` (merged customers mapped to the surviving profile)."""
    from clientlens.errors import ClientlensError, NotFoundError

    try:
        from clientlens.features.store_reader import load_store_frames

        return load_store_frames(engine, shop, settings)["orders"].to_pandas()  # type: ignore[no-any-return]
    except ClientlensError:
        raise
    except Exception as exc:  # a reader problem must not block validation
        log.warning("store reader failed (%s); reading orders directly", exc)
    from sqlalchemy import select

    from clientlens.store import models as m

    with engine.connect() as conn:
        shop_id = conn.execute(select(m.Shop.id).where(m.Shop.name == shop)).scalar()
        if shop_id is None:
            raise NotFoundError(f"shop {shop!r} does not exist in the store")
        cust = pd.DataFrame(conn.execute(select(m.Customer.id, m.Customer.external_id, m.Customer.merged_into_id)
                                         .where(m.Customer.shop_id == shop_id)).all(),
                            columns=["id", "external_id", "merged_into_id"])
        rows = conn.execute(select(m.Order.external_id, m.Order.customer_id, m.Order.ordered_at, m.Order.total_minor,
                                   m.Order.currency, m.Order.status).where(m.Order.shop_id == shop_id)).all()
    orders = pd.DataFrame(rows, columns=["order_id", "customer_pk", "order_date", "total_minor", "currency", "status"])
    survivor = dict(zip(cust["id"], cust["merged_into_id"].where(cust["merged_into_id"].notna(), cust["id"]),
                        strict=True))
    ext = dict(zip(cust["id"], cust["external_id"], strict=True))
    orders["customer_id"] = orders["customer_pk"].map(lambda pk: ext.get(int(survivor.get(pk, pk) or pk)))
    exponent = orders["currency"].map(lambda c: 0 if str(c).upper() in ("JPY", "KRW", "VND") else 2)
    orders["total"] = orders["total_minor"].astype(float) / 10.0 ** exponent
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    return orders[["customer_id", "order_id", "order_date", "currency", "total", "status"]]


def register(app: typer.Typer) -> None:
    @app.command("validate")
    def validate(
        ctx: typer.Context,
        shop: str = ShopOption,
        calibration_end: str = typer.Option(..., "--calibration-end", help="Last day of the calibration period."),
        holdout_end: str = typer.Option(None, "--holdout-end", help="Last day of the holdout (default: last order)."),
        out: Path = typer.Option(None, "--out", help="Folder for the plots (default: ./validation-<shop>)."),
        save: bool = typer.Option(False, "--save", help="Record the best model for `analyze` (selection file)."),
    ) -> None:
        """Fit every model on the calibration period and compare its holdout predictions with what
        customers did; name the best model (lowest per-customer holdout MAE)."""
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from clientlens.models.config import model_settings
        from clientlens.models.validation import (
            plot_validation,
            save_selection,
            selection_path,
            validate_models,
        )

        actx = app_context(ctx)
        cfg = model_settings(actx.settings)
        with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console,
                      transient=True) as progress:
            task = progress.add_task(f"reading the orders of shop {shop}", total=5)
            orders = read_shop_orders(actx.ready_engine(), shop, actx.settings)
            progress.advance(task)

            def step(name: str) -> None:
                progress.update(task, description=f"fitting {name}")
                progress.advance(task)

            result = validate_models(orders, calibration_end=calibration_end, holdout_end=holdout_end,
                                     time_unit=actx.settings.features.time_unit,
                                     penalizer_coef=cfg.penalizer_coef, progress=step)
            progress.update(task, description="plotting")
            paths = plot_validation(result, out or Path(f"validation-{shop}"))
            progress.advance(task)
        console.print(f"shop {shop}: {result.customers:,} customers; calibration to {result.calibration_end}, "
                      f"holdout to {result.holdout_end} (time unit {result.time_unit})")
        table = Table("model", "log-likelihood", "holdout predicted", "holdout actual", "MAE", "RMSE", "parameters")
        for r in result.reports:
            mark = " (best)" if r.name == result.best else ""
            table.add_row(r.name + mark, f"{r.log_likelihood:,.1f}", f"{r.predicted_total:,.1f}",
                          f"{r.actual_total:,.0f}", f"{r.mae:.4f}", f"{r.rmse:.4f}",
                          " ".join(f"{k}={v:.3g}" for k, v in r.params.items()))
        console.print(table)
        freq = Table("calibration frequency", "customers", "actual", *[r.name for r in result.reports],
                     title="mean holdout purchases")
        for _, row in result.by_frequency.iterrows():
            freq.add_row(str(row["frequency"]), f"{int(row['customers']):,}", f"{row['actual']:.3f}",
                         *[f"{row[r.name]:.3f}" for r in result.reports])
        console.print(freq)
        console.print("plots: " + ", ".join(str(p) for p in paths))
        console.print(f"best model: [bold]{result.best}[/bold]")
        if save:
            path = selection_path(actx.db_url, cfg.selection_file)
            save_selection(path, shop, result)
            console.print(f"saved as the model of shop {shop} in {path}")
