"""Recommender bench: hit@10 of "buy again" and "discover" against popularity baselines, one run.

On the generated sample shop (``generate_shop(5000)``, products with categories): calibration up to
180 days before the last order, holdout the last 180 days. ``category_weight`` and ``recent_days``
of :class:`~clientlens.models.recommend.TwoListRecommender` are tuned on a validation split inside
the calibration period (its last 180 days), never on the holdout. Hit@10 is the share of holdout
customers (known in calibration) with one of their ten recommendations bought in the holdout, on
the products new to each customer (discover and baselines, already bought products excluded) and
on the products bought again (buy again).

    .venv/bin/python bench/recommend_bench.py
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pandas as pd

from clientlens.models.recommend import TwoListRecommender, dated_purchases, hit_rate_at_k, split_holdout

HOLDOUT_DAYS = 180
K = 10


def split(orders: pd.DataFrame, lines: pd.DataFrame, cut: pd.Timestamp) -> tuple[pd.DataFrame, ...]:
    cal_o, ho_o = orders[orders["order_date"] <= cut], orders[orders["order_date"] > cut]
    cal_l = lines[lines["order_id"].isin(cal_o["order_id"])]
    ho_l = lines[lines["order_id"].isin(ho_o["order_id"])]
    return cal_o, cal_l, ho_o, ho_l


def baselines(rec: TwoListRecommender, history: pd.DataFrame, customers: list[str], recent: bool
              ) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Overall popularity and popularity within the customer's most bought categories, both
    without the products she bought (all-time or recent counts)."""
    pop = rec.recent_popularity_ if recent else rec.item_.popularity_.astype(float)
    products = rec.item_.products_
    order = np.argsort(-pop, kind="stable")
    cat = rec.category_codes_
    pos = {q: i for i, q in enumerate(products)}
    bought: dict[str, set[int]] = {}
    for c, q in zip(history["customer_id"].astype(str), history["product_id"].astype(str), strict=True):
        if q in pos:
            bought.setdefault(c, set()).add(pos[q])
    overall, by_cat = {}, {}
    for c in customers:
        b = bought.get(c, set())
        overall[c] = [str(products[j]) for j in order[: K + len(b)] if j not in b][:K]
        counts = np.bincount([cat[j] for j in b], minlength=len(rec.categories_)) if b else np.zeros(len(rec.categories_))
        score = counts[cat] * (pop.max() + 1) + pop
        score[list(b)] = -np.inf
        top = np.argsort(-score, kind="stable")[:K]
        by_cat[c] = [str(products[j]) for j in top]
    return overall, by_cat


def evaluate(orders: pd.DataFrame, lines: pd.DataFrame, cut: pd.Timestamp, grid: list[tuple[float, int]]
             ) -> dict[str, object]:
    cal_o, cal_l, ho_o, ho_l = split(orders, lines, cut)
    hist = dated_purchases(cal_l, cal_o)
    hold = dated_purchases(ho_l, ho_o)
    hold = hold[hold["customer_id"].isin(set(hist["customer_id"]))]
    again, new = split_holdout(hold, hist)
    customers = sorted(hold["customer_id"].astype(str).unique())
    res: dict[str, object] = {"customers": len(customers), "new_customers": new["customer_id"].nunique(),
                              "again_customers": again["customer_id"].nunique(), "discover": {}}
    rec = None
    for w, days in grid:
        rec = TwoListRecommender(category_weight=w, recent_days=days).fit(cal_l, cal_o)
        disc = rec.discover(customers, cal_l, cal_o, k=K)
        res["discover"][(w, days)] = hit_rate_at_k(disc, new, k=K)  # type: ignore[index]
    assert rec is not None
    ba = rec.buy_again(customers, cal_l, cal_o, k=K)
    res["buy_again"] = hit_rate_at_k({c: [q for q, _ in v] for c, v in ba.items()}, again, k=K)
    for recent in (False, True):
        overall, by_cat = baselines(rec, hist, customers, recent)
        tag = "recent" if recent else "all-time"
        res[f"overall popularity ({tag})"] = hit_rate_at_k(overall, new, k=K)
        res[f"category popularity ({tag})"] = hit_rate_at_k(by_cat, new, k=K)
    # repurchase dates: median absolute error of the due date for the first repeat in the holdout
    firsts = hold.groupby(["customer_id", "product_id"])["order_date"].min()
    errs = [abs((firsts[(c, q)] - due).days) for c, v in ba.items() for q, due in v
            if due is not None and (c, q) in firsts.index]
    res["repurchase_date_mae_median"] = float(np.median(errs)) if errs else float("nan")
    res["repurchase_dated"] = len(errs)
    return res


def main() -> None:
    from clientlens.datasets.generator import generate_shop

    t0 = time.perf_counter()
    shop = generate_shop(5000)
    orders, lines = shop.orders, shop.order_lines
    end = orders["order_date"].max()
    cut = end - pd.Timedelta(days=HOLDOUT_DAYS)
    val_cut = cut - pd.Timedelta(days=HOLDOUT_DAYS)
    grid = list(itertools.product([0.0, 0.5, 1.0, 2.0, 4.0], [30, 90, 365]))
    val_o = orders[orders["order_date"] <= cut]
    val = evaluate(val_o, lines[lines["order_id"].isin(val_o["order_id"])], val_cut, grid)
    best = max(val["discover"].items(), key=lambda kv: kv[1])[0]  # type: ignore[union-attr]
    print(f"validation split (calibration to {val_cut.date()}, {HOLDOUT_DAYS} days): discover hit@10 by "
          "(category_weight, recent_days):")
    for key, v in val["discover"].items():  # type: ignore[union-attr]
        print(f"  {key}: {v:.3f}")
    print(f"chosen: category_weight={best[0]}, recent_days={best[1]}")
    test = evaluate(orders, lines, cut, [(0.0, best[1]), best])
    print(f"\nholdout (calibration to {cut.date()}, {HOLDOUT_DAYS}-day holdout): {test['customers']:,} customers "
          f"buying in both; {test['new_customers']:,} bought a product new to them, "
          f"{test['again_customers']:,} bought one again\n")
    print("| list / baseline | hit@10 | on |")
    print("|---|---:|---|")
    print(f"| buy again | {test['buy_again']:.3f} | products bought again |")
    print(f"| discover (item-item + category, weight {best[0]}, {best[1]} days) | "
          f"{test['discover'][best]:.3f} | products new to the customer |")  # type: ignore[index]
    print(f"| discover, item-item only (weight 0) | {test['discover'][(0.0, best[1])]:.3f} | "  # type: ignore[index]
          "products new to the customer |")
    for key in ("category popularity (all-time)", "category popularity (recent)",
                "overall popularity (all-time)", "overall popularity (recent)"):
        print(f"| {key} | {test[key]:.3f} | products new to the customer |")
    print(f"\nrepurchase date: median absolute error {test['repurchase_date_mae_median']:.0f} days over "
          f"{test['repurchase_dated']:,} dated products bought again in the holdout")
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
