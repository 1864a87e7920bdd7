"""``clientlens analyze --source DIR --out OUT``: the Parquet layout of docs/interfaces.md, and the
quarantine + exit code 3 when rows are rejected."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from clientlens.cli.main import build_app

N = 300
FILES = ("features", "labels", "summary", "pareto", "pareto_stats")


@pytest.fixture(scope="module")
def source_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from clientlens.datasets.generator import generate_shop, write_shop

    folder = tmp_path_factory.mktemp("source")
    write_shop(generate_shop(N, seed=11), folder, format="csv")
    (folder / "truth.csv").unlink()
    return folder


@pytest.fixture(scope="module")
def out_dir(source_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    result = CliRunner().invoke(build_app(), ["analyze", "--source", str(source_dir), "--out", str(out),
                                              "--no-scores"], catch_exceptions=False)
    assert result.exit_code == 0, result.stdout
    return out


def test_files_and_columns(out_dir: Path) -> None:
    for name in FILES:
        assert (out_dir / f"{name}.parquet").exists(), name
    assert pq.read_schema(out_dir / "labels.parquet").names == ["customer_id", "taxonomy", "label", "rule_id",
                                                                 "figures", "text"]
    assert pq.read_schema(out_dir / "summary.parquet").names == ["taxonomy", "label", "customers",
                                                                  "customers_share", "revenue", "revenue_share"]
    assert pq.read_schema(out_dir / "pareto.parquet").names == ["customers_share", "revenue_share"]
    assert pq.read_schema(out_dir / "pareto_stats.parquet").names == ["top20_revenue_share", "gini"]
    feats = pq.read_table(out_dir / "features.parquet")
    assert feats.schema.names[0] == "customer_id"
    assert str(feats.schema.field("customer_id").type) in ("string", "large_string")
    for money in ("total_spend", "avg_order_value", "spend_last_90d"):
        assert str(feats.schema.field(money).type) == "double"
    assert feats.num_rows == N


def test_rows_sorted_by_key_and_shares_are_fractions(out_dir: Path) -> None:
    feats = pd.read_parquet(out_dir / "features.parquet")
    assert feats["customer_id"].tolist() == sorted(feats["customer_id"])
    labels = pd.read_parquet(out_dir / "labels.parquet")
    keys = list(zip(labels["customer_id"], labels["taxonomy"], labels["label"], strict=True))
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    summary = pd.read_parquet(out_dir / "summary.parquet")
    assert list(zip(summary["taxonomy"], summary["label"], strict=True)) == sorted(
        zip(summary["taxonomy"], summary["label"], strict=True))
    for col in ("customers_share", "revenue_share"):
        assert summary[col].between(0, 1).all()
    pareto = pd.read_parquet(out_dir / "pareto.parquet")
    assert pareto["customers_share"].is_monotonic_increasing and pareto["revenue_share"].is_monotonic_increasing
    assert pareto.iloc[0].tolist() == [0.0, 0.0] and pareto.iloc[-1].tolist() == [1.0, 1.0]
    stats = pd.read_parquet(out_dir / "pareto_stats.parquet")
    assert len(stats) == 1 and 0 < stats["gini"].iloc[0] < 1 and 0.2 < stats["top20_revenue_share"].iloc[0] <= 1
    # customers_share is over all customers (never-purchased included)
    potential = summary[(summary["taxonomy"] == "lifecycle") & (summary["label"] == "potential")].iloc[0]
    assert potential["customers_share"] == pytest.approx(potential["customers"] / N)


def test_figures_are_json_rounded_to_six_significant_digits(out_dir: Path) -> None:
    labels = pd.read_parquet(out_dir / "labels.parquet")
    for fig in labels["figures"]:
        for value in json.loads(fig).values():
            if isinstance(value, float):
                assert float(f"{value:.6g}") == value


def test_run_json(out_dir: Path) -> None:
    run = json.loads((out_dir / "run.json").read_text("utf-8"))
    for key in ("shop", "as_of", "engine", "time_unit", "config", "versions", "timings", "home_country",
                "reporting_currency"):
        assert key in run, key
    assert run["engine"] == "duckdb" and run["as_of"] == "2025-12-31"
    assert run["home_country"] == {"value": "GB", "source": "most common customer country"}
    assert run["reporting_currency"] == {"value": "GBP", "source": "most common order currency"}
    assert "segments" in run["config"] and set(run["timings"]) >= {"features", "labels", "summary"}


def test_rejected_rows_give_quarantine_and_exit_3(source_dir: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(source_dir, bad)
    orders = (bad / "orders.csv").read_text("utf-8").splitlines()
    header = orders[0].split(",")
    row = orders[1].split(",")
    row[header.index("order_id")] = "BROKEN-1"
    row[header.index("order_date")] = "not a date"
    (bad / "orders.csv").write_text("\n".join([*orders, ",".join(row)]) + "\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(build_app(), ["analyze", "--source", str(bad), "--out", str(out), "--no-scores"])
    assert result.exit_code == 3
    quarantine = tmp_path / "orders.csv.rejected.csv"
    assert quarantine.exists()
    rejected = pd.read_csv(quarantine)
    assert rejected["column"].tolist() == ["order_date"]
    assert (out / "labels.parquet").exists()  # the valid rows were analysed
    assert pd.read_parquet(out / "features.parquet")["customer_id"].nunique() == N


def test_as_of_option_and_bad_engine(source_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "early"
    result = CliRunner().invoke(build_app(), ["analyze", "--source", str(source_dir), "--out", str(out),
                                              "--as-of", "2025-06-30", "--no-scores"])
    assert result.exit_code == 0
    assert json.loads((out / "run.json").read_text("utf-8"))["as_of"] == "2025-06-30"
    result = CliRunner().invoke(build_app(), ["analyze", "--source", str(source_dir), "--out", str(out),
                                              "--engine", "oracle"])
    assert result.exit_code == 2
