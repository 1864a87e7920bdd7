"""Calibration / holdout validation of the transaction models, and the choice of the best one.

As in Fader, Hardie & Lee (2005a, section 4): fit on the calibration period, predict each
customer's holdout purchases conditionally on the calibration history, and compare with what they
did: totals, per-customer MAE and RMSE, the table of mean holdout purchases by calibration
frequency, and the cumulative repeat-purchase tracking curve. The best model has the lowest
per-customer holdout MAE (ties: higher log-likelihood).

The choice is persisted by ``clientlens validate --save`` in a small JSON file (``[models]
selection_file``) next to a SQLite store, or in the current folder for other stores:
``{"<shop>": {"model": "pareto_nbd", "calibration_end": ..., "holdout_end": ..., "mae": {...}}}``;
``analyze`` reads it through :func:`load_selection`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clientlens.errors import InputError, ModelError
from clientlens.models import TRANSACTION_MODELS
from clientlens.models.clv import unit_days

log = logging.getLogger(__name__)

#: Calibration frequencies shown one by one in the table; higher ones are pooled as "7+".
MAX_FREQUENCY_ROW = 7


@dataclass
class ModelReport:
    """How one model did on the holdout."""

    name: str
    params: dict[str, float]
    log_likelihood: float
    predicted_total: float
    actual_total: float
    mae: float
    rmse: float


@dataclass
class ValidationResult:
    """Reports of every model, the by-frequency table, the tracking curve and the best model."""

    calibration_end: str
    holdout_end: str
    time_unit: str
    customers: int
    reports: list[ModelReport]
    by_frequency: pd.DataFrame
    tracking: pd.DataFrame
    best: str
    meta: dict[str, Any] = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """One row per model: log-likelihood, holdout totals, MAE, RMSE."""
        return pd.DataFrame([r.__dict__ for r in self.reports]).drop(columns=["params"])


def validate_models(orders: Any, *, calibration_end: Any, holdout_end: Any = None, time_unit: str = "W",
                    models: Sequence[str] | None = None, penalizer_coef: float = 0.0,
                    progress: Callable[[str], None] | None = None) -> ValidationResult:
    """Split ``orders`` (canonical orders frame) at ``calibration_end``, fit each model on the
    calibration summary and score its holdout predictions (holdout ends at ``holdout_end``, by
    default the last order)."""
    from clientlens.features import rfm_summary

    frame = orders if isinstance(orders, pd.DataFrame) else orders.to_pandas()
    if frame.empty:
        raise InputError("no orders to validate on")
    cal = pd.Timestamp(calibration_end).normalize()
    end = pd.Timestamp(holdout_end).normalize() if holdout_end is not None else pd.Timestamp(
        frame["order_date"].max()).normalize()
    if end <= cal:
        raise InputError(f"holdout end {end.date()} must be after the calibration end {cal.date()}")
    summary = rfm_summary(frame, calibration_end=cal, observation_end=end, time_unit=time_unit)
    if len(summary) == 0:
        raise InputError(f"no customer bought on or before the calibration end {cal.date()}")
    names = list(models) if models else list(TRANSACTION_MODELS)
    actual = summary["frequency_holdout"].to_numpy(dtype=float)
    duration = summary["duration_holdout"].to_numpy(dtype=float)
    reports, fitted = [], {}
    for name in names:
        if name not in TRANSACTION_MODELS:
            raise ModelError(f"unknown model {name!r}; use {', '.join(TRANSACTION_MODELS)}")
        if progress:
            progress(name)
        m = TRANSACTION_MODELS[name](penalizer_coef=penalizer_coef).fit(summary)
        pred = m.expected_purchases(duration, summary)
        err = pred - actual
        reports.append(ModelReport(name, dict(m.params_), m.log_likelihood_, float(pred.sum()), float(actual.sum()),
                                   float(np.mean(np.abs(err))), float(np.sqrt(np.mean(err**2)))))
        fitted[name] = (m, pred)
    best = min(reports, key=lambda r: (round(r.mae, 12), -r.log_likelihood)).name
    freq = summary["frequency"].to_numpy()
    bucket = np.minimum(freq, MAX_FREQUENCY_ROW).astype(int)
    table = pd.DataFrame({"frequency": bucket, "actual": actual})
    for name, (_, pred) in fitted.items():
        table[name] = pred
    by_freq = table.groupby("frequency").agg(customers=("actual", "size"), actual=("actual", "mean"),
                                             **{n: (n, "mean") for n in fitted}).reset_index()
    by_freq["frequency"] = [f"{int(f)}+" if f == MAX_FREQUENCY_ROW else str(int(f)) for f in by_freq["frequency"]]
    tracking = _tracking(frame, summary, cal, end, time_unit, {n: m for n, (m, _) in fitted.items()})
    return ValidationResult(str(cal.date()), str(end.date()), time_unit, len(summary), reports, by_freq, tracking,
                            best)


def _tracking(orders: pd.DataFrame, summary: pd.DataFrame, cal: pd.Timestamp, end: pd.Timestamp,
              time_unit: str, fitted: dict[str, Any]) -> pd.DataFrame:
    """Cumulative repeat purchases (distinct purchase days after the first) of the calibration
    cohort per time unit, actual and predicted by each model's unconditional E[X(t)] from each
    customer's first purchase (FHL 2005a, figure 2)."""
    days = unit_days(time_unit)
    o = orders
    if "status" in o.columns:
        o = o[~o["status"].astype("string").str.lower().isin(["returned", "cancelled"]).fillna(False)]
    o = o[o["customer_id"].astype(str).isin(summary.index.astype(str))]
    day = pd.to_datetime(o["order_date"]).dt.normalize()
    pairs = pd.DataFrame({"c": o["customer_id"].astype(str).to_numpy(), "d": day.to_numpy()}).drop_duplicates()
    pairs = pairs[pairs["d"] <= end]
    first = pairs.groupby("c")["d"].transform("min")
    repeat_days = pairs.loc[pairs["d"] > first, "d"]
    start = pairs["d"].min()
    n_steps = int(np.ceil(((end - start).days + 1) / days))
    edges = start + pd.to_timedelta(np.arange(1, n_steps + 1) * days, unit="D")
    actual = np.searchsorted(np.sort(repeat_days.to_numpy()), edges.to_numpy(), side="left")
    first_by_customer = pairs.groupby("c")["d"].min()
    offsets = ((first_by_customer - start).dt.days.to_numpy() / days)
    uniq, counts = np.unique(offsets, return_counts=True)
    out = pd.DataFrame({"period": np.arange(1, n_steps + 1), "date": edges, "actual": actual.astype(float)})
    for name, m in fitted.items():
        tgrid = np.arange(1, n_steps + 1, dtype=float)
        pred = np.zeros(n_steps)
        for off, cnt in zip(uniq, counts, strict=True):
            age = np.clip(tgrid - off, 0.0, None)
            pred += cnt * np.where(age > 0, m.expected_purchases_new(np.maximum(age, 1e-12)), 0.0)
        out[name] = pred
    out["calibration"] = out["date"] <= cal + pd.Timedelta(days=1)
    return out


def plot_validation(result: ValidationResult, out_dir: str | Path) -> list[Path]:
    """Write the by-frequency chart and the tracking chart as PNG and SVG (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = [r.name for r in result.reports]
    paths: list[Path] = []
    fig, ax = plt.subplots(figsize=(7, 4.5))
    x = np.arange(len(result.by_frequency))
    ax.plot(x, result.by_frequency["actual"], "k-o", label="actual")
    for name in names:
        ax.plot(x, result.by_frequency[name], "--o", label=name)
    ax.set_xticks(x, result.by_frequency["frequency"])
    ax.set_xlabel("purchases in the calibration period (repeat)")
    ax.set_ylabel("mean purchases in the holdout")
    ax.set_title(f"Holdout purchases by calibration frequency (to {result.calibration_end})")
    ax.legend()
    fig.tight_layout()
    for ext in ("png", "svg"):
        p = out / f"holdout_by_frequency.{ext}"
        fig.savefig(p)
        paths.append(p)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    tr = result.tracking
    ax.plot(tr["date"], tr["actual"], "k-", label="actual")
    for name in names:
        ax.plot(tr["date"], tr[name], "--", label=name)
    ax.axvline(pd.Timestamp(result.calibration_end), color="grey", linestyle=":")
    ax.set_ylabel("cumulative repeat purchases")
    ax.set_title("Tracking cumulative repeat purchases")
    ax.legend()
    fig.autofmt_xdate()
    fig.tight_layout()
    for ext in ("png", "svg"):
        p = out / f"tracking_cumulative.{ext}"
        fig.savefig(p)
        paths.append(p)
    plt.close(fig)
    return paths


def selection_path(db_url: str | None, file_name: str) -> Path:
    """Where the model choice lives: next to a SQLite store file, else in the current folder."""
    if db_url and db_url.startswith("sqlite:///") and ":memory:" not in db_url:
        return Path(db_url[len("sqlite:///"):]).expanduser().resolve().parent / file_name
    return Path(file_name).resolve()


def save_selection(path: Path, shop: str, result: ValidationResult) -> None:
    """Record ``result.best`` for ``shop`` in the selection file (other shops kept)."""
    doc: dict[str, Any] = {}
    if path.exists():
        try:
            doc = json.loads(path.read_text("utf-8"))
        except json.JSONDecodeError:
            log.warning("%s is not valid JSON; rewriting it", path)
    doc[shop] = {"model": result.best, "calibration_end": result.calibration_end, "holdout_end": result.holdout_end,
                 "time_unit": result.time_unit, "mae": {r.name: r.mae for r in result.reports},
                 "saved_at": datetime.now(UTC).isoformat(timespec="seconds")}
    path.write_text(json.dumps(doc, indent=2, sort_keys=True), "utf-8")


def load_selection(path: Path, shop: str) -> str | None:
    """The model name saved for ``shop``, or None."""
    if not path.exists():
        return None
    try:
        entry = json.loads(path.read_text("utf-8")).get(shop)
    except (json.JSONDecodeError, AttributeError):
        return None
    name = entry.get("model") if isinstance(entry, dict) else None
    return name if name in TRANSACTION_MODELS else None
