"""Customers without a signup date: imported now with last year's orders, every profile keeps its
attributes at the default (past) as-of date, and one who never bought is a potential customer."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.ingest.helpers import rows, run_cli

SHOP = "atelier"


def test_profiles_without_signup_dates_keep_their_attributes_at_a_past_as_of(
        store_engine: Engine, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from clientlens.analysis.store_io import load_snapshot

    monkeypatch.chdir(tmp_path)
    year = datetime.now().year - 1
    customers = tmp_path / "customers.csv"
    customers.write_text(
        "customer_id,name,email,birth_date,gender,kind,country\n"
        "A1,Alena Horáková,alena@example.cz,1990-04-01,female,individual,CZ\n"
        "B2,Bohdan Král,bohdan@example.cz,1950-02-11,male,company,CZ\n"
        "C3,Carla Rossi,carla@example.it,2008-09-09,female,individual,IT\n"
        "D4,Dita Nová,dita@example.cz,1985-01-01,female,individual,CZ\n", encoding="utf-8")
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,customer_id,order_date,total,currency\n"
        f"O1,A1,{year}-02-01,40.00,CZK\nO2,A1,{year}-05-03,55.00,CZK\nO3,B2,{year}-03-10,900.00,CZK\n"
        f"O4,C3,{year}-06-30,12.00,CZK\n", encoding="utf-8")
    for entity, path in (("customers", customers), ("orders", orders)):
        res = run_cli(store_url, "import", entity, str(path), "--shop", SHOP)
        assert res.code == 0, res.out
    stamps = rows(store_engine, "SELECT external_id, created_at, imported_at FROM customers ORDER BY external_id")
    assert [(r[0], r[1]) for r in stamps] == [("A1", None), ("B2", None), ("C3", None), ("D4", None)]
    assert all(r[2] is not None for r in stamps)  # the import time, kept apart

    res = run_cli(store_url, "analyze", "--shop", SHOP, "--no-scores")
    assert res.code == 0, res.out
    snap = load_snapshot(store_engine, SHOP)
    assert snap.as_of.isoformat() == f"{year}-06-30"  # the last order, in the past
    labels = snap.labels.pivot_table(index="customer_id", columns="taxonomy", values="label", aggfunc="first")
    assert sorted(labels.index) == ["A1", "B2", "C3", "D4"]
    assert labels.loc[["A1", "B2", "C3", "D4"], "customer_type"].tolist() == [
        "individual", "professional", "individual", "individual"]
    assert labels.loc[["A1", "B2", "C3", "D4"], "gender"].tolist() == ["female", "male", "female", "female"]
    assert labels.loc[["A1", "B2", "C3", "D4"], "geography"].tolist() == [
        "domestic", "domestic", "international", "domestic"]
    assert labels.loc["B2", "age_band"] == "senior" and labels.loc["C3", "age_band"] == "youth"
    assert labels.loc["A1", "age_band"] == "adult" and labels.loc["D4", "age_band"] == "adult"
    assert labels.loc["D4", "lifecycle"] == "potential"
    names = snap.features.set_index("customer_id")["name"]
    assert names["A1"] == "Alena Horáková" and names["D4"] == "Dita Nová"


def test_a_profile_without_signup_date_exists_from_its_first_order(
        store_engine: Engine, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """At an as-of before a customer's first order, a profile without a signup date is not there yet."""
    from clientlens.analysis.store_io import load_snapshot

    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.csv").write_text("customer_id,name\nE1,Early\nL1,Late\nN1,Never\n")
    (tmp_path / "o.csv").write_text("customer_id,order_date,total\nE1,2025-01-05,10\nE1,2025-02-05,10\n"
                                    "L1,2025-06-01,10\n")
    for entity, name in (("customers", "c.csv"), ("orders", "o.csv")):
        assert run_cli(store_url, "import", entity, str(tmp_path / name), "--shop", SHOP).code == 0
    res = run_cli(store_url, "analyze", "--shop", SHOP, "--no-scores", "--as-of", "2025-03-01")
    assert res.code == 0, res.out
    snap = load_snapshot(store_engine, SHOP)
    assert sorted(snap.features["customer_id"]) == ["E1", "N1"]


def test_the_migration_moves_import_stamps_out_of_created_at(store_url: str) -> None:
    """Stores from before revision 0011: a created_at equal to the start of a customers import run of
    the shop was the import time (cleared, kept as imported_at); a real signup date stays."""
    from sqlalchemy import text

    from clientlens.store.db import make_engine, upgrade

    engine = make_engine(store_url)
    upgrade(engine, "0009")
    stamp, signup = datetime(2026, 11, 30, 9, 0, 0), datetime(2021, 5, 1, 12, 0, 0)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO shops (id, name, created_at) VALUES (1, 'old', :t)"), {"t": stamp})
        conn.execute(text("INSERT INTO import_runs (shop_id, entity, source, started_at, status) "
                          "VALUES (1, 'customers', 'c.csv', :t, 'finished')"), {"t": stamp})
        conn.execute(text("INSERT INTO customers (shop_id, external_id, created_at) VALUES "
                          "(1, 'stamped', :t), (1, 'signed-up', :s)"), {"t": stamp, "s": signup})
    upgrade(engine)
    got = sorted(rows(engine, "SELECT external_id, created_at, imported_at FROM customers"))
    engine.dispose()
    as_dt = [(r[0], None if r[1] is None else str(r[1])[:19], str(r[2])[:19]) for r in got]
    assert as_dt == [("signed-up", "2021-05-01 12:00:00", "2021-05-01 12:00:00"),
                     ("stamped", None, "2026-11-30 09:00:00")]
