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


# ---------------------------------------------------------------------------------------------
# Two lists: "buy again" (the customer's own products, with the expected time of repurchase) and
# "discover" (products she never bought).


def dated_purchases(order_lines: Any, orders: Any) -> pd.DataFrame:
    """(customer_id, product_id, order_date[, category]) of completed purchases: order lines joined
    to ``orders`` on order_id (returned, cancelled and pending orders left out)."""
    lines = as_pandas(order_lines)
    o = as_pandas(orders)
    for frame, what, cols in ((lines, "order lines", ("order_id", "product_id")),
                              (o, "orders", ("order_id", "customer_id", "order_date"))):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise MissingColumnsError(f"{what} lack column(s) {', '.join(missing)}")
    if "status" in o.columns:
        o = o[~o["status"].astype("string").str.lower().isin(EXCLUDED_STATUSES).fillna(False)]
    keep = ["order_id", "product_id"] + (["category"] if "category" in lines.columns else [])
    out = lines[keep].merge(o[["order_id", "customer_id", "order_date"]], on="order_id", how="inner")
    out = out.dropna(subset=["customer_id", "product_id", "order_date"])
    out["order_date"] = pd.to_datetime(out["order_date"])
    return out.astype({"customer_id": "string", "product_id": "string"})


class TwoListRecommender(BaseModel):
    """"Buy again" and "discover" lists (estimator contract; learns product statistics and the
    item-item similarity, keeps no customer history).

    * **buy again** ranks the customer's own products by how many times she bought each, times the
      product's repeat rate (share of its buyers who bought it again), ties broken by the latest
      purchase. The expected repurchase date is the last purchase of the product plus her own mean
      gap between purchases of it (two purchases or more), else the product's median gap over its
      repeat buyers, else empty.
    * **discover** never holds a bought product. Score = item-item similarity (as
      :class:`ItemToItemRecommender`, scaled to the customer's best) + ``category_weight`` x the
      share of her purchases in the product's category x the product's popularity within that
      category over the last ``recent_days`` (scaled to the category's best); filled up with the
      recent best sellers. ``category_weight`` and ``recent_days`` are tuned on a validation split
      inside the calibration period (bench/recommend_bench.py, docs/models.md).
    """

    def __init__(self, n_neighbours: int = 200, popularity_alpha: float = 0.5, category_weight: float = 1.0,
                 recent_days: int = 90) -> None:
        self.n_neighbours = n_neighbours
        self.popularity_alpha = popularity_alpha
        self.category_weight = category_weight
        self.recent_days = recent_days

    def fit(self, order_lines: Any, orders: Any) -> TwoListRecommender:
        """Learn from order lines joined to orders (lines may carry ``category``)."""
        if not float(self.category_weight) >= 0:
            raise ModelError(f"category_weight must be a number >= 0, got {self.category_weight!r}")
        if not (isinstance(self.recent_days, int) and self.recent_days > 0):
            raise ModelError(f"recent_days must be a whole number > 0, got {self.recent_days!r}")
        p = dated_purchases(order_lines, orders)
        if p.empty:
            raise ModelError("no purchases in the order lines; nothing to learn")
        self.item_ = ItemToItemRecommender(n_neighbours=self.n_neighbours, popularity_alpha=self.popularity_alpha,
                                           exclude_purchased=True).fit(p[["customer_id", "product_id"]])
        products = self.item_.products_
        index = pd.Index(products)
        end = p["order_date"].max()
        recent = p[p["order_date"] > end - pd.Timedelta(days=int(self.recent_days))]
        rpop = recent.groupby("product_id")["customer_id"].nunique().reindex(index).fillna(0).to_numpy(float)
        # recent popularity, with the all-time count as a small tie-breaker
        self.recent_popularity_ = rpop + self.item_.popularity_ / (1.0 + self.item_.popularity_.max())
        if "category" in p.columns:
            cat = p.groupby("product_id")["category"].first().reindex(index).astype("string").fillna("")
        else:
            cat = pd.Series("", index=index, dtype="string")
        self.category_codes_, self.categories_ = pd.factorize(cat.to_numpy(), sort=True)
        best = pd.Series(self.recent_popularity_).groupby(self.category_codes_).transform("max").to_numpy()
        self.category_popularity_ = np.where(best > 0, self.recent_popularity_ / best, 0.0)
        # repeat purchases: per (customer, product) purchase days
        days = p.assign(day=p["order_date"].dt.normalize()).drop_duplicates(["customer_id", "product_id", "day"])
        g = days.groupby(["customer_id", "product_id"])["day"]
        n = g.size()
        span = (g.max() - g.min()).dt.total_seconds() / 86400.0
        rep = n[n > 1]
        gaps = (span[n > 1] / (rep - 1)).groupby(level="product_id").median()
        buyers = n.groupby(level="product_id").size()
        repeaters = rep.groupby(level="product_id").size().reindex(buyers.index).fillna(0)
        self.repeat_rate_ = ((repeaters + 0.5) / (buyers + 1.0)).reindex(index).fillna(0.0).to_numpy(float)
        self.product_gap_days_ = gaps.reindex(index).to_numpy(float)
        return self

    def _check(self) -> None:
        if getattr(self, "item_", None) is None:
            raise NotFittedError("this TwoListRecommender is not fitted yet; call fit(order_lines, orders) first")

    def buy_again(self, customers: Iterable[str], history: Any, orders: Any, k: int = 10
                  ) -> dict[str, list[tuple[str, pd.Timestamp | None]]]:
        """Up to ``k`` of each customer's own products, best first, each with its expected
        repurchase date (None when no gap is known)."""
        self._check()
        wanted = [str(c) for c in customers]
        p = dated_purchases(history, orders)
        p = p[p["customer_id"].isin(wanted)]
        out: dict[str, list[tuple[str, pd.Timestamp | None]]] = {c: [] for c in wanted}
        if p.empty:
            return out
        p = p.assign(day=p["order_date"].dt.normalize()).drop_duplicates(["customer_id", "product_id", "day"])
        g = p.groupby(["customer_id", "product_id"])["day"]
        stats = pd.DataFrame({"n": g.size(), "first": g.min(), "last": g.max()}).reset_index()
        pos = pd.Series(np.arange(len(self.item_.products_)), index=pd.Index(self.item_.products_))
        code = stats["product_id"].map(pos)
        rate = np.where(code.notna(), self.repeat_rate_[code.fillna(0).astype(int)], 0.0)
        pgap = np.where(code.notna(), self.product_gap_days_[code.fillna(0).astype(int)], np.nan)
        own = (stats["last"] - stats["first"]).dt.total_seconds().to_numpy() / 86400.0 / np.maximum(stats["n"] - 1, 1)
        gap = np.where(stats["n"].to_numpy() > 1, own, pgap)
        stats["score"] = stats["n"].to_numpy() * rate
        stats["due"] = stats["last"] + pd.to_timedelta(np.where(np.isfinite(gap), gap, np.nan), unit="D")
        stats = stats.sort_values(["customer_id", "score", "last", "product_id"], ascending=[True, False, False, True])
        for cust, grp in stats.groupby("customer_id", sort=False):
            top = grp.head(k)
            out[str(cust)] = [(str(pid), None if pd.isna(due) else pd.Timestamp(due))
                              for pid, due in zip(top["product_id"], top["due"], strict=True)]
        return out

    def discover(self, customers: Iterable[str], history: Any, orders: Any, k: int = 10) -> dict[str, list[str]]:
        """Top-``k`` products each customer never bought (unknown customers: recent best sellers)."""
        self._check()
        wanted = [str(c) for c in customers]
        p = dated_purchases(history, orders)
        p = p[p["customer_id"].isin(wanted)]
        index = {q: i for i, q in enumerate(self.item_.products_)}
        pcode = p["product_id"].map(index)
        p, pcode = p[pcode.notna()], pcode[pcode.notna()].astype(int).to_numpy()
        cpos = {c: i for i, c in enumerate(wanted)}
        rows = p["customer_id"].map(cpos).to_numpy(dtype=int)
        nprod, ncat = len(self.item_.products_), len(self.categories_)
        H = sparse.csr_matrix((np.ones(len(rows)), (rows, pcode)), shape=(len(wanted), nprod))
        H.data[:] = 1.0  # bought or not
        S = (H @ self.item_.similarity_).tocsr()
        catmat = sparse.csr_matrix((np.ones(len(rows)), (rows, self.category_codes_[pcode])),
                                   shape=(len(wanted), ncat))
        fallback = np.argsort(-self.recent_popularity_, kind="stable")
        w = float(self.category_weight)
        out: dict[str, list[str]] = {}
        for i, cust in enumerate(wanted):
            bought = H.indices[H.indptr[i]:H.indptr[i + 1]]
            score = np.zeros(nprod)
            lo, hi = S.indptr[i], S.indptr[i + 1]
            if hi > lo:
                vals = S.data[lo:hi]
                score[S.indices[lo:hi]] = vals / vals.max()
            clo, chi = catmat.indptr[i], catmat.indptr[i + 1]
            if chi > clo and w > 0:
                share = np.zeros(ncat)
                share[catmat.indices[clo:chi]] = catmat.data[clo:chi] / catmat.data[clo:chi].sum()
                score += w * share[self.category_codes_] * self.category_popularity_
            score += 1e-9 * self.recent_popularity_ / (1.0 + self.recent_popularity_.max())
            score[bought] = -np.inf
            top = np.argpartition(-score, min(k, nprod - 1))[: k + 1] if nprod > k else np.arange(nprod)
            top = top[np.lexsort((top, -score[top]))]
            chosen = [j for j in top if np.isfinite(score[j])][:k]
            if len(chosen) < k:
                taken = set(chosen) | set(bought.tolist())
                chosen += [j for j in fallback if j not in taken][: k - len(chosen)]
            out[cust] = [str(self.item_.products_[j]) for j in chosen]
        return out

    def popular(self, k: int = 10, exclude: Iterable[str] = ()) -> list[str]:
        """The ``k`` recent best sellers not in ``exclude`` (the overall popularity baseline)."""
        self._check()
        skip = set(exclude)
        order = np.argsort(-self.recent_popularity_, kind="stable")
        return [str(q) for q in self.item_.products_[order] if str(q) not in skip][:k]


def split_holdout(holdout: pd.DataFrame, history: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The holdout (customer_id, product_id) pairs split into products the customer bought before
    (``again``) and products new to her (``new``)."""
    h = holdout[["customer_id", "product_id"]].astype(str).drop_duplicates()
    seen = set(zip(history["customer_id"].astype(str), history["product_id"].astype(str), strict=True))
    before = np.array([(c, q) in seen for c, q in zip(h["customer_id"], h["product_id"], strict=True)], dtype=bool)
    return h[before], h[~before]
