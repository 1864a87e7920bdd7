"""Files mode: read a file (orders) or a folder of canonical files, validated like an import.

Rejected rows go to ``<input name>.rejected.csv`` in the current directory (INTERFACES.md); the
valid rows are analysed. Money is converted to the reporting currency with a ``rates`` file when the
orders hold more than one currency.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from clientlens.config import Settings
from clientlens.errors import InputError

log = logging.getLogger(__name__)

#: Frame kind -> file stems recognised in a source folder.
FOLDER_FILES: dict[str, tuple[str, ...]] = {
    "customers": ("customers",),
    "orders": ("orders",),
    "order_lines": ("order_lines", "order-lines", "orderlines", "lines"),
    "products": ("products",),
    "interactions": ("interactions",),
    "feedback": ("feedback",),
    "rates": ("rates", "exchange_rates"),
}
SUFFIXES = (".csv", ".csv.gz", ".txt", ".txt.gz", ".parquet", ".xlsx")


@dataclass
class SourceRead:
    """The canonical frames read from a source, and the rows rejected on the way."""

    frames: dict[str, pa.Table]
    rejected: dict[str, int] = field(default_factory=dict)
    quarantine: list[Path] = field(default_factory=list)
    read: dict[str, int] = field(default_factory=dict)
    unconverted_currencies: list[str] = field(default_factory=list)

    @property
    def total_rejected(self) -> int:
        return sum(self.rejected.values())


def find_source_files(path: Path) -> dict[str, Path]:
    """Frame kind -> file, for a single orders file or a folder."""
    if path.is_file():
        return {"orders": path}
    if not path.is_dir():
        raise InputError(f"{path}: no such file or folder")
    found: dict[str, Path] = {}
    for kind, stems in FOLDER_FILES.items():
        for stem in stems:
            hits = [path / f"{stem}{suffix}" for suffix in SUFFIXES if (path / f"{stem}{suffix}").exists()]
            if hits:
                found[kind] = hits[0]
                break
    if "orders" not in found:
        raise InputError(f"{path}: the folder has no orders file (orders.csv, orders.parquet or orders.xlsx)")
    return found


def read_source(path: str | Path, *, settings: Settings, shop: str = "default", mapping: Any = None,
                options: Any = None, quarantine_dir: str | Path | None = None) -> SourceRead:
    """Validated canonical frames of ``path``; quarantine files written for rejected rows."""
    from clientlens.ingest import read_table, write_quarantine

    files = find_source_files(Path(path))
    out = SourceRead(frames={})
    for kind, file in files.items():
        result = read_table(file, kind, mapping=mapping if kind == "orders" else None,
                            options=options if kind == "orders" else None, settings=settings)
        out.frames[kind] = result.table
        out.read[kind] = result.read
        if result.rejected:
            out.rejected[kind] = result.rejected
            written = write_quarantine(result, file, directory=quarantine_dir)
            if written is not None:
                out.quarantine.append(written)
    rates = out.frames.pop("rates", None)
    reporting = settings.shop(shop).currency
    out.unconverted_currencies = convert_to_reporting(out.frames, rates, reporting)
    return out


def _most_common(values: pd.Series) -> str | None:
    counts = values.dropna().astype(str).value_counts()
    if counts.empty:
        return None
    top = counts[counts == counts.max()].index
    return str(sorted(top)[0])


def convert_to_reporting(frames: dict[str, pa.Table], rates: pa.Table | None, reporting: str | None) -> list[str]:
    """Convert order and line money to the reporting currency in place; returns currencies without rates.

    Rate of a day: the latest rate on or before it, else the earliest after it.
    """
    orders = frames["orders"].to_pandas()
    if "currency" not in orders.columns or orders["currency"].dropna().empty:
        return []
    reporting = reporting or _most_common(orders["currency"])
    foreign = sorted(set(orders["currency"].dropna().astype(str)) - {reporting})
    if not foreign:
        return []
    rate = pd.Series(1.0, index=orders.index)
    missing: list[str] = []
    table = rates.to_pandas() if rates is not None else pd.DataFrame(columns=["date", "currency", "rate_to_reporting"])
    table["date"] = pd.to_datetime(table["date"])
    day = pd.to_datetime(orders["order_date"]).dt.normalize()
    for cur in foreign:
        sel = (orders["currency"] == cur).to_numpy()
        r = table[table["currency"] == cur].sort_values("date")
        if r.empty:
            missing.append(cur)
            continue
        dates = r["date"].to_numpy()
        idx = np.searchsorted(dates, day[sel].to_numpy(), side="right") - 1
        idx = np.where(idx < 0, 0, idx)
        rate[sel] = r["rate_to_reporting"].astype(float).to_numpy()[idx]
    if missing:
        log.warning("no exchange rates for %s: amounts in those currencies are left unconverted", missing)
    for col in ("total", "discount_total"):
        if col in orders.columns:
            orders[col] = orders[col] * rate
    frames["orders"] = pa.Table.from_pandas(orders, preserve_index=False)
    if "order_lines" in frames:
        lines = frames["order_lines"].to_pandas()
        by_order = pd.Series(rate.to_numpy(), index=orders["order_id"].astype(str)).groupby(level=0).first()
        line_rate = lines["order_id"].astype(str).map(by_order).fillna(1.0)
        for col in ("unit_price", "discount"):
            if col in lines.columns:
                lines[col] = lines[col] * line_rate
        frames["order_lines"] = pa.Table.from_pandas(lines, preserve_index=False)
    return missing
