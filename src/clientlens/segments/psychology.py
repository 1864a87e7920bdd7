"""psychology (multi-label): price_conscious, brand_loyal, trend_seeker.

Each needs enough evidence: at least ``min_items`` items over ``min_orders`` completed orders
(brand_loyal: ``brand_loyal_min_orders`` orders and ``brand_loyal_min_items`` items).
"""

from __future__ import annotations

import pandas as pd

from clientlens.segments.base import LabelContext
from clientlens.segments.evidence import make_labels

TAXONOMY = "psychology"


def label(df: pd.DataFrame, ctx: LabelContext) -> list[pd.DataFrame]:
    rules = ctx.rules.psychology
    d = ctx.digits
    has_lines = df["items_per_order"].notna()
    items = (df["items_per_order"] * df["orders"]).where(has_lines, 0.0)
    enough = (df["orders"] >= rules.min_orders) & (items >= rules.min_items)
    ids = df["customer_id"]

    price = enough & (df["promo_item_share"] >= rules.price_conscious_min_promo_share)
    # without order lines, the share of spend on discounted orders stands in for the item share
    by_orders = (~has_lines & ~price & (df["orders"] >= max(rules.min_orders, rules.min_items))
                 & (df["promo_spend_share"] >= rules.price_conscious_min_promo_share))
    trend = enough & (df["new_arrival_share"] >= rules.trend_seeker_min_new_arrival_share)
    loyal_base = (enough & (df["orders"] >= rules.brand_loyal_min_orders)
                  & (items >= rules.brand_loyal_min_items))
    by_category = loyal_base & (df["top_category_share"] >= rules.brand_loyal_min_top_category_share)
    by_repeat = loyal_base & ~by_category & (
        df["repeat_product_share"] >= rules.brand_loyal_min_repeat_product_share)
    return [
        make_labels(ids[price], TAXONOMY, "price_conscious", "psychology.price_conscious",
                    {"promo_item_share": df.loc[price, "promo_item_share"], "items": items[price],
                     "min_promo_share": rules.price_conscious_min_promo_share, "min_items": rules.min_items},
                    digits=d),
        make_labels(ids[by_orders], TAXONOMY, "price_conscious", "psychology.price_conscious.orders",
                    {"promo_spend_share": df.loc[by_orders, "promo_spend_share"], "orders": df.loc[by_orders, "orders"],
                     "min_promo_share": rules.price_conscious_min_promo_share,
                     "min_orders": max(rules.min_orders, rules.min_items)}, digits=d),
        make_labels(ids[by_category], TAXONOMY, "brand_loyal", "psychology.brand_loyal.category",
                    {"top_category_share": df.loc[by_category, "top_category_share"],
                     "orders": df.loc[by_category, "orders"],
                     "min_top_category_share": rules.brand_loyal_min_top_category_share,
                     "min_orders": rules.brand_loyal_min_orders}, digits=d),
        make_labels(ids[by_repeat], TAXONOMY, "brand_loyal", "psychology.brand_loyal.repeat",
                    {"repeat_product_share": df.loc[by_repeat, "repeat_product_share"],
                     "orders": df.loc[by_repeat, "orders"],
                     "min_repeat_product_share": rules.brand_loyal_min_repeat_product_share,
                     "min_orders": rules.brand_loyal_min_orders}, digits=d),
        make_labels(ids[trend], TAXONOMY, "trend_seeker", "psychology.trend_seeker",
                    {"new_arrival_share": df.loc[trend, "new_arrival_share"], "items": items[trend],
                     "min_new_arrival_share": rules.trend_seeker_min_new_arrival_share,
                     "min_items": rules.min_items}, digits=d),
    ]
