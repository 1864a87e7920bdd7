"""Flows between two snapshots: how many customers moved from one label to another.

A join of the two label tables on (customer_id, taxonomy). Customers absent from one side (new
customers, or a taxonomy that gave them no label) appear with a null label on that side.
"""

from __future__ import annotations

import pandas as pd

FLOW_COLUMNS = ["taxonomy", "from_label", "to_label", "customers"]


def label_flows(before: pd.DataFrame, after: pd.DataFrame, *, taxonomy: str | None = None) -> pd.DataFrame:
    """Customers per (taxonomy, from_label, to_label), sorted by taxonomy then count (descending)."""
    a = before[["customer_id", "taxonomy", "label"]].rename(columns={"label": "from_label"})
    b = after[["customer_id", "taxonomy", "label"]].rename(columns={"label": "to_label"})
    if taxonomy is not None:
        a = a[a["taxonomy"] == taxonomy]
        b = b[b["taxonomy"] == taxonomy]
    a = a.astype({"customer_id": str})
    b = b.astype({"customer_id": str})
    joined = a.merge(b, on=["customer_id", "taxonomy"], how="outer")
    if joined.empty:
        return pd.DataFrame({c: [] for c in FLOW_COLUMNS})
    out = (joined.fillna({"from_label": "", "to_label": ""})
           .groupby(["taxonomy", "from_label", "to_label"]).size().rename("customers").reset_index())
    for col in ("from_label", "to_label"):
        values = out[col].astype(object)
        out[col] = pd.Series([None if v == "" else v for v in values], index=out.index, dtype=object)
    out = out.sort_values(["taxonomy", "customers", "from_label", "to_label"],
                          ascending=[True, False, True, True], na_position="first").reset_index(drop=True)
    return out[FLOW_COLUMNS]
