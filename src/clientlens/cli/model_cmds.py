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

    from clientlens.features.store_reader import currency_exponent
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
    # Minor units to amounts by each currency's ISO 4217 exponent (the store reader's rule).
    orders["total"] = orders["total_minor"].astype(float) * orders["currency"].map(
        lambda c: 10.0 ** -currency_exponent(str(c))).astype("float64")
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    return orders[["customer_id", "order_id", "order_date", "currency", "total", "status"]]


def _report_row(r: Any, best: str) -> list[str]:
    def num(v: float, fmt: str) -> str:
        return "" if v != v else format(v, fmt)

    mark = " (best)" if r.name == best else ""
    return [r.name + mark, r.status, num(r.holdout_log_likelihood, ".4f"), num(r.predicted_total, ",.1f"),
            num(r.actual_total, ",.0f"), num(r.mae, ".4f"), num(r.rmse, ".4f"), num(r.predicted_spend, ",.0f"),
            num(r.actual_spend, ",.0f"), num(r.spend_mae, ",.2f")]


def print_validation(result: Any) -> None:
    """The models and baselines table, then the mean holdout purchases by calibration frequency."""
    table = Table("model", "fit", "holdout LL / customer", "holdout predicted", "holdout actual", "MAE", "RMSE",
                  "spend predicted", "spend actual", "spend MAE",
                  title="holdout: models (best = highest holdout log-likelihood) and baselines")
    for r in result.reports + result.baselines:
        table.add_row(*_report_row(r, result.best))
    console.print(table)
    freq = Table("calibration frequency", "customers", "actual", *[r.name for r in result.reports],
                 title="mean holdout purchases")
    for _, row in result.by_frequency.iterrows():
        freq.add_row(str(row["frequency"]), f"{int(row['customers']):,}", f"{row['actual']:.3f}",
                     *[f"{row[r.name]:.3f}" for r in result.reports])
    console.print(freq)
    if result.next_order is not None:
        nxt = Table("method", "customers", "coverage", "median |error| days", "mean |error| days",
                    title="next order date of the customers who bought in the holdout")
        for _, row in result.next_order.iterrows():
            nxt.add_row(str(row["method"]), f"{int(row['customers']):,}", f"{row['coverage']:.1%}",
                        f"{row['median_abs_error_days']:.0f}", f"{row['mean_abs_error_days']:.0f}")
        console.print(nxt)


def validate(
    ctx: typer.Context,
    shop: str = ShopOption,
    calibration_end: str = typer.Option(None, "--calibration-end",
                                        help="Last day of the calibration period (default: the automatic split)."),
    holdout_end: str = typer.Option(None, "--holdout-end", help="Last day of the holdout (default: last order)."),
    out: Path = typer.Option(None, "--out", help="Folder for the plots (default: ./validation-<shop>)."),
    save: bool = typer.Option(True, "--save/--no-save",
                              help="Record the best model as the shop's model choice (used by `analyze`)."),
) -> None:
    """Fit every model on the calibration period and compare its holdout predictions with what
    customers did, against baselines; name the best model (highest holdout log-likelihood) and save
    it as the model `analyze` uses until the next validation."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from clientlens.errors import InputError
    from clientlens.models.config import model_settings
    from clientlens.models.validation import (
        auto_split,
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
        if calibration_end is None:
            last = str(pd.Timestamp(orders["order_date"].max()).date()) if len(orders) else None
            as_of = holdout_end or last
            split = auto_split(orders, as_of, cfg) if as_of else None
            if split is None:
                raise InputError(f"shop {shop}: the history is too short for the automatic calibration/holdout "
                                 "split ([models] min_holdout_days, min_calibration_days); give --calibration-end")
            calibration_end, holdout_end = split

        def step(name: str) -> None:
            progress.update(task, description=f"fitting {name}")
            progress.advance(task)

        result = validate_models(orders, calibration_end=calibration_end, holdout_end=holdout_end,
                                 time_unit=actx.settings.features.time_unit, settings=cfg, progress=step)
        progress.update(task, description="plotting")
        paths = plot_validation(result, out or Path(f"validation-{shop}"))
        progress.advance(task)
    console.print(f"shop {shop}: {result.customers:,} customers; calibration to {result.calibration_end}, "
                  f"holdout to {result.holdout_end} (time unit {result.time_unit}); spend model "
                  f"{result.meta.get('spend_model')}")
    print_validation(result)
    console.print("plots: " + ", ".join(str(p) for p in paths))
    console.print(f"best model: [bold]{result.best}[/bold]")
    if save:
        path = selection_path(actx.db_url, cfg.selection_file)
        save_selection(path, shop, result)
        console.print(f"saved as the model of shop {shop} in {path}")


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
