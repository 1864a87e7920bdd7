"""geography: domestic or international against the shop's home country (no label when unknown)."""

from __future__ import annotations

import pandas as pd

from clientlens.segments.base import LabelContext
from clientlens.segments.evidence import make_labels

TAXONOMY = "geography"


def label(df: pd.DataFrame, ctx: LabelContext) -> list[pd.DataFrame]:
    country = df["country"].astype(object).where(df["country"].notna(), "").astype(str).str.strip().str.upper()
    home_col = df["home_country"].astype(object)
    home = home_col.where(home_col.notna(), ctx.home_country or "")
    if ctx.home_country:
        home = pd.Series(ctx.home_country, index=df.index)
    home = home.astype(str).str.strip().str.upper()
    known = (country != "") & (home != "")
    domestic = known & (country == home)
    international = known & (country != home)
    ids = df["customer_id"]
    return [
        make_labels(ids[m], TAXONOMY, name, f"geography.{name}",
                    {"country": country[m], "home_country": home[m]}, digits=ctx.digits)
        for name, m in (("domestic", domestic), ("international", international))
    ]
