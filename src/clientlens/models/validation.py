"""Calibration / holdout validation of the transaction models, and the one model choice.

As in Fader, Hardie & Lee (2005a, section 4): fit on the calibration period, predict each
customer's holdout purchases conditionally on the calibration history, and compare with what they
did: the holdout log-likelihood of each customer's count (a proper score: the log of the
predicted probability of what the customer did, ``prob_purchases``), totals, per-customer MAE and
RMSE, the table of mean holdout purchases by calibration frequency, the cumulative tracking curve,
against two baselines (zero for everyone; the calibration rate ``frequency / T`` times the holdout
length), and the holdout spend (expected purchases times Gamma-Gamma spend against what customers
spent). **The best model has the highest holdout log-likelihood** (MAE alone barely separates the
models: most customers buy nothing in the holdout).

:func:`choose_model` is the one model choice of ``validate`` and ``analyze``: the choice that the
last validation saved for the shop, else the same validation on the automatic split of
:func:`auto_split`, else ``[models] default_model``. The choice is saved in a small JSON file
(``[models] selection_file``) next to a SQLite store, or in the current folder for other stores:
``{"<shop>": {"model": "pareto_nbd", "calibration_end": ..., "holdout_end": ..., "scores": {...}}}``.
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
from clientlens.features.btyd import unit_days
from clientlens.models import TRANSACTION_MODELS
from clientlens.models._base import TransactionModel
from clientlens.models.config import ModelSettings
from clientlens.models.health import fit_checked

log = logging.getLogger(__name__)

#: Calibration frequencies shown one by one in the table; higher ones are pooled as "7+".
MAX_FREQUENCY_ROW = 7
#: Smallest probability in the holdout log-likelihood (a count a model calls impossible).
MIN_PROBABILITY = 1e-300
#: Statuses of the order rows that are not purchases.
NOT_PURCHASES = ("returned", "cancelled")


@dataclass
class ModelReport:
    """How one model (or baseline) did on the holdout. ``holdout_log_likelihood`` is the mean per
    customer (NaN for the baselines); ``predicted_spend`` / ``spend_mae`` are in the orders' money."""

    name: str
    params: dict[str, float]
    log_likelihood: float
    predicted_total: float
    actual_total: float
    mae: float
    rmse: float
    holdout_log_likelihood: float = float("nan")
    predicted_spend: float = float("nan")
    actual_spend: float = float("nan")
    spend_mae: float = float("nan")
    status: str = "ok"


@dataclass
class ValidationResult:
    """Reports of every model and baseline, the by-frequency table, the tracking curve, the best model."""

    calibration_end: str
    holdout_end: str
    time_unit: str
    customers: int
    reports: list[ModelReport]
    by_frequency: pd.DataFrame
    tracking: pd.DataFrame
    best: str
    meta: dict[str, Any] = field(default_factory=dict)
    baselines: list[ModelReport] = field(default_factory=list)
    next_order: pd.DataFrame | None = None

    def table(self) -> pd.DataFrame:
        """One row per model, then the baselines: holdout log-likelihood, totals, MAE, RMSE, spend."""
        return pd.DataFrame([r.__dict__ for r in self.reports + self.baselines]).drop(columns=["params"])


def purchases_only(orders: pd.DataFrame) -> pd.DataFrame:
    """The order rows that are purchases (returned and cancelled ones left out)."""
    if "status" not in orders.columns:
        return orders
    return orders[~orders["status"].astype("string").str.lower().isin(NOT_PURCHASES).fillna(False)]


def holdout_log_likelihood(model: TransactionModel, summary: pd.DataFrame, actual: np.ndarray,
                           duration: np.ndarray) -> np.ndarray:
    """log P(Y(duration) = actual | history) per customer (the proper score of the choice)."""
    out = np.empty(len(actual))
    for n in np.unique(actual):
        rows = np.flatnonzero(actual == n)
        p = model.prob_purchases(int(n), duration[rows], summary.iloc[rows])
        out[rows] = np.log(np.maximum(p, MIN_PROBABILITY))
    return out


def _holdout_spend(orders: pd.DataFrame, summary: pd.DataFrame, cal: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    o = purchases_only(orders)
    day = pd.to_datetime(o["order_date"]).dt.normalize()
    o = o[(day > cal) & (day <= end)]
    spent = o.groupby(o["customer_id"].astype(str))["total"].sum()
    return spent.reindex(summary.index.astype(str)).fillna(0.0).to_numpy(dtype=float)


def _spend_per_purchase(summary: pd.DataFrame, cfg: ModelSettings) -> tuple[np.ndarray, str]:
    """Gamma-Gamma expected spend per purchase (each customer's mean when it cannot be fitted)."""
    from clientlens.models.gamma_gamma import GammaGamma

    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    if len(repeat) >= cfg.min_repeat_buyers:
        try:
            gg = GammaGamma(penalizer_coef=cfg.penalizer_coef).fit(repeat)
            return gg.expected_spend(summary), "gamma_gamma"
        except ModelError as exc:
            log.warning("no Gamma-Gamma spend model: %s", exc)
    mean = float(repeat["monetary_value"].mean()) if len(repeat) else 0.0
    return np.where(summary["frequency"] > 0, summary["monetary_value"], mean), "mean_spend"


def _report(name: str, params: dict[str, float], ll: float, pred: np.ndarray, actual: np.ndarray,
            spend: np.ndarray, actual_spend: np.ndarray, hll: float, status: str) -> ModelReport:
    err = pred - actual
    money = pred * spend
    return ModelReport(name, params, ll, float(pred.sum()), float(actual.sum()), float(np.mean(np.abs(err))),
                       float(np.sqrt(np.mean(err**2))), hll, float(money.sum()), float(actual_spend.sum()),
                       float(np.mean(np.abs(money - actual_spend))), status)


def validate_models(orders: Any, *, calibration_end: Any, holdout_end: Any = None, time_unit: str = "W",
                    models: Sequence[str] | None = None, penalizer_coef: float | None = None,
                    settings: ModelSettings | None = None,
                    progress: Callable[[str], None] | None = None) -> ValidationResult:
    """Split ``orders`` (canonical orders frame) at ``calibration_end``, fit each model on the
    calibration summary (checked fits, :func:`~clientlens.models.health.fit_checked`) and score its
    holdout predictions (holdout ends at ``holdout_end``, by default the last order)."""
    from clientlens.features import rfm_summary

    cfg = settings or ModelSettings()
    if penalizer_coef is not None:
        cfg = cfg.model_copy(update={"penalizer_coef": penalizer_coef})
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
    from clientlens.models.regularity import add_litt

    summary = add_litt(summary, frame, end=cal, time_unit=time_unit)  # for the regularity models' choice of k
    names = list(models) if models else list(TRANSACTION_MODELS)
    actual = summary["frequency_holdout"].to_numpy(dtype=float)
    duration = summary["duration_holdout"].to_numpy(dtype=float)
    actual_spend = _holdout_spend(frame, summary, cal, end)
    spend, spend_model = _spend_per_purchase(summary, cfg)
    reports, fitted = [], {}
    for name in names:
        if name not in TRANSACTION_MODELS:
            raise ModelError(f"unknown model {name!r}; use {', '.join(TRANSACTION_MODELS)}")
        if progress:
            progress(name)
        outcome = fit_checked(name, summary, cfg)
        m = outcome.model
        if m is None or outcome.name != name:
            log.warning("validation: %s not scored (%s)", name, "; ".join(outcome.notes))
            continue
        pred = m.expected_purchases(duration, summary)
        hll = float(np.mean(holdout_log_likelihood(m, summary, actual, duration)))
        reports.append(_report(name, dict(m.params_), m.log_likelihood_, pred, actual, spend, actual_spend, hll,
                               outcome.status))
        fitted[name] = (m, pred)
    if not reports:
        raise ModelError("no transaction model could be fitted on the calibration period")
    # ties (to 1e-9 per customer: e.g. MBG/CNBD-k with k = 1 is the MBG/NBD) go to the lower MAE,
    # then to the model listed first (the simpler one)
    best = max(reports, key=lambda r: (round(r.holdout_log_likelihood, 9), -round(r.mae, 9),
                                       -names.index(r.name))).name
    rate = summary["frequency"].to_numpy(dtype=float) / np.maximum(summary["T"].to_numpy(dtype=float), 1e-12)
    nan_params: dict[str, float] = {}
    baselines = [
        _report("zero", nan_params, float("nan"), np.zeros(len(actual)), actual, spend, actual_spend, float("nan"),
                "baseline"),
        _report("calibration_rate", nan_params, float("nan"), rate * duration, actual, spend, actual_spend,
                float("nan"), "baseline"),
    ]
    freq = summary["frequency"].to_numpy()
    bucket = np.minimum(freq, MAX_FREQUENCY_ROW).astype(int)
    table = pd.DataFrame({"frequency": bucket, "actual": actual})
    for name, (_, pred) in fitted.items():
        table[name] = pred
    by_freq = table.groupby("frequency").agg(customers=("actual", "size"), actual=("actual", "mean"),
                                             **{n: (n, "mean") for n in fitted}).reset_index()
    by_freq["frequency"] = [f"{int(f)}+" if f == MAX_FREQUENCY_ROW else str(int(f)) for f in by_freq["frequency"]]
    tracking = _tracking(frame, summary, cal, end, time_unit, {n: m for n, (m, _) in fitted.items()})
    from clientlens.models.next_order import next_order_table

    next_order = next_order_table(frame, summary, {n: m for n, (m, _) in fitted.items()}, calibration_end=cal,
                                  holdout_end=end, time_unit=time_unit, max_days=cfg.next_order_max_days)
    return ValidationResult(str(cal.date()), str(end.date()), time_unit, len(summary), reports, by_freq, tracking,
                            best, {"spend_model": spend_model}, baselines, next_order)


def auto_split(orders: Any, as_of: Any, cfg: ModelSettings) -> tuple[str, str] | None:
    """The automatic (calibration end, holdout end) of a shop's history up to ``as_of``, or None.

    Rule (thresholds in ``[models]``): the holdout is the last ``holdout_share`` of the days from the
    first order to ``as_of``, at most ``max_holdout_days``; None when the holdout would be shorter
    than ``min_holdout_days`` or the calibration shorter than ``min_calibration_days``.
    """
    frame = orders if isinstance(orders, pd.DataFrame) else orders.to_pandas()
    frame = purchases_only(frame)
    if frame.empty:
        return None
    end = pd.Timestamp(as_of).normalize()
    dates = pd.to_datetime(frame["order_date"])
    first = dates[dates <= end + pd.Timedelta(days=1)].min()
    if pd.isna(first):
        return None
    span = (end - first.normalize()).days
    holdout = min(int(round(span * cfg.holdout_share)), cfg.max_holdout_days)
    if holdout < cfg.min_holdout_days or span - holdout < cfg.min_calibration_days:
        return None
    return str((end - pd.Timedelta(days=holdout)).date()), str(end.date())


@dataclass
class ModelChoice:
    """The transaction model to use, where the choice came from and the validation behind it."""

    name: str
    source: str
    calibration_end: str | None = None
    holdout_end: str | None = None
    scores: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.name, "source": self.source, "calibration_end": self.calibration_end,
                "holdout_end": self.holdout_end, "holdout_log_likelihood": self.scores}


def choose_model(orders: Any, *, as_of: Any, settings: ModelSettings, time_unit: str = "W",
                 selection: Path | None = None, shop: str | None = None, save: bool = False) -> ModelChoice:
    """The one model choice of ``validate`` and ``analyze``: the saved choice of ``shop`` in
    ``selection``; else the validation on :func:`auto_split` (saved when ``save``); else
    ``[models] default_model``."""
    if selection is not None and shop is not None:
        saved = read_selection(selection, shop)
        if saved is not None:
            return saved
    split = auto_split(orders, as_of, settings)
    if split is None:
        return ModelChoice(settings.default_model, "default: the history is too short for a holdout split")
    frame = orders if isinstance(orders, pd.DataFrame) else orders.to_pandas()
    frame = frame[pd.to_datetime(frame["order_date"]).dt.normalize() <= pd.Timestamp(split[1])]
    try:
        result = validate_models(frame, calibration_end=split[0], holdout_end=split[1], time_unit=time_unit,
                                 settings=settings)
    except (InputError, ModelError) as exc:
        return ModelChoice(settings.default_model, f"default: the automatic validation failed ({exc})")
    if save and selection is not None and shop is not None:
        save_selection(selection, shop, result, source="analyze (automatic split)")
    return choice_of(result, "validation on the automatic split")


def choice_of(result: ValidationResult, source: str) -> ModelChoice:
    """The :class:`ModelChoice` a validation makes."""
    return ModelChoice(result.best, source, result.calibration_end, result.holdout_end,
                       {r.name: r.holdout_log_likelihood for r in result.reports})


def _tracking(orders: pd.DataFrame, summary: pd.DataFrame, cal: pd.Timestamp, end: pd.Timestamp,
              time_unit: str, fitted: dict[str, Any]) -> pd.DataFrame:
    """Cumulative repeat purchases (distinct purchase days after the first) of the calibration
    cohort per time unit, actual and predicted by each model's unconditional E[X(t)] from each
    customer's first purchase (FHL 2005a, figure 2)."""
    days = unit_days(time_unit)
    o = purchases_only(orders)
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
    paths += _save_figure(fig, out, "holdout_by_frequency")
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
    paths += _save_figure(fig, out, "tracking_cumulative")
    return paths


def _save_figure(fig: Any, out: Path, stem: str) -> list[Path]:
    """Write ``fig`` as ``stem``.png and ``stem``.svg in ``out`` and close it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    paths = []
    for ext in ("png", "svg"):
        p = out / f"{stem}.{ext}"
        fig.savefig(p)
        paths.append(p)
    plt.close(fig)
    return paths


def selection_path(db_url: str | None, file_name: str) -> Path:
    """Where the model choice lives: next to a SQLite store file, else in the current folder."""
    if db_url and db_url.startswith("sqlite:///") and ":memory:" not in db_url:
        return Path(db_url[len("sqlite:///"):]).expanduser().resolve().parent / file_name
    return Path(file_name).resolve()


def save_selection(path: Path, shop: str, result: ValidationResult, *, source: str = "clientlens validate") -> None:
    """Record ``result.best`` for ``shop`` in the selection file (other shops kept)."""
    doc: dict[str, Any] = {}
    if path.exists():
        try:
            doc = json.loads(path.read_text("utf-8"))
        except json.JSONDecodeError:
            log.warning("%s is not valid JSON; rewriting it", path)
    doc[shop] = {"model": result.best, "calibration_end": result.calibration_end, "holdout_end": result.holdout_end,
                 "time_unit": result.time_unit, "source": source,
                 "holdout_log_likelihood": {r.name: r.holdout_log_likelihood for r in result.reports},
                 "mae": {r.name: r.mae for r in result.reports + result.baselines},
                 "saved_at": datetime.now(UTC).isoformat(timespec="seconds")}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, sort_keys=True), "utf-8")


def read_selection(path: Path, shop: str) -> ModelChoice | None:
    """The choice saved for ``shop``, or None (no file, no entry, or an unknown model)."""
    if not path.exists():
        return None
    try:
        entry = json.loads(path.read_text("utf-8")).get(shop)
    except (json.JSONDecodeError, AttributeError):
        return None
    if not isinstance(entry, dict) or entry.get("model") not in TRANSACTION_MODELS:
        return None
    scores = entry.get("holdout_log_likelihood") or {}
    return ModelChoice(str(entry["model"]), f"saved by {entry.get('source', 'clientlens validate')} "
                       f"({entry.get('saved_at', '?')}) in {path}", entry.get("calibration_end"),
                       entry.get("holdout_end"), {str(k): float(v) for k, v in scores.items()})


def load_selection(path: Path, shop: str) -> str | None:
    """The model name saved for ``shop``, or None."""
    choice = read_selection(path, shop)
    return None if choice is None else choice.name
