"""Orders and order lines of one block of customers, vectorised over the block.

Each purchasing customer's plan (profile, archetypes and their parameters) becomes: a purchase
rhythm (number of completed orders, mean gap ``g``, recency), extra returned / cancelled orders,
channels, and lines whose promotion, new-arrival, category and quantity shares realise the
archetype parameters exactly (members are rounded up, non-members down, so that even a customer
with two items shows its archetype's meaning).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from clientlens.datasets.archetypes import ARCHETYPES, CHANNEL_WEIGHTS, GeneratorSettings
from clientlens.datasets.catalogue import Catalogue
from clientlens.datasets.localtime import local_to_utc

CHANNELS = ("online", "in_store", "phone", "marketplace")
_HOURS = {  # local opening hours (first, last) of each order channel
    "online": (7, 23), "in_store": (9, 18), "phone": (9, 17), "marketplace": (7, 23),
}
_PROMO_RATES = np.array([0.10, 0.15, 0.20, 0.25, 0.30, 0.40, 0.50])
_NONBULK_QTY = (np.array([1, 2, 3]), np.array([0.80, 0.15, 0.05]))


@dataclass(frozen=True)
class Purchases:
    """Result of :func:`make_purchases` for one block."""

    orders: pd.DataFrame
    lines: pd.DataFrame
    #: per customer of the block: first completed purchase day (days from history start, -1 if none),
    #: completed orders, final brand-loyal flag
    first_day: np.ndarray
    completed: np.ndarray
    brand_loyal: np.ndarray


def group_starts(group: np.ndarray, n_groups: int) -> np.ndarray:
    """Start offset of each group in an array sorted by group."""
    counts = np.bincount(group, minlength=n_groups)
    return np.concatenate([[0], np.cumsum(counts)[:-1]])


def rank_within(group: np.ndarray, rng: np.random.Generator, n_groups: int,
                last: np.ndarray | None = None) -> np.ndarray:
    """A random rank 0..m-1 of every element inside its group (``group`` sorted); elements flagged
    ``last`` rank after all the others of their group."""
    keys = [rng.random(len(group))]
    if last is not None:
        keys.append(last)
    order = np.lexsort((*keys, group))
    rank = np.empty(len(group), dtype=np.int64)
    rank[order] = np.arange(len(group)) - group_starts(group, n_groups)[group[order]]
    return rank


def realised_count(t: np.ndarray, m: np.ndarray, member: np.ndarray, borderline: np.ndarray) -> np.ndarray:
    """How many of ``m`` items show the behaviour: ceil for members, floor for others, round if borderline."""
    x = t * m
    return np.where(borderline, np.floor(x + 0.5), np.where(member, np.ceil(x - 1e-9), np.floor(x + 1e-9))).astype(np.int64)


def _rhythm(rng: np.random.Generator, plan: pd.DataFrame, cfg: GeneratorSettings
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(number of completed orders, mean gap g in days, recency r in days) per customer."""
    n = len(plan)
    profile = plan["profile"].to_numpy()
    H = cfg.history_days
    g = plan["occasional_param"].to_numpy(float).copy()
    ratio = plan["lapsing_param"].to_numpy(float)
    count = np.select(
        [profile == "regular", profile == "lapsing", profile == "occasional", profile == "new"],
        [4 + rng.poisson(cfg.regular_extra_orders_mean, n), 3 + rng.poisson(cfg.lapsing_extra_orders_mean, n),
         rng.integers(2, cfg.occasional_max_orders + 1, n), 1 + (rng.random(n) < cfg.new_second_order_share)],
        0)
    # lapsing buyers stopped at least lapsing_min_days ago; borderline ones only k x g ago
    floor = np.where(plan["lapsing_borderline"].to_numpy(), 0.0, cfg.lapsing_min_days)
    r = np.where(profile == "lapsing", np.maximum(ratio * g, floor), ratio * g)
    window = cfg.new_customer_window_days
    r_new = rng.uniform(0, window * 0.6, n)
    g_new = rng.uniform(5.0, np.maximum(6.0, window - r_new - 1))
    r = np.where(profile == "new", r_new, r)
    g = np.where(profile == "new", g_new, g)
    r = np.floor(np.clip(r, 0, H - 30))
    least = cfg.min_orders
    min_count = np.select([profile == "regular", profile == "lapsing", profile == "occasional"],
                          [least["regular"], least["lapsing"], least["occasional"]], 1)
    avail = 0.95 * (H - r)
    fit = 1 + np.floor(avail / g)
    count = np.where(profile == "prospect", 0, np.maximum(np.minimum(count, fit), min_count)).astype(np.int64)
    too_long = (count > 1) & ((count - 1) * g > avail)
    g = np.where(too_long, avail / np.maximum(count - 1, 1), g)
    return count, g, r


def _order_days(rng: np.random.Generator, plan: pd.DataFrame, count: np.ndarray, g: np.ndarray, r: np.ndarray,
                cfg: GeneratorSettings) -> tuple[np.ndarray, np.ndarray]:
    """(customer index, day) of every completed order, sorted by customer then day."""
    cust = np.repeat(np.arange(len(count)), count)
    occasional = plan["profile"].to_numpy()[cust] == "occasional"
    shape = cfg.regular_gap_shape
    gap = np.where(occasional, rng.lognormal(0.0, cfg.occasional_gap_sigma, len(cust)),
                   rng.gamma(shape, 1 / shape, len(cust)))
    starts = group_starts(cust, len(count))
    pos = np.arange(len(cust)) - starts[cust]
    is_last = pos == count[cust] - 1
    gap = np.where(is_last, 0.0, gap)  # gap after each order; none after the last
    total = np.bincount(cust, weights=gap, minlength=len(count))
    scale = np.where(total > 0, (count - 1) * g / np.where(total > 0, total, 1), 0.0)
    gap = np.maximum(np.where(is_last, 0.0, gap * scale[cust]), np.where(is_last, 0.0, 1.0))
    cum = np.cumsum(gap)
    before = cum - gap  # cumulative gap before this order, over the whole array
    group_total = np.bincount(cust, weights=gap, minlength=len(count))
    group_before = before - np.append(before, 0.0)[starts][cust]
    offset = group_total[cust] - group_before  # days from this order to the customer's last one
    H = cfg.history_days
    day = np.clip(H - r[cust] - np.round(offset), 0, H).astype(np.int64)
    return cust, day


def make_purchases(rng: np.random.Generator, plan: pd.DataFrame, cfg: GeneratorSettings, cat: Catalogue,
                   start: date, timezones: np.ndarray, customer_numbers: np.ndarray) -> Purchases:
    """Orders and lines for the customers of ``plan`` (one block)."""
    n = len(plan)
    count, g, r = _rhythm(rng, plan, cfg)
    cust, day = _order_days(rng, plan, count, g, r, cfg)
    status = np.full(len(cust), "completed", dtype=object)

    # extra returned / cancelled orders between the first and the last completed one
    first = np.full(n, -1, dtype=np.int64)
    last = np.full(n, -1, dtype=np.int64)
    if len(cust):
        span = pd.Series(day).groupby(cust).agg(["min", "max"])
        first[span.index.to_numpy()] = span["min"].to_numpy()
        last[span.index.to_numpy()] = span["max"].to_numpy()
    extra = np.where((count >= 2) & (rng.random(n) < cfg.returning_customer_share), 1 + (rng.random(n) < 0.2), 0)
    x_cust = np.repeat(np.arange(n), extra)
    x_day = rng.integers(first[x_cust], last[x_cust] + 1) if len(x_cust) else np.zeros(0, dtype=np.int64)
    x_status = np.where(rng.random(len(x_cust)) < cfg.returned_vs_cancelled, "returned", "cancelled")
    cust = np.concatenate([cust, x_cust])
    day = np.concatenate([day, x_day])
    status = np.concatenate([status, x_status.astype(object)])
    order = np.lexsort((rng.random(len(cust)), day, cust))
    cust, day, status = cust[order], day[order], status[order]

    # channel and local time of day -> UTC
    key = np.where(plan["international"].to_numpy(), "international", plan["ctype"].to_numpy())
    main = np.empty(n, dtype=object)
    for k in np.unique(key):
        w = CHANNEL_WEIGHTS[str(k)]
        p = np.array([w[c] for c in CHANNELS])
        sel = key == k
        main[sel] = np.array(CHANNELS, dtype=object)[rng.choice(len(CHANNELS), int(sel.sum()), p=p / p.sum())]
    stick = rng.uniform(cfg.channel_stickiness_low, 1.0, n)
    alt = np.empty(len(cust), dtype=object)
    for k in np.unique(key):
        w = CHANNEL_WEIGHTS[str(k)]
        p = np.array([w[c] for c in CHANNELS])
        sel = key[cust] == k
        alt[sel] = np.array(CHANNELS, dtype=object)[rng.choice(len(CHANNELS), int(sel.sum()), p=p / p.sum())]
    channel = np.where(rng.random(len(cust)) < stick[cust], main[cust], alt)
    lo = np.array([_HOURS[str(c)][0] for c in channel])
    hi = np.array([_HOURS[str(c)][1] for c in channel])
    minute = (rng.uniform(lo, hi) * 60).astype(np.int64)
    local = (np.datetime64(start, "ns") + day.astype("timedelta64[D]").astype("timedelta64[ns]")
             + (minute * 60 + rng.integers(0, 60, len(cust))).astype("timedelta64[s]").astype("timedelta64[ns]"))
    when = local_to_utc(local, timezones[cust])

    pos = np.arange(len(cust)) - group_starts(cust, n)[cust]
    order_ids = np.array([f"O{c:07d}-{p:02d}" for c, p in zip(customer_numbers[cust].tolist(), pos.tolist(), strict=True)],
                         dtype=object)

    completed = np.bincount(cust[status == "completed"], minlength=n)
    loyal = plan["brand_loyal"].to_numpy() & (completed >= cfg.brand_loyal_min_orders)
    loyal_border = plan["brand_loyal_borderline"].to_numpy() & (completed >= cfg.brand_loyal_min_orders)
    lines = _make_lines(rng, plan, cfg, cat, cust, day, status == "completed", loyal, loyal_border, n)

    line_order = lines.pop("_order").to_numpy()
    net = lines["quantity"].to_numpy() * lines["unit_price"].to_numpy() - lines["discount"].to_numpy()
    total = np.round(np.bincount(line_order, weights=net, minlength=len(cust)), 2)
    disc = np.round(np.bincount(line_order, weights=lines["discount"].to_numpy(), minlength=len(cust)), 2)
    lines.insert(0, "order_id", order_ids[line_order])
    orders = pd.DataFrame({
        "order_id": order_ids, "customer_id": plan["customer_id"].to_numpy()[cust],
        "order_date": when, "channel": channel, "currency": cfg.currency,
        "total": total, "discount_total": disc, "status": status,
    })
    return Purchases(orders, lines, first, completed, loyal)


def _make_lines(rng: np.random.Generator, plan: pd.DataFrame, cfg: GeneratorSettings, cat: Catalogue,
                o_cust: np.ndarray, o_day: np.ndarray, o_completed: np.ndarray, loyal: np.ndarray,
                loyal_border: np.ndarray,
                n: int) -> pd.DataFrame:
    """Lines of every order; promotion, new-arrival and category shares realise the plan."""
    bulk = plan["bulk_buyer"].to_numpy()
    bulk_style = bulk | plan["bulk_buyer_borderline"].to_numpy()
    n_lines = 1 + np.minimum(rng.poisson(np.where(bulk_style[o_cust], cfg.bulk_extra_lines_mean,
                                                 cfg.extra_lines_mean)), cfg.max_lines_per_order - 1)
    l_order = np.repeat(np.arange(len(o_cust)), n_lines)
    l_cust = o_cust[l_order]
    l_day = o_day[l_order]
    L = len(l_order)
    # shares are realised over the lines of completed orders; returned / cancelled lines follow t
    other = ~o_completed[l_order]
    m = np.bincount(l_cust[~other], minlength=n)

    def flags(arch: str) -> np.ndarray:
        t = plan[f"{arch}_param"].to_numpy(float)
        k = realised_count(t, m, plan[arch].to_numpy(), plan[f"{arch}_borderline"].to_numpy())
        return np.where(other, rng.random(L) < t[l_cust], rank_within(l_cust, rng, n, other) < k[l_cust])

    promo = flags("price_conscious")
    new = flags("trend_seeker")

    # categories: perm[c, 0] is the favourite; loyal-style customers put k items there
    n_cat = len(cat.category_names)
    perm = np.argsort(rng.random((n, n_cat)), axis=1)
    spread = rng.integers(5, 9, n)
    loyal_style = loyal | loyal_border
    t = np.where(loyal, plan["brand_loyal_param"].to_numpy(float), 0.0)
    t = np.where(loyal_border, plan["brand_loyal_param"].to_numpy(float), t)
    k_fav = realised_count(t, m, loyal, loyal_border)
    rank = rank_within(l_cust, rng, n, other)
    slot_loyal = np.where(rank < k_fav[l_cust], 0, 1 + (rank - k_fav[l_cust]) % (spread[l_cust] - 1))
    slot = np.where(loyal_style[l_cust], slot_loyal, rank % spread[l_cust])
    l_cat = perm[l_cust, slot]

    # products: new arrivals launched within the window; otherwise older ones, or a loyal favourite
    fav = np.full((n, 3), -1, dtype=np.int64)
    for ci in range(n_cat):
        base = cat.base_rows[ci]
        sel = perm[:, 0] == ci
        fav[sel] = base[rng.integers(0, len(base), (int(sel.sum()), 3))]
    product = np.empty(L, dtype=np.int64)
    u = rng.random(L)
    window = cfg.new_arrival_days
    for ci in range(n_cat):
        rows, launch = cat.by_category[ci]
        sel = l_cat == ci
        d = l_day[sel]
        lo_new = np.searchsorted(launch, d - window, "left")
        hi_new = np.searchsorted(launch, d, "right")
        hi_old = np.maximum(np.searchsorted(launch, d - window, "left"), 1)
        has_new = hi_new > lo_new
        pick_new = lo_new + np.floor(u[sel] * (hi_new - lo_new)).astype(np.int64)
        pick_old = np.floor(u[sel] * hi_old).astype(np.int64)
        want_new = new[sel]
        idx = np.where(want_new & has_new, pick_new, np.where(want_new, np.maximum(hi_new - 1, 0), pick_old))
        product[sel] = rows[idx]
    use_fav = (loyal_style[l_cust] & (slot == 0) & ~new & (rng.random(L) < cfg.favourite_product_share))
    product = np.where(use_fav, fav[l_cust, rng.integers(0, 3, L)], product)

    bulk_q = plan["bulk_buyer_param"].to_numpy(float)
    qty_bulk = np.maximum(1, np.round(bulk_q[l_cust] * rng.uniform(0.7, 1.3, L)))
    qty_small = rng.choice(_NONBULK_QTY[0], L, p=_NONBULK_QTY[1])
    qty = np.where(bulk_style[l_cust], qty_bulk, qty_small).astype(np.int64)
    price = cat.price[product]
    discount = np.where(promo, np.round(qty * price * rng.choice(_PROMO_RATES, L), 2), 0.0)
    age = l_day - cat.launch_day[product]
    products = cat.products
    return pd.DataFrame({
        "product_id": products["product_id"].to_numpy()[product],
        "product_name": products["name"].to_numpy()[product],
        "category": products["category"].to_numpy()[product],
        "quantity": qty,
        "unit_price": price,
        "discount": discount,
        "is_new_arrival": (age >= 0) & (age <= window),
        "_order": l_order,
    })


def archetype_thresholds() -> dict[str, float]:
    """The documented rule thresholds (for evaluation helpers)."""
    return {k: a.threshold for k, a in ARCHETYPES.items()}
