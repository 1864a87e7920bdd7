"""The analysis pipeline: frames -> features (on the engine) -> labels -> scores -> snapshot.

Store mode and files mode both call :func:`run_analysis`; only the reader and the writer differ.
:func:`classify` is the library entry point for a single orders table.

>>> from clientlens.datasets import load_cdnow_sample
>>> snap = classify(load_cdnow_sample(), scores=False)      # doctest: +SKIP
>>> snap.summary.query("taxonomy == 'revenue_tier'")         # doctest: +SKIP
"""

from __future__ import annotations

import logging
import platform
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from importlib import metadata
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from clientlens.analysis import adapters
from clientlens.analysis.dashboard import dashboard_figures
from clientlens.analysis.snapshot import Snapshot
from clientlens.analysis.summary import as_records, label_summary, lorenz_points, pareto_stats
from clientlens.config import Settings, load_settings
from clientlens.errors import InputError
from clientlens.segments import SegmentRules, label_customers

log = logging.getLogger(__name__)

#: The steps reported to a progress callback, in order.
STEPS = ("read", "features", "scores", "labels", "summary")

ProgressCallback = Callable[[str], None]


class _Steps:
    """Times each step and tells the progress callback when one starts."""

    def __init__(self, progress: ProgressCallback | None) -> None:
        self.progress = progress
        self.timings: dict[str, float] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        if self.progress is not None:
            self.progress(name)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(time.perf_counter() - start, 4)


def _scalar(engine: Any, expr: ir.Table) -> Any:
    df = engine.to_pandas(expr)
    return None if df.empty else df.iloc[0, 0]


def cohorts_expr(orders: ir.Table, *, as_of: date, max_months: int, timezone: str = "UTC") -> ir.Table:
    """Monthly cohort retention as an Ibis expression (runs on DuckDB and Spark alike).

    Completed orders up to the end of ``as_of`` in the shop's time zone; months are calendar months
    of the stored (UTC) order time.
    """
    from clientlens.features.timezone import as_of_cutoff

    end = ibis.literal(as_of_cutoff(as_of, timezone), type="timestamp")
    status = orders.status.lower()
    done = orders.filter((orders.status.isnull() | (status == "completed")) & (orders.order_date < end))
    month = done.order_date.year() * 12 + done.order_date.month() - 1
    m = done.select(customer_id=done.customer_id, month=month)
    first = m.group_by("customer_id").aggregate(cohort_month=m.month.min())
    j = m.join(first, "customer_id")
    j = j.mutate(months_since=j.month - j.cohort_month).filter(lambda t: t.months_since <= max_months)
    active = j.group_by(["cohort_month", "months_since"]).aggregate(active_customers=j.customer_id.nunique())
    sizes = first.group_by("cohort_month").aggregate(cohort_customers=first.customer_id.count())
    return active.join(sizes, "cohort_month")


def retention_frame(engine: Any, orders: ir.Table, *, as_of: date, max_months: int,
                    timezone: str = "UTC") -> pd.DataFrame:
    raw = engine.to_pandas(cohorts_expr(orders, as_of=as_of, max_months=max_months, timezone=timezone))
    cols = ["cohort", "months_since", "cohort_customers", "active_customers", "retention"]
    if raw.empty:
        return pd.DataFrame({c: [] for c in cols})
    raw = raw.astype({"cohort_month": "int64", "months_since": "int64", "cohort_customers": "int64",
                      "active_customers": "int64"})
    raw["retention"] = raw["active_customers"] / raw["cohort_customers"]
    raw["cohort"] = [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in raw["cohort_month"]]
    return raw.sort_values(["cohort", "months_since"]).reset_index(drop=True)[cols]


def _versions(engine_name: str) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("clientlens", "pandas", "ibis-framework", "duckdb", "pyarrow", "numpy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    if engine_name == "spark":
        try:
            out["pyspark"] = metadata.version("pyspark")
        except metadata.PackageNotFoundError:
            pass
    return out


def _bring(obj: Any, engine: Any) -> Any:
    """An Ibis table bound to another backend is executed to Arrow so that ``engine`` can use it;
    frames, unbound tables (memtables) and the engine's own tables pass through."""
    if not isinstance(obj, ir.Table):
        return obj
    try:
        backend = obj._find_backend(use_default=False)
    except Exception:  # unbound (a memtable): every backend can run it
        return obj
    if backend is getattr(engine, "con", None):
        return obj
    return obj.to_pyarrow()


def run_analysis(frames: Mapping[str, Any], *, shop: str = "default", as_of: date | None = None,
                 settings: Settings | None = None, engine: str | Any = "duckdb", scores: bool = True,
                 progress: ProgressCallback | None = None) -> Snapshot:
    """Analyse one shop's canonical frames (``orders`` required; ``order_lines``, ``customers``,
    ``products``, ``interactions``, ``feedback`` optional; pandas, Polars, Arrow or Ibis).

    ``engine`` is ``"duckdb"``, ``"spark"`` or an engine object of ``clientlens.features.engine``.
    The as-of date defaults to the date of the latest order. Returns a :class:`Snapshot`.
    """
    from clientlens.features import (
        default_home_country,
        default_reporting_currency,
        make_engine,
        register_frames,
    )
    from clientlens.features.shop import check_as_of, order_date_range
    from clientlens.features.timezone import local_today

    settings = settings or load_settings(search_cwd=False)
    rules = SegmentRules.from_settings(settings)
    shop_cfg = settings.shop(shop)
    steps = _Steps(progress)
    owns_engine = isinstance(engine, str)
    eng = make_engine(engine, settings) if isinstance(engine, str) else engine
    try:
        with steps.step("read"):
            tables = register_frames(eng, {k: _bring(v, eng) for k, v in frames.items() if v is not None})
            first, last = order_date_range(tables["orders"], timezone=shop_cfg.timezone, engine=eng)
            if as_of is None:
                as_of = last
                if as_of is None:
                    raise InputError(f"shop {shop!r}: no orders, so no as-of date; give --as-of DATE")
            else:
                check_as_of(as_of, first=first, today=local_today(shop_cfg.timezone), shop=shop)
            home = (default_home_country(tables["customers"], configured=shop_cfg.home_country, engine=eng)
                    if "customers" in tables else (shop_cfg.home_country or "").upper() or None)
            home_source = "configured" if shop_cfg.home_country else "most common customer country"
            currency = default_reporting_currency(tables["orders"], configured=shop_cfg.currency,
                                                  fallback=settings.ingest.default_currency, engine=eng)
            currency_source = "configured" if shop_cfg.currency else "most common order currency"
        with steps.step("features"):
            features = adapters.feature_frame(eng, tables, as_of=as_of, home_country=home, settings=settings,
                                              shop=shop)
            features = features.assign(customer_id=features["customer_id"].astype(str))
            features = features.sort_values("customer_id", kind="mergesort").reset_index(drop=True)
        score_frame: pd.DataFrame | None = None
        with steps.step("scores"):
            if scores and adapters.scoring_available():
                orders_pd = eng.to_pandas(tables["orders"])
                lines_pd = eng.to_pandas(tables["order_lines"]) if "order_lines" in tables else None
                score_frame = adapters.score(orders_pd, lines_pd, as_of=as_of, settings=settings, shop=shop)
        with steps.step("labels"):
            p_alive = None
            if score_frame is not None and "p_alive" in score_frame.columns:
                p_alive = score_frame.set_index(score_frame["customer_id"].astype(str))["p_alive"]
            labels = label_customers(features, rules=rules, home_country=home, p_alive=p_alive)
        with steps.step("summary"):
            summary = label_summary(features, labels)
            lorenz = lorenz_points(features, rules.revenue_tier.lorenz_points)
            stats = pareto_stats(features, rules.revenue_tier.top_share)
            retention = retention_frame(eng, tables["orders"], as_of=as_of, max_months=rules.cohorts.max_months,
                                        timezone=shop_cfg.timezone)
        engine_name = getattr(eng, "name", str(engine))
    finally:
        if owns_engine:
            eng.close()
    purchasing = int((pd.to_numeric(features["orders"], errors="coerce").fillna(0) > 0).sum())
    run = {
        "shop": shop,
        "as_of": as_of.isoformat(),
        "engine": engine_name,
        "time_unit": settings.features.time_unit,
        "created_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "customers": len(features),
        "purchasing_customers": purchasing,
        "home_country": {"value": home, "source": home_source},
        "reporting_currency": {"value": currency, "source": currency_source},
        "scores": None if score_frame is None else sorted(score_frame["model"].dropna().unique().tolist())
        if "model" in score_frame.columns else [],
        # the model choice, the fit's status (ok / regularised / fallback / empty) and why
        "models": None if score_frame is None else score_frame.attrs.get("models"),
        "config": {"segments": settings.segments, "features": settings.features.model_dump(mode="json"),
                   "shop": shop_cfg.model_dump(mode="json")},
        "versions": _versions(engine_name),
        "timings": steps.timings,
        "pareto": {**stats, "points": as_records(lorenz)},
        "dashboard": dashboard_figures(features, score_frame, currency=currency, settings=settings),
    }
    log.info("analysed shop %s as of %s: %d customers, %d label rows", shop, as_of, len(features), len(labels))
    return Snapshot(shop=shop, as_of=as_of, engine=engine_name, features=features, labels=labels,
                    summary=summary, pareto=lorenz, pareto_stats=stats, retention=retention,
                    scores=score_frame, run=run)


def classify(orders: Any, *, customers: Any = None, order_lines: Any = None, as_of: date | str | None = None,
             settings: Settings | None = None, engine: str | Any = "duckdb", shop: str = "default",
             scores: bool = True) -> Snapshot:
    """Run the whole classification on an orders table (pandas, Polars, Arrow or Ibis).

    Returns a :class:`Snapshot` with features, labels (and evidence), summary, Pareto and retention.
    """
    if isinstance(as_of, str):
        as_of = date.fromisoformat(as_of)
    frames = {"orders": orders, "customers": customers, "order_lines": order_lines}
    return run_analysis(frames, shop=shop, as_of=as_of, settings=settings, engine=engine, scores=scores)


__all__ = ["STEPS", "classify", "cohorts_expr", "run_analysis"]
