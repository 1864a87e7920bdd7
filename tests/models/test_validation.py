"""Calibration / holdout validation, its plots, the selection file and ``clientlens validate``."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from clientlens.datasets import load_cdnow_sample
from clientlens.errors import InputError
from clientlens.models.validation import (
    load_selection,
    plot_validation,
    save_selection,
    selection_path,
    validate_models,
)


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    return validate_models(load_cdnow_sample(), calibration_end="1997-09-30", holdout_end="1998-06-30")


def test_reports_and_best_model(result) -> None:  # type: ignore[no-untyped-def]
    table = result.table().set_index("name")
    assert table.loc["bg_nbd", "log_likelihood"] == pytest.approx(-9582.4, abs=0.1)
    assert (table["actual_total"] == 1882).all()
    models = table.loc[["bg_nbd", "pareto_nbd", "mbg_nbd"]]
    # the choice is the proper score (holdout log-likelihood), not the MAE
    assert result.best == models["holdout_log_likelihood"].idxmax() == "mbg_nbd"
    assert models["mae"].idxmin() == "pareto_nbd"
    assert (table["rmse"] >= table["mae"]).all()
    # baselines: zero for everyone, the calibration rate times the holdout
    assert table.loc["zero", "predicted_total"] == 0 and table.loc["zero", "mae"] == pytest.approx(1882 / 2357)
    assert table.loc["calibration_rate", "predicted_total"] > 1882
    assert (models["mae"] < table.loc["calibration_rate", "mae"]).all()
    # holdout spend in money: what the repeat customers spent, against expected purchases x spend
    assert (table["actual_spend"] > 0).all() and (models["predicted_spend"] > 0).all()
    assert result.meta["spend_model"] == "gamma_gamma"
    by = result.by_frequency.set_index("frequency")
    assert by["customers"].sum() == 2357 and by.loc["0", "customers"] == 1411
    assert list(by.index)[-1] == "7+"


def test_next_order_dates_against_the_simple_rules(result) -> None:  # type: ignore[no-untyped-def]
    nxt = result.next_order.set_index("method")
    assert set(nxt.index) == {"bg_nbd", "pareto_nbd", "mbg_nbd", "mbg_cnbd_k", "last_purchase_mean_gap",
                              "last_purchase_mean_gap_clipped", "cutoff_median_gap"}
    assert (nxt["customers"] == nxt["customers"].iloc[0]).all() and nxt["customers"].iloc[0] > 500
    assert nxt.loc["cutoff_median_gap", "coverage"] == 1.0
    # clipping the simple rule to after the cut-off only helps it
    assert nxt.loc["last_purchase_mean_gap_clipped", "median_abs_error_days"] <= nxt.loc[
        "last_purchase_mean_gap", "median_abs_error_days"]
    # the models' given-alive medians beat the unclipped simple rule
    assert (nxt.loc[["bg_nbd", "pareto_nbd"], "median_abs_error_days"]
            < nxt.loc["last_purchase_mean_gap", "median_abs_error_days"]).all()


def test_tracking_curve_follows_the_actual_one(result) -> None:  # type: ignore[no-untyped-def]
    tr = result.tracking
    assert tr["actual"].is_monotonic_increasing and tr["bg_nbd"].is_monotonic_increasing
    end_cal = tr[tr["calibration"]].iloc[-1]
    assert abs(end_cal["bg_nbd"] / end_cal["actual"] - 1) < 0.05
    assert abs(tr["pareto_nbd"].iloc[-1] / tr["actual"].iloc[-1] - 1) < 0.05


def test_plots_are_written(result, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    paths = plot_validation(result, tmp_path)
    assert sorted(p.name for p in paths) == ["holdout_by_frequency.png", "holdout_by_frequency.svg",
                                            "tracking_cumulative.png", "tracking_cumulative.svg"]
    assert all(p.stat().st_size > 1000 for p in paths)
    assert (tmp_path / "tracking_cumulative.png").read_bytes()[:4] == b"\x89PNG"


def test_selection_file_round_trip(result, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = selection_path(f"sqlite:///{tmp_path / 'store.db'}", "clientlens.models.json")
    assert path == tmp_path.resolve() / "clientlens.models.json"
    assert load_selection(path, "cdnow") is None
    save_selection(path, "cdnow", result)
    save_selection(path, "other", result)
    assert load_selection(path, "cdnow") == "mbg_nbd"
    assert set(json.loads(path.read_text())) == {"cdnow", "other"}


def test_bad_dates_are_input_errors() -> None:
    with pytest.raises(InputError, match="after the calibration end"):
        validate_models(load_cdnow_sample(), calibration_end="1998-06-30", holdout_end="1998-01-01")
    with pytest.raises(InputError, match="before the first transaction"):
        validate_models(load_cdnow_sample(), calibration_end="1990-01-01")


def test_validate_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from clientlens.cli.main import build_app
    from clientlens.store.db import make_engine, upgrade

    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    _load_orders(engine, "cdnow", load_cdnow_sample())
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(build_app(), ["--db", url, "validate", "--shop", "cdnow", "--calibration-end",
                                           "1997-09-30", "--holdout-end", "1998-06-30", "--save",
                                           "--out", str(tmp_path / "plots")])
    assert res.exit_code == 0, res.output
    assert "best model: mbg_nbd" in res.output and "baselines" in res.output, res.output
    assert load_selection(tmp_path / "clientlens.models.json", "cdnow") == "mbg_nbd"
    assert (tmp_path / "plots" / "tracking_cumulative.svg").exists()


def _load_orders(engine, shop: str, orders: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    """Write orders straight into the store tables (the import command belongs to another area)."""
    from datetime import datetime

    from sqlalchemy.orm import Session

    from clientlens.store import models as m

    with Session(engine) as session:
        s = m.Shop(name=shop, created_at=datetime(2024, 1, 1))
        session.add(s)
        session.flush()
        customers = {}
        for cid in orders["customer_id"].unique():
            c = m.Customer(shop_id=s.id, external_id=str(cid))
            session.add(c)
            customers[cid] = c
        session.flush()
        for i, row in enumerate(orders.itertuples(index=False)):
            session.add(m.Order(shop_id=s.id, external_id=f"o{i}", customer_id=customers[row.customer_id].id,
                                ordered_at=row.order_date.to_pydatetime(), currency="USD",
                                total_minor=int(round(row.total * 100)), discount_minor=0, status="completed"))
        session.commit()


def test_validate_and_analyze_choose_the_same_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`validate` on the automatic split saves its choice next to the store; `analyze`'s scoring
    (same store) uses it until the next validation."""
    from clientlens.cli.main import build_app
    from clientlens.config import load_settings
    from clientlens.models.scoring import score_customers
    from clientlens.store.db import make_engine, upgrade

    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    orders = load_cdnow_sample()
    orders = orders[orders["order_date"] <= "1997-09-30"]
    _load_orders(engine, "cdnow", orders)
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(build_app(), ["--db", url, "validate", "--shop", "cdnow", "--out", str(tmp_path / "p")])
    assert res.exit_code == 0, res.output
    assert "calibration to 1997-07-01" in res.output  # the automatic split: the last third of the days
    chosen = load_selection(tmp_path / "clientlens.models.json", "cdnow")
    assert chosen is not None
    base = load_settings(search_cwd=False)
    settings = base.model_copy(update={"store": base.store.model_copy(update={"url": url})})
    scores = score_customers(orders, None, as_of="1997-09-30", settings=settings, shop="cdnow")
    assert set(scores["model"]) == {chosen}
    assert scores.attrs["models"]["choice"]["source"].startswith("saved by clientlens validate")
    # a shop without a saved choice: analyze validates on the same automatic split (and writes nothing)
    other = score_customers(orders, None, as_of="1997-09-30", settings=settings, shop="other")
    assert set(other["model"]) == {chosen}
    assert other.attrs["models"]["choice"]["source"] == "validation on the automatic split"
    assert load_selection(tmp_path / "clientlens.models.json", "other") is None
