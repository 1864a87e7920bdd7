"""The store reader (SQLite and PostgreSQL) and the files reader give the canonical frames."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from clientlens.config import load_settings
from clientlens.datasets import load_cdnow_sample
from clientlens.errors import InputError, StoreError
from clientlens.features import (
    DuckDBEngine,
    customer_features,
    features_to_pandas,
    load_file_frames,
    load_store_frames,
)
from clientlens.features.frames import arrow_schema
from clientlens.store import models as m
from clientlens.store.db import session_scope

T0 = dt.datetime(2024, 3, 1, 12, 0)


def _fill(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        shop = m.Shop(name="demo", created_at=T0)
        other = m.Shop(name="other", created_at=T0)
        s.add_all([shop, other])
        s.flush()
        alice = m.Customer(shop_id=shop.id, external_id="alice", name="Alice", country="PL",
                           birth_date=dt.date(1990, 5, 1), consent_email=True)
        bob = m.Customer(shop_id=shop.id, external_id="bob", name="Bob", country="DE")
        s.add_all([alice, bob])
        s.flush()
        bob_old = m.Customer(shop_id=shop.id, external_id="bob-old", name="Bob", merged_into_id=bob.id)
        stranger = m.Customer(shop_id=other.id, external_id="alice", name="Other shop")
        s.add_all([bob_old, stranger])
        s.flush()
        book = m.Product(shop_id=shop.id, external_id="book", category="books", price_minor=2000, currency="PLN")
        s.add(book)
        s.flush()
        rows = [
            (alice, "o1", T0, "online", "PLN", 12345, 0, "completed"),
            (alice, "o2", T0 + dt.timedelta(days=3), "in_store", "EUR", 1000, 100, "completed"),
            (bob_old, "o3", T0 + dt.timedelta(days=5), "online", "JPY", 1500, 0, "completed"),
            (bob, "o4", T0 + dt.timedelta(days=6), "phone", "PLN", 500, 0, "returned"),
            (stranger, "x1", T0, "online", "PLN", 999999, 0, "completed"),
        ]
        orders = {}
        for cust, ext, at, ch, cur, total, disc, status in rows:
            o = m.Order(shop_id=cust.shop_id, external_id=ext, customer_id=cust.id, ordered_at=at, channel=ch,
                        currency=cur, total_minor=total, discount_minor=disc, status=status)
            s.add(o)
            orders[ext] = o
        s.flush()
        s.add(m.OrderLine(shop_id=shop.id, external_id="l1", order_id=orders["o2"].id, product_id=book.id,
                          quantity=2, unit_price_minor=550, discount_minor=100, is_new_arrival=True))
        s.add_all([
            m.ExchangeRate(shop_id=shop.id, date=dt.date(2024, 3, 1), currency="EUR", rate_to_reporting=4.0),
            m.ExchangeRate(shop_id=shop.id, date=dt.date(2024, 3, 4), currency="EUR", rate_to_reporting=4.5),
            m.ExchangeRate(shop_id=shop.id, date=dt.date(2024, 3, 10), currency="JPY", rate_to_reporting=0.03),
        ])
        inter = m.Interaction(shop_id=shop.id, external_id="i1", customer_id=bob_old.id, channel="email",
                              occurred_at=T0)
        s.add(inter)
        s.flush()
        s.add(m.Feedback(shop_id=shop.id, external_id="f1", customer_id=alice.id, kind="csat", score=4,
                         submitted_at=T0, interaction_id=inter.id))


def test_store_frames_convert_money_and_follow_merges(store_engine) -> None:  # type: ignore[no-untyped-def]
    _fill(store_engine)
    settings = load_settings(search_cwd=False)
    frames = load_store_frames(store_engine, "demo", settings)
    for kind in ("orders", "order_lines", "products", "interactions", "feedback"):
        assert frames[kind].schema.equals(arrow_schema(kind), check_metadata=False), kind
    orders = frames["orders"].to_pandas().set_index("order_id").sort_index()
    assert list(orders.index) == ["o1", "o2", "o3", "o4"]  # not the other shop's order
    # PLN is the most common currency; EUR at the rate of 2024-03-04, JPY (no minor unit) at the later rate
    assert orders["total"].tolist() == pytest.approx([123.45, 10.0 * 4.5, 1500 * 0.03, 5.0])
    assert orders.loc["o2", "discount_total"] == pytest.approx(4.5)
    assert orders.loc["o3", "customer_id"] == "bob"  # merged profile mapped to the survivor
    assert orders.loc["o1", "order_date"] == pd.Timestamp(T0)
    customers = frames["customers"].to_pandas()
    assert sorted(customers["customer_id"]) == ["alice", "bob"]
    assert customers.set_index("customer_id").loc["alice", "consent_email"]
    lines = frames["order_lines"].to_pandas()
    assert lines.iloc[0].to_dict() == {"order_id": "o2", "product_id": "book", "category": "books",
                                            "quantity": 2.0, "unit_price": pytest.approx(5.5 * 4.5),
                                            "discount": pytest.approx(4.5), "is_new_arrival": True}
    assert frames["interactions"].to_pandas()["customer_id"].tolist() == ["bob"]
    assert frames["feedback"].to_pandas()["interaction_id"].tolist() == ["i1"]
    feats = features_to_pandas(customer_features(frames, as_of=dt.date(2024, 3, 31), home_country="PL",
                                                 settings=settings).to_pyarrow()).set_index("customer_id")
    assert feats.loc["bob", "orders"] == 1 and feats.loc["bob", "return_rate"] == pytest.approx(0.5)
    assert feats.loc["alice", "total_spend"] == pytest.approx(123.45 + 45.0)
    assert feats.loc["alice", "is_domestic"] and not feats.loc["bob", "is_domestic"]


def test_store_errors_name_the_problem(store_engine) -> None:  # type: ignore[no-untyped-def]
    _fill(store_engine)
    settings = load_settings(search_cwd=False)
    with pytest.raises(StoreError, match="'nowhere' does not exist"):
        load_store_frames(store_engine, "nowhere", settings)
    usd = load_settings(search_cwd=False, overrides={"shops": {"demo": {"currency": "USD"}}})
    with pytest.raises(StoreError, match="no exchange rate from PLN"):
        load_store_frames(store_engine, "demo", usd)


def test_files_reader_folder_and_single_file(tmp_path: Path) -> None:
    settings = load_settings(search_cwd=False)
    cdnow = load_cdnow_sample()
    single = tmp_path / "cdnow.csv"
    cdnow.rename(columns={"total": "dollar_value", "order_date": "date"}).to_csv(single, index=False)
    folder = tmp_path / "shop"
    folder.mkdir()
    cdnow.to_parquet(folder / "orders.parquet")
    pd.DataFrame({"customer_id": ["1", "99999"], "country": ["US", "PL"]}).to_csv(folder / "Customers.csv",
                                                                                   index=False)
    with DuckDBEngine() as eng:
        one = load_file_frames(single, eng, settings=settings)
        assert set(one) == {"orders"} and one.rejected == 0
        n = eng.to_pandas(one["orders"].aggregate(n=one["orders"].count(), s=one["orders"].total.sum()))
        assert int(n["n"][0]) == len(cdnow) and float(n["s"][0]) == pytest.approx(cdnow["total"].sum())
        many = load_file_frames(folder, eng, settings=settings)
        assert set(many) == {"orders", "customers"}
        feats = eng.to_pandas(customer_features(many, as_of=dt.date(1998, 6, 30), home_country="US",
                                                settings=settings))
        assert len(feats) == cdnow["customer_id"].nunique() + 1  # the customer who never bought
        raw = load_file_frames(folder, eng, settings=settings, validate=False)
        assert eng.to_arrow(raw["orders"]).num_rows == len(cdnow)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no frame files here")
    with DuckDBEngine() as eng, pytest.raises(InputError, match="no orders file"):
        load_file_frames(empty, eng, settings=settings)
    with DuckDBEngine() as eng, pytest.raises(InputError, match="no such file"):
        load_file_frames(tmp_path / "missing.csv", eng, settings=settings)
