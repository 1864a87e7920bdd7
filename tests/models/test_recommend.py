"""Next products: co-occurrence recommender against the popularity baseline on the sample shop."""

from __future__ import annotations

import pandas as pd
import pytest

from clientlens.errors import MissingColumnsError, ModelError
from clientlens.models.recommend import ItemToItemRecommender, customer_products, hit_rate_at_k


def small_order_lines() -> pd.DataFrame:
    """Three customers: c1 and c2 buy x with y; c3 buys x only."""
    return pd.DataFrame({"customer_id": ["c1", "c1", "c2", "c2", "c3", "c2"],
                         "product_id": ["x", "y", "x", "y", "x", "z"]})


def test_co_bought_product_comes_first() -> None:
    lines = small_order_lines()
    rec = ItemToItemRecommender().fit(lines)
    assert rec.recommend(["c3"], lines, k=1) == {"c3": ["y"]}
    # an unknown customer gets the most popular products
    assert rec.recommend(["nobody"], lines, k=2) == {"nobody": ["x", "y"]}
    excl = ItemToItemRecommender(exclude_purchased=True).fit(lines)
    assert "x" not in excl.recommend(["c3"], lines, k=2)["c3"]


def test_lines_are_joined_to_orders_and_returns_are_left_out() -> None:
    orders = pd.DataFrame({"order_id": ["o1", "o2"], "customer_id": ["a", "b"], "status": ["completed", "returned"]})
    lines = pd.DataFrame({"order_id": ["o1", "o2"], "product_id": ["p", "q"]})
    pairs = customer_products(lines, orders)
    assert pairs.to_dict("list") == {"customer_id": ["a"], "product_id": ["p"]}
    with pytest.raises(MissingColumnsError, match="customer_id"):
        customer_products(lines)
    with pytest.raises(ModelError, match="popularity_alpha"):
        ItemToItemRecommender(popularity_alpha=2.0).fit(small_order_lines())


def test_hit_rate_beats_popularity_on_the_sample_shop() -> None:
    generator = pytest.importorskip("clientlens.datasets.generator")
    shop = generator.generate_shop(5000)
    orders, lines = shop.orders, shop.order_lines
    cut = orders["order_date"].max() - pd.Timedelta(days=180)
    cal_o, ho_o = orders[orders["order_date"] <= cut], orders[orders["order_date"] > cut]
    cal_l, ho_l = lines[lines["order_id"].isin(cal_o["order_id"])], lines[lines["order_id"].isin(ho_o["order_id"])]
    known = set(customer_products(cal_l, cal_o)["customer_id"])
    holdout = customer_products(ho_l, ho_o)
    holdout = holdout[holdout["customer_id"].isin(known)]
    customers = holdout["customer_id"].unique().tolist()
    rec = ItemToItemRecommender().fit(cal_l, cal_o)
    ours = hit_rate_at_k(rec.recommend(customers, cal_l, k=10, orders=cal_o), holdout, k=10)
    baseline = hit_rate_at_k({c: rec.popular(10) for c in customers}, holdout, k=10)
    assert len(customers) > 500
    assert ours >= 1.5 * baseline, (ours, baseline)
