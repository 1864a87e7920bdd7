"""Snapshots in the store (SQLite and PostgreSQL): analyze, replace on re-run, segments, flows,
customer evidence and export, through the CLI, on a small generated sample shop imported into the
store (customers, products, orders and order lines)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from clientlens.analysis.store_io import list_snapshots, load_snapshot, snapshot_flows
from clientlens.cli.main import build_app
from clientlens.config import load_settings
from clientlens.store import models as m

SHOP = "sample-shop"
N = 400
EARLY, LATE = "2025-06-30", "2025-12-31"


@pytest.fixture(scope="module")
def shop_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from clientlens.datasets.generator import generate_shop, write_shop

    return write_shop(generate_shop(N, seed=3), tmp_path_factory.mktemp("shop"), format="csv")


@pytest.fixture(scope="module")
def generated():  # type: ignore[no-untyped-def]
    from clientlens.datasets.generator import generate_shop

    return generate_shop(N, seed=3)


@pytest.fixture(scope="module")
def snapshots(generated):  # type: ignore[no-untyped-def]
    from clientlens.analysis import run_analysis

    frames = {"customers": generated.customers, "orders": generated.orders,
              "order_lines": generated.order_lines, "products": generated.products}
    return {as_of: run_analysis(frames, shop=SHOP, as_of=date.fromisoformat(as_of), scores=False)
            for as_of in (EARLY, LATE)}


@pytest.fixture
def snap_store(store_engine, store_url, snapshots):  # type: ignore[no-untyped-def]
    """Two snapshots (EARLY, LATE) of the generated shop saved to the store, EARLY saved twice."""
    from clientlens.analysis.store_io import save_snapshot

    for as_of in (EARLY, LATE, EARLY):  # the third save replaces the first
        save_snapshot(store_engine, snapshots[as_of])
    return store_engine, store_url


@pytest.fixture
def imported_store(store_engine, store_url, shop_files):  # type: ignore[no-untyped-def]
    from clientlens.ingest import import_file

    settings = load_settings(search_cwd=False)
    for entity, name in (("customers", "customers"), ("products", "products"), ("orders", "orders"),
                         ("order-lines", "order_lines"), ("interactions", "interactions"), ("feedback", "feedback")):
        report = import_file(store_engine, SHOP, entity, shop_files[name], settings=settings)
        assert report.rejected == 0, entity
    return store_engine, store_url


def _cli(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), ["--db", url, *args], catch_exceptions=False)
    return result.exit_code, result.stdout


def snap_buyers(engine) -> int:  # type: ignore[no-untyped-def]
    snap = load_snapshot(engine, SHOP)
    return int((snap.features["orders"] > 0).sum())


def _count(engine, table) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_snapshot_round_trip_replace_and_flows(snap_store, snapshots) -> None:  # type: ignore[no-untyped-def]
    engine, url = snap_store
    snaps = list_snapshots(engine, SHOP)
    assert [s["as_of"].isoformat() for s in snaps] == [EARLY, LATE]
    assert _count(engine, m.Snapshot.__table__) == 2
    late = load_snapshot(engine, SHOP, snaps[1]["as_of"])
    early = load_snapshot(engine, SHOP, snaps[0]["as_of"])
    assert len(late.features) == N and 0 < len(early.features) <= N
    n_labels = _count(engine, m.SnapshotLabel.__table__)
    assert n_labels == len(late.labels) + len(early.labels)
    assert late.labels["customer_id"].is_monotonic_increasing
    original = snapshots[LATE]
    pd.testing.assert_frame_equal(late.labels, original.labels)
    pd.testing.assert_frame_equal(late.summary, original.summary, check_dtype=False)
    for col in ("orders", "total_spend", "recency_days", "promo_item_share"):
        pd.testing.assert_series_equal(late.features[col].astype("float64"),
                                       original.features[col].astype("float64"), check_names=False)
    assert late.features["first_purchase"].notna().sum() == original.features["first_purchase"].notna().sum()
    assert late.pareto_stats["top20_revenue_share"] > 0.5 and 0 < late.pareto_stats["gini"] < 1
    assert len(late.retention) > 0 and late.retention["retention"].between(0, 1).all()
    assert late.run["as_of"] == LATE and late.run["engine"] == "duckdb"
    assert late.run["home_country"]["value"] == "GB" and late.run["reporting_currency"]["value"] == "GBP"

    flows = snapshot_flows(engine, SHOP, snaps[0]["as_of"], snaps[1]["as_of"], taxonomy="lifecycle")
    assert flows["customers"].sum() == N  # every customer has one lifecycle label in the late snapshot
    a = early.labels[early.labels["taxonomy"] == "lifecycle"].set_index("customer_id")["label"]
    b = late.labels[late.labels["taxonomy"] == "lifecycle"].set_index("customer_id")["label"]
    pairs = pd.DataFrame({"to_label": b}).join(a.rename("from_label"), how="left")
    expected = pairs.fillna("-").value_counts().to_dict()
    got = {(r.to_label, r.from_label or "-"): r.customers for r in flows.itertuples(index=False)}
    assert got == expected
    assert ((flows["from_label"] == "loyal") & (flows["to_label"] == "inactive")).any()

    code, out = _cli(url, "flows", "--shop", SHOP, "--from", EARLY, "--to", LATE,
                     "--taxonomy", "lifecycle", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert sum(r["customers"] for r in doc) == N
    assert {r["taxonomy"] for r in doc} == {"lifecycle"}


def test_segments_customer_and_export_commands(snap_store, tmp_path: Path) -> None:
    engine, url = snap_store
    code, out = _cli(url, "segments", "--shop", SHOP, "--taxonomy", "rfm_segment", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert {r["taxonomy"] for r in rows} == {"rfm_segment"}
    assert sum(r["customers"] for r in rows) == int(snap_buyers(engine))
    assert sum(r["revenue_share"] for r in rows) == pytest.approx(1.0)

    code, out = _cli(url, "segments", "--shop", SHOP, "--format", "csv")
    assert code == 0 and out.splitlines()[0] == "taxonomy,label,customers,customers_share,revenue,revenue_share"

    snap = load_snapshot(engine, SHOP)
    cid = snap.labels["customer_id"].iloc[0]
    code, out = _cli(url, "customer", cid, "--shop", SHOP, "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["customer_id"] == cid
    taxonomies = {lab["taxonomy"] for lab in doc["labels"]}
    assert {"rfm_segment", "revenue_tier", "lifecycle", "frequency", "value"} <= taxonomies
    assert all(lab["text"] and isinstance(lab["figures"], dict) and lab["rule_id"] for lab in doc["labels"])

    target = tmp_path / "winback.csv"
    code, out = _cli(url, "export", "--shop", SHOP, "--label", "lifecycle=inactive", "--label", "value=high",
                     "--out", str(target))
    assert code == 0, out
    exported = pd.read_csv(target, dtype={"customer_id": str})
    expected = set(snap.members("lifecycle", "inactive")) & set(snap.members("value", "high"))
    assert set(exported["customer_id"]) == expected and len(expected) > 0
    assert (exported["lifecycle"] == "inactive").all() and (exported["value"] == "high").all()
    for suffix in ("parquet", "xlsx"):
        code, _ = _cli(url, "export", "--shop", SHOP, "--label", "rfm_segment=champions",
                       "--out", str(tmp_path / f"champions.{suffix}"))
        assert code == 0
    assert len(pd.read_parquet(tmp_path / "champions.parquet")) == len(snap.members("rfm_segment", "champions"))
    assert len(pd.read_excel(tmp_path / "champions.xlsx")) == len(snap.members("rfm_segment", "champions"))


def test_unknown_snapshot_and_customer_are_clear_errors(snap_store) -> None:
    _, url = snap_store
    result = CliRunner().invoke(build_app(), ["--db", url, "segments", "--shop", SHOP, "--as-of", "2020-01-01"])
    assert result.exit_code == 1 and "no snapshot as of 2020-01-01" in str(result.exception)
    result = CliRunner().invoke(build_app(), ["--db", url, "customer", "no-such-id", "--shop", SHOP])
    assert result.exit_code == 1 and "no-such-id" in str(result.exception)


def test_analyze_store_mode_writes_and_replaces_a_snapshot(imported_store) -> None:
    engine, url = imported_store
    for _ in range(2):
        code, out = _cli(url, "analyze", "--shop", SHOP, "--no-scores")
        assert code == 0, out
    snaps = list_snapshots(engine, SHOP)
    assert [s["as_of"].isoformat() for s in snaps] == [LATE]
    snap = load_snapshot(engine, SHOP)
    assert len(snap.features) == N
    assert _count(engine, m.SnapshotLabel.__table__) == len(snap.labels)
    code, out = _cli(url, "status", "--format", "json")
    assert json.loads(out)["shops"][SHOP]["last_analysis"]["as_of"] == LATE


def test_analyze_an_orders_only_shop_with_model_scores(store_engine, store_url, tmp_path: Path) -> None:
    """The real CDNOW sample (orders only: no customers file, no lines) analysed from the store with
    the model scores, which are stored beside the labels."""
    from clientlens.datasets import load_cdnow_sample
    from clientlens.ingest import import_file

    path = tmp_path / "cdnow_sample.csv"
    load_cdnow_sample().to_csv(path, index=False)
    import_file(store_engine, "cdnow", "orders", path, settings=load_settings(search_cwd=False))
    code, out = _cli(store_url, "analyze", "--shop", "cdnow", "--as-of", "1997-09-30")
    assert code == 0, out
    snap = load_snapshot(store_engine, "cdnow")
    assert len(snap.features) == 2357
    assert snap.scores is not None and len(snap.scores) == 2357
    assert snap.scores["p_alive"].between(0, 1).all()
    assert _count(store_engine, m.SnapshotScore.__table__) == 2357
    assert set(snap.labels["taxonomy"]) >= {"rfm_segment", "revenue_tier", "lifecycle", "frequency", "value"}
    assert "channel" not in set(snap.labels["taxonomy"])  # no channel in the CDNOW log
