"""A snapshot: one analysis run of a shop as of a date, and its Parquet layout (``--out DIR``).

Files (docs/interfaces.md): ``features.parquet``, ``labels.parquet``, ``scores.parquet`` (when the models
gave scores), ``summary.parquet``, ``pareto.parquet``, ``pareto_stats.parquet``, ``run.json``; plus
``retention.parquet`` (monthly cohort retention). Rows are sorted by their key, ``customer_id`` as a
string.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from clientlens.segments.evidence import LABEL_COLUMNS

SCORE_COLUMNS = ["customer_id", "model", "p_alive", "expected_purchases_90d", "expected_purchases_365d", "clv",
                 "expected_next_order", "next_products", "model_status",
                 "purchases_365d_low", "purchases_365d_high", "clv_low", "clv_high"]  # intervals: 0017


@dataclass
class Snapshot:
    """Everything one analysis produced (all pandas frames, sorted by key)."""

    shop: str
    as_of: date
    engine: str
    features: pd.DataFrame
    labels: pd.DataFrame
    summary: pd.DataFrame
    pareto: pd.DataFrame
    pareto_stats: dict[str, float]
    retention: pd.DataFrame
    scores: pd.DataFrame | None = None
    run: dict[str, Any] = field(default_factory=dict)

    def customer(self, customer_id: Any) -> pd.DataFrame:
        """Every label of one customer with its evidence."""
        return self.labels[self.labels["customer_id"] == str(customer_id)].reset_index(drop=True)

    def members(self, taxonomy: str, label: str) -> list[str]:
        """Customer ids holding ``taxonomy=label``."""
        sel = (self.labels["taxonomy"] == taxonomy) & (self.labels["label"] == label)
        return sorted(self.labels.loc[sel, "customer_id"].unique().tolist())

    def label_matrix(self, taxonomy: str) -> pd.Series:
        """customer_id -> label of a single-label taxonomy."""
        sel = self.labels[self.labels["taxonomy"] == taxonomy]
        return sel.set_index("customer_id")["label"]

    def write_parquet(self, out_dir: str | Path) -> list[Path]:
        """Write the snapshot as the Parquet files of docs/interfaces.md; returns the paths written."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []

        def put(df: pd.DataFrame, name: str) -> None:
            path = out / name
            pq.write_table(pa.Table.from_pandas(df.reset_index(drop=True), preserve_index=False), path)
            written.append(path)

        put(features_for_output(self.features), "features.parquet")
        put(self.labels[LABEL_COLUMNS], "labels.parquet")
        if self.scores is not None:
            put(scores_for_output(self.scores), "scores.parquet")
        elif (out / "scores.parquet").exists():
            (out / "scores.parquet").unlink()
        put(self.summary, "summary.parquet")
        put(self.pareto.sort_values(["customers_share", "revenue_share"]), "pareto.parquet")
        put(pd.DataFrame([self.pareto_stats])[["top20_revenue_share", "gini"]], "pareto_stats.parquet")
        put(self.retention, "retention.parquet")
        run_path = out / "run.json"
        run_path.write_text(json.dumps(json_safe(self.run), indent=2, ensure_ascii=False) + "\n", "utf-8")
        written.append(run_path)
        return written


def features_for_output(features: pd.DataFrame) -> pd.DataFrame:
    """``customer_id`` (string) first, rows sorted by it; money and shares as doubles."""
    df = features.reset_index(drop="customer_id" in features.columns).copy()
    df["customer_id"] = df["customer_id"].astype(str)
    cols = ["customer_id"] + [c for c in df.columns if c != "customer_id"]
    return df[cols].sort_values("customer_id", kind="mergesort").reset_index(drop=True)


def scores_for_output(scores: pd.DataFrame) -> pd.DataFrame:
    df = scores.reset_index(drop="customer_id" in scores.columns).copy()
    df["customer_id"] = df["customer_id"].astype(str)
    for col in SCORE_COLUMNS:
        if col not in df.columns:
            df[col] = None
    if "next_products" in df.columns:
        df["next_products"] = [v if isinstance(v, str) or v is None else json.dumps(list(v))
                               for v in df["next_products"]]
    return df[SCORE_COLUMNS].sort_values("customer_id", kind="mergesort").reset_index(drop=True)


def json_safe(obj: Any) -> Any:
    """Python/JSON-friendly copy of ``obj`` (numpy scalars, dates, NaN -> null)."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if obj is None or obj is pd.NaT or obj is pd.NA:
        return None
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
        obj = obj.item()
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    return obj
