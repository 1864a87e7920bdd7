"""Fixtures of the features tests: a small seeded shop and one Spark session for the whole run."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

AS_OF = dt.date(2024, 6, 30)


def make_small_shop(seed: int = 7, n_customers: int = 300) -> dict[str, pd.DataFrame]:
    """A small multi-channel shop: orders with channels, statuses and discounts, lines with
    categories, promotions and new arrivals, customers with countries and birth dates (some never
    purchased), interactions and feedback. Times are UTC, some after the as-of date."""
    rng = np.random.default_rng(seed)
    ids = [f"C{i:04d}" for i in range(n_customers)]
    countries = rng.choice(["PL", "PL", "PL", "DE", "VN", None], n_customers)
    birth = [None if rng.random() < 0.2 else dt.date(int(rng.integers(1940, 2006)), int(rng.integers(1, 13)),
                                                     int(rng.integers(1, 29))) for _ in ids]
    customers = pd.DataFrame({
        "customer_id": ids, "name": [f"Name {i}" for i in range(n_customers)],
        "kind": rng.choice(["individual", None, "professional"], n_customers),
        "gender": rng.choice(["female", "male", None], n_customers),
        "income_band": rng.choice(["low", "middle", "high", None], n_customers),
        "country": countries, "birth_date": birth, "language": rng.choice(["pl", "en", "vi"], n_customers),
        "created_at": pd.Timestamp("2022-01-01"),
    })
    buyers = ids[: int(n_customers * 0.85)]  # the rest never purchased
    n_orders = 3000
    start = pd.Timestamp("2022-06-01").value // 10**9
    end = pd.Timestamp("2024-08-15").value // 10**9  # some orders after the as-of date
    seconds = rng.integers(start, end, n_orders)
    orders = pd.DataFrame({
        "customer_id": rng.choice(buyers, n_orders),
        "order_id": [f"O{i:05d}" for i in range(n_orders)],
        "order_date": pd.to_datetime(seconds, unit="s").astype("datetime64[us]"),
        "channel": rng.choice(["online", "in_store", "phone", "marketplace", "Web-Shop", None], n_orders,
                              p=[0.4, 0.3, 0.1, 0.1, 0.05, 0.05]),
        "currency": "PLN",
        "status": rng.choice(["completed", "returned", "cancelled"], n_orders, p=[0.85, 0.1, 0.05]),
    })
    n_lines = 7000
    line_order = rng.integers(0, n_orders, n_lines)
    qty = rng.integers(1, 5, n_lines).astype(float)
    price = np.round(rng.uniform(5, 200, n_lines), 2)
    promo = rng.random(n_lines) < 0.3
    discount = np.where(promo, np.round(qty * price * 0.2, 2), 0.0)
    lines = pd.DataFrame({
        "order_id": orders["order_id"].to_numpy()[line_order],
        "product_id": [f"P{p:03d}" for p in rng.integers(0, 60, n_lines)],
        "category": rng.choice(["books", "music", "games", "toys"], n_lines),
        "quantity": qty, "unit_price": price, "discount": discount,
        "is_new_arrival": rng.random(n_lines) < 0.2,
    })
    spend = (lines.assign(s=lines.quantity * lines.unit_price - lines.discount).groupby("order_id")["s"].sum())
    disc = lines.groupby("order_id")["discount"].sum()
    orders["total"] = orders["order_id"].map(spend).fillna(0.0).round(2)
    orders["discount_total"] = orders["order_id"].map(disc).fillna(0.0).round(2)
    n_int = 800
    interactions = pd.DataFrame({
        "customer_id": rng.choice(ids, n_int), "interaction_id": [f"I{i}" for i in range(n_int)],
        "channel": "email", "direction": "inbound",
        "occurred_at": pd.to_datetime(rng.integers(start, end, n_int), unit="s").astype("datetime64[us]"),
    })
    n_fb = 400
    feedback = pd.DataFrame({
        "customer_id": rng.choice(ids, n_fb), "kind": rng.choice(["csat", "nps"], n_fb),
        "score": rng.integers(0, 11, n_fb),
        "submitted_at": pd.to_datetime(rng.integers(start, end, n_fb), unit="s").astype("datetime64[us]"),
    })
    products = pd.DataFrame({"product_id": [f"P{p:03d}" for p in range(60)],
                             "category": rng.choice(["books", "music"], 60)})
    return {"customers": customers, "orders": orders, "order_lines": lines, "products": products,
            "interactions": interactions, "feedback": feedback}


@pytest.fixture(scope="session")
def small_shop() -> dict[str, pd.DataFrame]:
    return make_small_shop()
