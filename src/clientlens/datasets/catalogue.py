"""The sample shop's catalogue: categories, products, prices and launch dates.

A base range per category is on sale before the history starts; new products are then launched
every few days in every category, so that at any date each category has recent new arrivals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

# category -> (median price in the shop currency, product nouns)
CATEGORIES: dict[str, tuple[float, tuple[str, ...]]] = {
    "Books": (14.0, ("Novel", "Cookbook", "Atlas", "Biography", "Guide", "Anthology")),
    "Music": (16.0, ("Vinyl LP", "CD Album", "Box Set", "Songbook", "EP")),
    "Electronics": (32.0, ("Headphones", "Speaker", "Charger", "Webcam", "Keyboard", "Power Bank")),
    "Home & Garden": (26.0, ("Planter", "Lamp", "Cushion", "Vase", "Tool Set", "Rug")),
    "Toys & Games": (22.0, ("Board Game", "Puzzle", "Building Set", "Plush Toy", "Card Game")),
    "Sports & Outdoors": (28.0, ("Yoga Mat", "Water Bottle", "Backpack", "Tent", "Running Belt")),
    "Beauty": (18.0, ("Face Cream", "Shampoo", "Perfume", "Lip Balm", "Serum")),
    "Fashion": (30.0, ("T-Shirt", "Scarf", "Jacket", "Sneakers", "Hat", "Jeans")),
    "Office Supplies": (14.0, ("Notebook", "Pen Set", "Stapler", "Folder Pack", "Desk Organiser", "Paper Ream")),
    "Food & Drink": (12.0, ("Tea Selection", "Coffee Beans", "Chocolate Box", "Olive Oil", "Honey Jar")),
}
_ADJECTIVES = ("Classic", "Deluxe", "Eco", "Urban", "Nordic", "Vintage", "Smart", "Essential", "Premium",
               "Compact", "Signature", "Studio", "Heritage", "Bold", "Pure")


@dataclass(frozen=True)
class Catalogue:
    """Products as a frame plus the arrays the order generator searches."""

    products: pd.DataFrame
    #: per category index: product row numbers sorted by launch day, and their launch days
    by_category: tuple[tuple[np.ndarray, np.ndarray], ...]
    #: per category index: rows of the base range (launched before the history starts)
    base_rows: tuple[np.ndarray, ...]
    price: np.ndarray
    launch_day: np.ndarray
    category_names: tuple[str, ...]


def build_catalogue(rng: np.random.Generator, *, start: date, as_of: date, base_per_category: int,
                    launches_per_month: float) -> Catalogue:
    """Products of every category; ``launch_day`` counts days from ``start`` (negative = before)."""
    history = (as_of - start).days
    rows: list[tuple[str, str, str, float, int]] = []
    names = tuple(CATEGORIES)
    spacing = 30.44 / launches_per_month
    for cat, (median, nouns) in CATEGORIES.items():
        base_days = np.sort(rng.integers(-3 * 365, -30, base_per_category))
        n_new = int(history / spacing) + 1
        grid = np.arange(n_new) * spacing + rng.uniform(0, spacing, n_new)
        new_days = np.floor(grid).astype(np.int64)
        new_days = new_days[new_days <= history]
        for day in np.concatenate([base_days, new_days]):
            price = max(1.99, float(np.floor(median * rng.lognormal(0.0, 0.35))) + 0.99)
            noun = str(rng.choice(nouns))
            adj = str(rng.choice(_ADJECTIVES))
            rows.append((f"P{len(rows) + 1:05d}", f"{adj} {noun} {int(rng.integers(100, 999))}", cat, price, int(day)))
    frame = pd.DataFrame(rows, columns=["product_id", "name", "category", "price", "launch_day"])
    launch = frame["launch_day"].to_numpy()
    by_cat = []
    base_rows = []
    for cat in names:
        idx = np.flatnonzero(frame["category"].to_numpy() == cat)
        order = idx[np.argsort(launch[idx], kind="stable")]
        by_cat.append((order, launch[order]))
        base_rows.append(order[launch[order] < 0])
    start_ts = pd.Timestamp(start)
    frame["launched_at"] = (start_ts + pd.to_timedelta(frame["launch_day"], unit="D")).dt.date
    products = frame[["product_id", "name", "category", "price", "launched_at"]].copy()
    return Catalogue(products, tuple(by_cat), tuple(base_rows), frame["price"].to_numpy(float), launch, names)


def history_start(as_of: date, history_days: int) -> date:
    """First day of the generated history."""
    return as_of - timedelta(days=history_days)
