"""Export the customers holding some labels: one row per customer, one column per taxonomy.

Filters on the same taxonomy are alternatives (any of them); filters on different taxonomies must
all hold. The file type follows the extension: ``.csv``, ``.parquet`` or ``.xlsx``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from clientlens.analysis.store_io import load_snapshot
from clientlens.errors import ConfigError, InputError
from clientlens.money import exponent
from clientlens.segments.rules import TAXONOMIES

#: Feature columns copied into an export beside the labels.
EXPORT_FEATURES = ("name", "country", "orders", "total_spend", "recency_days", "last_purchase")
#: Of those, the amounts of money (in the snapshot's reporting currency, rounded to its digits).
MONEY_FEATURES = ("total_spend",)


def parse_label_filters(values: Iterable[str]) -> dict[str, set[str]]:
    """``["lifecycle=inactive", "value=high"]`` -> ``{"lifecycle": {"inactive"}, "value": {"high"}}``."""
    out: dict[str, set[str]] = {}
    for raw in values:
        taxonomy, sep, label = raw.partition("=")
        taxonomy, label = taxonomy.strip(), label.strip()
        if not sep or not taxonomy or not label:
            raise ConfigError(f"--label {raw!r}: write TAXONOMY=LABEL, e.g. lifecycle=inactive")
        if taxonomy not in TAXONOMIES:
            raise ConfigError(f"--label {raw!r}: unknown taxonomy {taxonomy!r}; one of {', '.join(TAXONOMIES)}")
        if label not in TAXONOMIES[taxonomy]:
            raise ConfigError(f"--label {raw!r}: {taxonomy} has no label {label!r}; "
                              f"one of {', '.join(TAXONOMIES[taxonomy])}")
        out.setdefault(taxonomy, set()).add(label)
    return out


def select_customers(labels: pd.DataFrame, filters: dict[str, set[str]]) -> list[str]:
    """Ids of the customers matching every taxonomy's filter."""
    ids: set[str] | None = None
    for taxonomy, wanted in filters.items():
        hit = labels[(labels["taxonomy"] == taxonomy) & labels["label"].isin(wanted)]["customer_id"]
        ids = set(hit) if ids is None else ids & set(hit)
    return sorted(ids or set())


def customer_table(labels: pd.DataFrame, features: pd.DataFrame, ids: list[str],
                   currency: str | None = None) -> pd.DataFrame:
    """customer_id, a few features, and one column per taxonomy (multi-label values joined by ';').

    With ``currency`` (the snapshot's reporting currency) the money columns are rounded to its digits
    and a ``currency`` column says which it is."""
    sel = labels[labels["customer_id"].isin(ids)]
    wide = (sel.groupby(["customer_id", "taxonomy"])["label"].agg(lambda s: ";".join(sorted(s)))
            .unstack("taxonomy"))
    wide = wide.reindex(index=ids, columns=[t for t in TAXONOMIES])
    feats = features.set_index("customer_id") if "customer_id" in features.columns else features
    cols = [c for c in EXPORT_FEATURES if c in feats.columns]
    out = feats.reindex(ids)[cols].join(wide)
    if currency:
        digits = exponent(currency)
        for col in MONEY_FEATURES:
            if col in out.columns:
                out[col] = pd.to_numeric(out[col], errors="coerce").round(digits)
        out.insert(out.columns.get_loc("total_spend") + 1 if "total_spend" in out.columns else len(out.columns),
                   "currency", currency)
    out.index.name = "customer_id"
    return out.reset_index()


def write_table(df: pd.DataFrame, out: Path) -> None:
    suffix = out.suffix.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        df.to_csv(out, index=False)
    elif suffix == ".parquet":
        df.to_parquet(out, index=False)
    elif suffix == ".xlsx":
        df.to_excel(out, index=False)
    else:
        raise InputError(f"{out}: use a .csv, .parquet or .xlsx file")


def export_customers(engine: Engine, shop: str, filters: dict[str, set[str]], out: Path, *,
                     as_of: date | None = None) -> int:
    """Write the customers of the snapshot matching ``filters`` to ``out``; returns how many."""
    snap = load_snapshot(engine, shop, as_of)
    ids = select_customers(snap.labels, filters)
    currency = (snap.run.get("reporting_currency") or {}).get("value") if isinstance(snap.run, dict) else None
    write_table(customer_table(snap.labels, snap.features, ids, currency), out)
    return len(ids)
