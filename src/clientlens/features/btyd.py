"""The BTYD summary: transactions -> (frequency, recency, T, monetary_value) per customer.

One Ibis expression, executed on the input's own backend (DuckDB for pandas / Polars / Arrow input),
that matches lifetimes' ``summary_data_from_transaction_data(freq="D", freq_multiplier=7)`` for weeks
(and ``calibration_and_holdout_data`` when ``calibration_end`` is given).

>>> from clientlens.datasets import load_cdnow_sample
>>> s = rfm_summary(load_cdnow_sample(), calibration_end="1997-09-30", observation_end="1998-06-30")
>>> round(float(s["T"].max()), 2)
38.86
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from clientlens.errors import ConfigError, InputError
from clientlens.features._tables import as_ibis_table, require_columns, to_arrow

log = logging.getLogger(__name__)

#: Length of each time unit in days ("M" is the mean Gregorian month).
UNIT_DAYS: dict[str, float] = {"D": 1.0, "W": 7.0, "M": 365.25 / 12.0}
#: Order statuses that do not count as purchases (pending: not paid yet, until a later import says paid).
EXCLUDED_STATUSES = ("returned", "cancelled", "pending")
_EPOCH = dt.date(1970, 1, 1)


def unit_days(time_unit: str) -> float:
    """Days in one ``time_unit`` ("D", "W" or "M")."""
    try:
        return UNIT_DAYS[time_unit]
    except KeyError:
        raise ConfigError(
            f"time_unit {time_unit!r} is not supported; use one of {', '.join(UNIT_DAYS)}"
        ) from None


def to_epoch_day(value: Any, *, what: str) -> int:
    """Whole day number (days since 1970-01-01) of a date, datetime, Timestamp or ISO string."""
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{what}: {value!r} is not a date ({exc})") from exc
    if pd.isna(ts):
        raise InputError(f"{what}: {value!r} is not a date")
    return (ts.date() - _EPOCH).days


def _from_epoch_day(day: int) -> dt.date:
    return _EPOCH + dt.timedelta(days=int(day))


def day_number(col: ir.Value) -> ir.IntegerValue:
    """Days since 1970-01-01 of a timestamp, date or ISO-string column (the calendar day it falls on)."""
    dtype = col.type()
    if dtype.is_string():
        col = col.cast("timestamp")
        dtype = col.type()
    if dtype.is_timestamp():
        col = col.date()  # type: ignore[attr-defined]
    elif not dtype.is_date():
        raise InputError(f"column {col.get_name()!r} holds {dtype}, not dates or timestamps")
    return col.epoch_days()  # type: ignore[attr-defined, no-any-return]


def completed_only(table: ir.Table) -> ir.Table:
    """Rows whose ``status`` (if the column exists) is not returned / cancelled; null counts as completed.

    Lower, Title and UPPER case spellings are recognised without lower-casing every row.
    """
    if "status" not in table.columns:
        return table
    status = table.status.cast("string")
    spellings = [f(s) for s in EXCLUDED_STATUSES for f in (str.lower, str.title, str.upper)]
    return table.filter(status.isnull() | ~status.isin(spellings))


def rfm_summary(
    transactions: Any,
    *,
    customer_col: str = "customer_id",
    time_col: str = "order_date",
    amount_col: str = "total",
    observation_end: Any = None,
    time_unit: str = "W",
    calibration_end: Any = None,
    engine: Any = None,
) -> pd.DataFrame:
    """The BTYD summary of a transaction log, one row per customer, indexed by ``customer_id``.

    - ``frequency``: distinct purchase days after the first one (in the calibration period);
    - ``recency``: days between the first and the last purchase day, in ``time_unit``s;
    - ``T``: days between the first purchase day and the observation end (calibration end when
      given), in ``time_unit``s;
    - ``monetary_value``: mean spend of the repeat purchase days (spend summed per day, first day
      excluded), 0 when ``frequency`` is 0;
    - with ``calibration_end``: ``frequency_holdout`` (distinct purchase days after
      ``calibration_end`` up to ``observation_end``) and ``duration_holdout``.

    Days are calendar days of ``time_col``; transactions after ``observation_end`` (default: the
    latest purchase day) are ignored, as are orders whose ``status`` is returned or cancelled.
    ``transactions`` may be a pandas, Polars or Arrow frame or an Ibis table (then it runs on that
    table's backend, e.g. Spark), or on ``engine`` (a :mod:`clientlens.features.engine` engine)
    when given. Raises :class:`~clientlens.errors.InputError` for missing columns,
    null ids or dates, no transactions, or an observation / calibration end outside the data.
    """
    days_per_unit = unit_days(time_unit)
    if engine is not None and not isinstance(transactions, ir.Table):
        table = engine.register(to_arrow(transactions, what="transactions"))
    else:
        table = as_ibis_table(transactions, what="transactions")

    def run(expr: ir.Table) -> pa.Table:
        return engine.to_arrow(expr) if engine is not None else expr.to_pyarrow()

    require_columns(table, [customer_col, time_col, amount_col], what="transactions")
    table = completed_only(table)
    tx = table.select(
        customer_id=table[customer_col].cast("string"),
        day=day_number(table[time_col]),
        amount=table[amount_col].cast("float64"),
    )
    if observation_end is None:  # the last day is needed first: one pass over the dates
        bounds: dict[str, int] | None = _bounds(tx, run, time_col=time_col)
        obs_day = bounds["max_day"]  # type: ignore[index]
    else:  # no pre-pass: problems show in the result and are diagnosed then
        bounds = None
        obs_day = to_epoch_day(observation_end, what="observation_end")
    cal_day = None if calibration_end is None else to_epoch_day(calibration_end, what="calibration_end")
    if cal_day is not None and cal_day >= obs_day:
        raise InputError(
            f"calibration_end {_from_epoch_day(cal_day)} must be before observation_end "
            f"{_from_epoch_day(obs_day)}"
        )
    expr = summary_expr(tx, obs_day=obs_day, cal_day=cal_day, days_per_unit=days_per_unit,
                        track_null_days=bounds is None)
    out = run(expr.order_by("customer_id")).to_pandas()
    if "null_days" in out:
        if out["null_days"].sum():
            _bounds(tx, run, time_col=time_col)  # raises, counting the rows without a date
        out = out.drop(columns="null_days")
    if out.empty:
        _explain_empty(tx, run, time_col=time_col, obs_day=obs_day, cal_day=cal_day)
    if out["customer_id"].isna().iloc[-1]:  # nulls sort last
        nulls = tx.filter(tx.customer_id.isnull())
        n_null = run(nulls.aggregate(n=nulls.count())).to_pylist()[0]["n"]
        raise InputError(f"transactions: {n_null} row(s) have no value in column {customer_col!r}")
    return out.set_index("customer_id")


def _explain_empty(tx: ir.Table, run: Callable[[ir.Table], pa.Table], *, time_col: str, obs_day: int,
                   cal_day: int | None) -> None:
    """Raise the reason why no customer is in the summary."""
    bounds = _bounds(tx, run, time_col=time_col)
    first = _from_epoch_day(bounds["min_day"])
    if cal_day is not None and cal_day < bounds["min_day"]:
        raise InputError(f"calibration_end {_from_epoch_day(cal_day)} is before the first transaction ({first})")
    raise InputError(
        f"observation_end {_from_epoch_day(obs_day)} is before the first transaction ({first}); nothing to summarise"
    )


def _bounds(tx: ir.Table, run: Callable[[ir.Table], pa.Table], *, time_col: str) -> dict[str, int]:
    """One pass over the dates: row count, null dates, first and last day; raises on unusable input."""
    # Only the date (and status) columns are read here; null customer ids are caught in the result.
    row: Any = tx.aggregate(
        n=tx.count(),
        null_days=tx.day.isnull().sum(),
        min_day=tx.day.min(),
        max_day=tx.day.max(),
    )
    row = run(row).to_pylist()[0]
    if not row["n"]:
        raise InputError("transactions: no completed transactions to summarise")
    if row["null_days"]:
        raise InputError(f"transactions: {row['null_days']} row(s) have no date in column {time_col!r}")
    return {"min_day": int(row["min_day"]), "max_day": int(row["max_day"])}


def summary_expr(tx: ir.Table, *, obs_day: int, cal_day: int | None, days_per_unit: float,
                 track_null_days: bool = False) -> ir.Table:
    """The summary as an Ibis expression over ``tx`` (columns ``customer_id``, ``day``, ``amount``).

    ``day`` is an integer day number; ``obs_day`` / ``cal_day`` are day numbers too. With
    ``track_null_days`` rows without a day are kept as a null-day group and counted in an extra
    ``null_days`` column (the other figures of such a customer are then meaningless).
    """
    end_day = obs_day if cal_day is None else cal_day
    keep = tx.day <= obs_day
    kept = tx.filter(tx.day.isnull() | keep if track_null_days else keep)
    daily = kept.group_by(["customer_id", "day"]).aggregate(spend=kept.amount.sum())
    if cal_day is not None:
        in_cal = daily.day <= end_day
        cal = daily.filter(daily.day.isnull() | in_cal if track_null_days else in_cal)
    else:
        cal = daily
    extra = {"null_days": cal.day.isnull().cast("int64").sum()} if track_null_days else {}
    per = cal.group_by("customer_id").aggregate(
        first_day=cal.day.min(),
        last_day=cal.day.max(),
        n_days=cal.day.count(),
        total_spend=cal.spend.sum(),
        first_spend=cal.spend.argmin(cal.day),
        **extra,
    )
    repeat = per.n_days - 1
    repeat_spend = per.total_spend.fill_null(0) - per.first_spend.fill_null(0)
    summary = per.select(
        "customer_id",
        frequency=repeat.cast("float64"),
        recency=(per.last_day - per.first_day).cast("float64") / days_per_unit,
        T=(ibis.literal(end_day) - per.first_day).cast("float64") / days_per_unit,
        monetary_value=ibis.ifelse(repeat > 0, repeat_spend / repeat.cast("float64"), 0.0),
        **({"null_days": per.null_days} if track_null_days else {}),
    )
    if cal_day is None:
        return summary
    hold_days = daily.filter(daily.day > cal_day)
    holdout = hold_days.group_by("customer_id").aggregate(frequency_holdout=hold_days.count())
    joined = summary.left_join(holdout, "customer_id")
    return joined.select(
        *[joined[c] for c in summary.columns],
        frequency_holdout=joined.frequency_holdout.fill_null(0).cast("float64"),
        duration_holdout=ibis.literal((obs_day - cal_day) / days_per_unit, type="float64"),
    )
