"""Export the customers holding some labels: one row per customer, one column per taxonomy.

Filters on the same taxonomy are alternatives (any of them); filters on different taxonomies must
all hold. The file type follows the extension: ``.csv``, ``.parquet`` or ``.xlsx``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

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


#: Text cells starting with one of these are read as formulas by spreadsheets (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A CSV cell that no spreadsheet evaluates: text starting with ``= + - @``, a tab or a carriage
    return gets a leading apostrophe (OWASP's CSV-injection rule); anything else is returned unchanged.

    >>> safe_cell("=1+2"), safe_cell("Ann"), safe_cell(-3)
    ("'=1+2", 'Ann', -3)
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """:func:`safe_cell` over one CSV row."""
    return [safe_cell(v) for v in values]


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells are :func:`safe_cell`-ed (for CSV output); column names too."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].map(safe_cell)
    out.columns = [safe_cell(c) if isinstance(c, str) else c for c in out.columns]
    return out


def write_xlsx(df: pd.DataFrame, out: Path) -> None:
    """``df`` as an Excel sheet where every text cell is stored as text (data type ``s``), never as a
    formula, whatever it starts with; missing values are empty cells."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append([str(c) for c in df.columns])
    for row in df.itertuples(index=False):
        ws.append([None if _missing(v) else v for v in row])
    for cells in ws.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    wb.save(out)


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def write_table(df: pd.DataFrame, out: Path) -> None:
    """``df`` to ``out`` (``.csv``, ``.parquet`` or ``.xlsx``), formula-safe in CSV and Excel."""
    suffix = out.suffix.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        # Every text cell quoted: a neutralised cell holding a carriage return stays one cell.
        safe_frame(df).to_csv(out, index=False, quoting=csv.QUOTE_NONNUMERIC)
    elif suffix == ".parquet":
        df.to_parquet(out, index=False)
    elif suffix == ".xlsx":
        write_xlsx(df, out)
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
