"""Next products: an item-to-item recommender over order lines (co-occurrence with a popularity correction).

Two products are similar when the same customers buy both (Linden, Smith & York 2003, "Amazon.com
recommendations: item-to-item collaborative filtering"). With ``C[i, j]`` the number of customers who
bought both and ``n[i]`` the number who bought ``i``, the similarity is
``S[i, j] = C[i, j] / (n[i]^a * n[j]^(1-a))`` (``a = popularity_alpha``; 0.5 gives the cosine), which
keeps best sellers from being everyone's neighbour. A customer's score for product ``j`` is the sum
of ``S[i, j]`` over the products ``i`` she bought; the top ``k`` are recommended, completed by the
most popular products.

>>> import pandas as pd
>>> lines = pd.DataFrame({"customer_id": ["a", "a", "b", "b", "c"], "product_id": ["x", "y", "x", "y", "x"]})
>>> ItemToItemRecommender().fit(lines).recommend(["c"], lines, k=1)
{'c': ['y']}
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from clientlens.errors import MissingColumnsError, ModelError, NotFittedError
from clientlens.models._base import BaseModel
from clientlens.models._data import as_pandas

EXCLUDED_STATUSES = ("returned", "cancelled", "pending")


def customer_products(order_lines: Any, orders: Any = None) -> pd.DataFrame:
    """(customer_id, product_id) pairs of completed purchases, from order lines (with customer_id, or
    joined to ``orders`` on order_id)."""
    lines = as_pandas(order_lines)
    if "product_id" not in lines.columns:
        raise MissingColumnsError("order lines lack column 'product_id'")
    if "customer_id" not in lines.columns:
        if orders is None:
            raise MissingColumnsError("order lines lack 'customer_id'; pass the orders frame to join on order_id")
        o = as_pandas(orders)
        if "status" in o.columns:
            o = o[~o["status"].astype("string").str.lower().isin(EXCLUDED_STATUSES).fillna(False)]
        lines = lines.merge(o[["order_id", "customer_id"]], on="order_id", how="inner")
    out = lines[["customer_id", "product_id"]].dropna()
    return out.astype({"customer_id": "string", "product_id": "string"})


class ItemToItemRecommender(BaseModel):
    """Item-to-item co-occurrence recommender (estimator contract; learns ``products_``,
    ``popularity_`` and the pruned similarity matrix ``similarity_``, keeps no customer history)."""

    def __init__(self, n_neighbours: int = 200, popularity_alpha: float = 0.5, exclude_purchased: bool = False) -> None:
        self.n_neighbours = n_neighbours
        self.popularity_alpha = popularity_alpha
        self.exclude_purchased = exclude_purchased

    def fit(self, order_lines: Any, orders: Any = None) -> ItemToItemRecommender:
        """Learn product similarities from order lines (and orders, when lines lack customer_id)."""
        if not (isinstance(self.n_neighbours, int) and self.n_neighbours > 0):
            raise ModelError(f"n_neighbours must be a whole number > 0, got {self.n_neighbours!r}")
        if not 0.0 <= float(self.popularity_alpha) <= 1.0:
            raise ModelError(f"popularity_alpha must be in [0, 1], got {self.popularity_alpha!r}")
        pairs = customer_products(order_lines, orders).drop_duplicates()
        if pairs.empty:
            raise ModelError("no purchases in the order lines; nothing to learn")
        cust_codes, _ = pd.factorize(pairs["customer_id"], sort=True)
        prod_codes, products = pd.factorize(pairs["product_id"], sort=True)
        X = sparse.csr_matrix((np.ones(len(pairs)), (cust_codes, prod_codes)),
                              shape=(int(cust_codes.max()) + 1, len(products)))
        pop = np.asarray(X.sum(axis=0)).ravel()
        C = (X.T @ X).tocsr()
        C.setdiag(0)
        C.eliminate_zeros()
        a = float(self.popularity_alpha)
        C = C.tocoo()
        vals = C.data / (pop[C.row] ** a * pop[C.col] ** (1 - a))
        S = _top_k_per_row(C.row, C.col, vals, len(products), int(self.n_neighbours))
        self.products_ = np.asarray(products, dtype=object)
        self.popularity_ = pop
        self.similarity_ = S
        return self

    def _check(self) -> None:
        if getattr(self, "similarity_", None) is None:
            raise NotFittedError("this ItemToItemRecommender is not fitted yet; call fit(order_lines) first")

    def recommend(self, customers: Iterable[str], history: Any, k: int = 10,
                  orders: Any = None) -> dict[str, list[str]]:
        """Top-``k`` product ids per customer, from the customers' purchase ``history`` (order lines
        with customer_id, or with ``orders`` to join); unknown customers get the most popular products."""
        self._check()
        wanted = [str(c) for c in customers]
        pairs = customer_products(history, orders)
        pairs = pairs[pairs["customer_id"].isin(wanted)].drop_duplicates()
        index = {p: i for i, p in enumerate(self.products_)}
        pcode = pairs["product_id"].map(index)
        known = pcode.notna()
        pairs, pcode = pairs[known], pcode[known].astype(int)
        cpos = {c: i for i, c in enumerate(wanted)}
        rows = pairs["customer_id"].map(cpos).to_numpy(dtype=int)
        H = sparse.csr_matrix((np.ones(len(rows)), (rows, pcode.to_numpy())), shape=(len(wanted), len(self.products_)))
        scores = (H @ self.similarity_).tocsr()
        by_pop = np.argsort(-self.popularity_, kind="stable")
        out: dict[str, list[str]] = {}
        for i, cust in enumerate(wanted):
            row = scores.getrow(i)
            bought = set(H.getrow(i).indices) if self.exclude_purchased else set()
            order = row.indices[np.lexsort((row.indices, -row.data))]
            chosen = [j for j in order if j not in bought][:k]
            if len(chosen) < k:
                taken = set(chosen) | bought
                chosen += [j for j in by_pop[: k + len(taken)] if j not in taken][: k - len(chosen)]
            out[cust] = [str(self.products_[j]) for j in chosen]
        return out

    def popular(self, k: int = 10) -> list[str]:
        """The ``k`` most bought products (the popularity baseline)."""
        self._check()
        return [str(p) for p in self.products_[np.argsort(-self.popularity_, kind="stable")[:k]]]


def _top_k_per_row(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, n: int, k: int) -> sparse.csr_matrix:
    order = np.lexsort((cols, -vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    starts = np.searchsorted(rows, np.arange(n))
    rank = np.arange(len(rows)) - starts[rows]
    keep = rank < k
    return sparse.csr_matrix((vals[keep], (rows[keep], cols[keep])), shape=(n, n))


def hit_rate_at_k(recommendations: dict[str, list[str]], holdout: pd.DataFrame, k: int = 10) -> float:
    """Share of customers with a holdout purchase for whom one of the top-``k`` was bought in the holdout."""
    bought: dict[str, set[str]] = {}
    for cust, prod in zip(holdout["customer_id"].astype(str), holdout["product_id"].astype(str), strict=True):
        bought.setdefault(cust, set()).add(prod)
    hits = [bool(set(recommendations.get(c, [])[:k]) & items) for c, items in bought.items()]
    return float(np.mean(hits)) if hits else float("nan")
