"""The feature table against independent pandas computations, on CDNOW and on a small shop."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from clientlens.config import load_settings
from clientlens.datasets import load_cdnow_master
from clientlens.features import (
    FEATURE_COLUMNS,
    DuckDBEngine,
    customer_features,
    default_as_of,
    default_home_country,
    default_reporting_currency,
    features_to_pandas,
    rfm_summary,
)
from clientlens.features.timezone import as_of_cutoff

from .conftest import AS_OF

TZ = "Europe/Warsaw"


@pytest.fixture(scope="module")
def settings():  # type: ignore[no-untyped-def]
    return load_settings(search_cwd=False)


@pytest.fixture(scope="module")
def cdnow_features(settings) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    expr = customer_features({"orders": load_cdnow_master()}, as_of=dt.date(1997, 9, 30), home_country="US",
                             settings=settings)
    return features_to_pandas(expr.to_pyarrow()).set_index("customer_id")


@pytest.fixture(scope="module")
def shop_features(small_shop, settings) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    with DuckDBEngine() as eng:
        expr = customer_features(small_shop, as_of=AS_OF, home_country="PL", settings=settings, timezone=TZ,
                                 engine=eng)
        return features_to_pandas(eng.to_arrow(expr)).set_index("customer_id")


def _close(ours: pd.Series, ref: pd.Series) -> None:
    ref = ref.reindex(ours.index)
    np.testing.assert_allclose(ours.astype("float64").to_numpy(), ref.astype("float64").to_numpy(),
                               rtol=1e-9, atol=1e-9, err_msg=str(ours.name))


def test_cdnow_recency_frequency_monetary_match_pandas(cdnow_features: pd.DataFrame) -> None:
    tx = load_cdnow_master()
    tx = tx[tx["order_date"] < pd.Timestamp("1997-10-01")]
    g = tx.groupby("customer_id")
    as_of = pd.Timestamp("1997-09-30")
    assert list(cdnow_features.reset_index().columns) == list(FEATURE_COLUMNS)
    assert len(cdnow_features) == tx["customer_id"].nunique() == 23570
    _close(cdnow_features["orders"], g.size())
    _close(cdnow_features["purchase_days"], g["order_date"].nunique())
    _close(cdnow_features["recency_days"], (as_of - g["order_date"].max()).dt.days)
    _close(cdnow_features["tenure_days"], (as_of - g["order_date"].min()).dt.days)
    _close(cdnow_features["total_spend"], g["total"].sum())
    _close(cdnow_features["avg_order_value"], g["total"].mean())
    _close(cdnow_features["quantity_per_order"], g["quantity"].mean())
    _close(cdnow_features["max_order_quantity"], g["quantity"].max())
    days = tx.drop_duplicates(["customer_id", "order_date"]).sort_values(["customer_id", "order_date"])
    gaps = days.groupby("customer_id")["order_date"].diff().dt.days
    _close(cdnow_features["ipi_mean_days"], gaps.groupby(days["customer_id"]).mean())
    _close(cdnow_features["ipi_std_days"], gaps.groupby(days["customer_id"]).std())
    age = (as_of - tx["order_date"]).dt.days
    _close(cdnow_features["spend_last_90d"], tx["total"].where(age < 90, 0.0).groupby(tx["customer_id"]).sum())
    # no channels, lines, returns or profiles in CDNOW: those features are empty, not zero
    assert cdnow_features["dominant_channel"].isna().all()
    assert cdnow_features["promo_item_share"].isna().all()
    assert (cdnow_features["return_rate"] == 0).all()
    assert cdnow_features["is_domestic"].isna().all()


def test_cdnow_purchase_days_agree_with_rfm_summary(cdnow_features: pd.DataFrame) -> None:
    summary = rfm_summary(load_cdnow_master(), observation_end="1997-09-30", time_unit="D")
    f = cdnow_features.loc[summary.index]
    assert (f["purchase_days"] - 1 == summary["frequency"]).all()
    assert (f["tenure_days"] == summary["T"]).all()
    assert (f["tenure_days"] - f["recency_days"] == summary["recency"]).all()


def _local(small_shop: dict[str, pd.DataFrame]) -> pd.DataFrame:
    cutoff = pd.Timestamp(as_of_cutoff(AS_OF, TZ))
    o = small_shop["orders"]
    o = o[o["order_date"] < cutoff].copy()
    o["day"] = o["order_date"].dt.tz_localize("UTC").dt.tz_convert(TZ).dt.tz_localize(None).dt.normalize()
    return o


def test_small_shop_features_match_pandas(small_shop, shop_features: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    f = shop_features
    o = _local(small_shop)
    assert len(f) == len(small_shop["customers"]) == 300  # never-purchased customers included
    done = o[o["status"] == "completed"]
    g = done.groupby("customer_id")
    as_of = pd.Timestamp(AS_OF)
    _close(f["orders"], g.size().reindex(f.index, fill_value=0))
    _close(f["purchase_days"], g["day"].nunique().reindex(f.index, fill_value=0))
    _close(f["recency_days"], (as_of - g["day"].max()).dt.days)
    _close(f["total_spend"], g["total"].sum().reindex(f.index, fill_value=0.0))
    _close(f["return_rate"], o.groupby("customer_id")["status"].apply(lambda s: (s != "completed").mean()))
    age = (as_of - done["day"]).dt.days
    last = done["total"].where(age < 90, 0.0).groupby(done["customer_id"]).sum()
    prev = done["total"].where((age >= 90) & (age < 180), 0.0).groupby(done["customer_id"]).sum()
    trend = ((last - prev) / prev).where(prev > 0)
    _close(f["spend_trend"], trend)
    lines = small_shop["order_lines"].merge(done[["order_id", "customer_id"]], on="order_id")
    _close(f["promo_item_share"], lines.groupby("customer_id")["discount"].apply(lambda d: (d > 0).mean()))
    lines["spend"] = lines["quantity"] * lines["unit_price"] - lines["discount"]
    promo_spend = lines["spend"].where(lines["discount"] > 0, 0.0).groupby(lines["customer_id"]).sum()
    _close(f["promo_spend_share"], promo_spend / lines.groupby("customer_id")["spend"].sum())
    _close(f["items_per_order"], (lines.groupby("customer_id").size() / g.size()))
    _close(f["new_arrival_share"], lines.groupby("customer_id")["is_new_arrival"].mean())


def test_small_shop_channels_profile_and_contacts(small_shop, shop_features: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    f = shop_features
    o = _local(small_shop)
    done = o[o["status"] == "completed"].copy()
    done["ch"] = done["channel"].where(done["channel"].isin(["online", "in_store", "phone", "marketplace"]),
                                       "other").where(done["channel"].notna())
    spend = done.pivot_table(index="customer_id", columns="ch", values="total", aggfunc="sum", fill_value=0.0)
    share = spend.div(done.groupby("customer_id")["total"].sum(), axis=0)
    for ch in ("online", "in_store", "phone", "marketplace", "other"):
        _close(f.loc[share.index, f"spend_share_{ch}"], share[ch])
    dominant = spend[["online", "in_store", "phone", "marketplace", "other"]].idxmax(axis=1)
    assert (f.loc[dominant.index, "dominant_channel"] == dominant).all()
    c = small_shop["customers"].set_index("customer_id")
    assert (f["is_domestic"].dropna() == (c.loc[f["is_domestic"].dropna().index, "country"] == "PL")).all()
    assert f["is_domestic"].isna().sum() == c["country"].isna().sum()
    bd = c["birth_date"].dropna()
    expected_age = bd.map(lambda b: AS_OF.year - b.year - ((AS_OF.month, AS_OF.day) < (b.month, b.day)))
    _close(f.loc[bd.index, "age_years"], expected_age)
    never = f[f["orders"] == 0]
    assert len(never) >= 45 and never["first_purchase"].isna().all() and (never["total_spend"] == 0).all()
    cutoff = pd.Timestamp(as_of_cutoff(AS_OF, TZ))
    fb = small_shop["feedback"]
    fb = fb[fb["submitted_at"] < cutoff]
    csat = fb[fb["kind"] == "csat"].sort_values(["submitted_at", "score"]).groupby("customer_id").last()["score"]
    _close(f.loc[csat.index, "last_csat"], csat)
    inter = small_shop["interactions"]
    n = inter[inter["occurred_at"] < cutoff].groupby("customer_id").size().reindex(f.index, fill_value=0)
    _close(f["interactions"], n)


def test_as_of_day_ends_in_the_shop_time_zone(settings) -> None:  # type: ignore[no-untyped-def]
    # 2024-06-30 22:30 UTC is already 1 July in Warsaw: not seen as of 30 June there, seen in UTC.
    orders = pd.DataFrame({"customer_id": ["a", "a"], "order_date": pd.to_datetime(
        ["2024-06-01 10:00", "2024-06-30 22:30"]), "total": [10.0, 5.0]})
    warsaw = customer_features({"orders": orders}, as_of=AS_OF, home_country=None, settings=settings,
                               timezone=TZ).to_pandas()
    utc = customer_features({"orders": orders}, as_of=AS_OF, home_country=None, settings=settings).to_pandas()
    assert warsaw["orders"].tolist() == [1] and utc["orders"].tolist() == [2]
    assert utc["recency_days"].tolist() == [0]


def test_shop_defaults(small_shop) -> None:  # type: ignore[no-untyped-def]
    assert default_home_country(small_shop["customers"]) == "PL"
    assert default_home_country(small_shop["customers"], configured="de") == "DE"
    assert default_reporting_currency(small_shop["orders"]) == "PLN"
    assert default_reporting_currency(load_cdnow_master()) == "USD"  # no currency column: the fallback
    last = small_shop["orders"]["order_date"].max()
    expected = last.tz_localize("UTC").tz_convert(TZ).date()
    assert default_as_of(small_shop["orders"], timezone=TZ) == expected
    assert default_as_of(small_shop["orders"]) == last.date()
    late = small_shop["orders"].assign(order_date=pd.Timestamp("2024-08-31 23:30"))
    assert default_as_of(late, timezone=TZ) == dt.date(2024, 9, 1)


def test_generated_sample_shop_features_match_pandas(settings) -> None:  # type: ignore[no-untyped-def]
    from clientlens.datasets.generator import generate_shop

    shop = generate_shop(300, seed=5)
    frames = {k: getattr(shop, k) for k in ("customers", "orders", "order_lines", "products", "interactions",
                                            "feedback")}
    as_of = dt.date(2025, 11, 30)
    f = features_to_pandas(customer_features(frames, as_of=as_of, home_country="PL", settings=settings)
                           .to_pyarrow()).set_index("customer_id")
    cutoff = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    o = shop.orders[shop.orders["order_date"] < cutoff]
    known = set(shop.customers.loc[shop.customers["created_at"] < cutoff, "customer_id"]) | set(o["customer_id"])
    assert set(f.index) == known and len(known) < 300  # customers created after the as-of date are not in
    done = o[~o["status"].isin(["returned", "cancelled"])]
    g = done.groupby("customer_id")
    _close(f["orders"], g.size().reindex(f.index, fill_value=0))
    _close(f["recency_days"], (pd.Timestamp(as_of) - g["order_date"].max().dt.normalize()).dt.days)
    _close(f["total_spend"], g["total"].sum().reindex(f.index, fill_value=0.0))
    _close(f["return_rate"], o.groupby("customer_id")["status"].apply(lambda s: s.isin(["returned", "cancelled"])
                                                                       .mean()))
    lines = shop.order_lines.merge(done[["order_id", "customer_id"]], on="order_id")
    _close(f["promo_item_share"], lines.groupby("customer_id")["discount"].apply(lambda d: (d > 0).mean()))
    age = (pd.Timestamp(as_of) - done["order_date"].dt.normalize()).dt.days
    last = done["total"].where(age < 90, 0.0).groupby(done["customer_id"]).sum()
    prev = done["total"].where((age >= 90) & (age < 180), 0.0).groupby(done["customer_id"]).sum()
    _close(f["spend_trend"], ((last - prev) / prev).where(prev > 0))
