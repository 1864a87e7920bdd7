"""rfm_summary against lifetimes 0.11.3 on the real CDNOW sample, and its invariants."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from clientlens.datasets import load_cdnow_sample
from clientlens.errors import ConfigError, InputError, MissingColumnsError
from clientlens.features import rfm_summary

lifetimes_utils = pytest.importorskip("lifetimes.utils")

CAL_END = "1997-09-30"
OBS_END = "1998-06-30"
MONTH_DAYS = 365.25 / 12


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow_sample()


def _assert_frame(ours: pd.DataFrame, theirs: pd.DataFrame, mapping: dict[str, str]) -> None:
    assert ours.index.tolist() == sorted(ours.index.tolist())
    theirs = theirs.sort_index()
    assert ours.index.tolist() == theirs.index.tolist()
    for col, ref in mapping.items():
        np.testing.assert_allclose(ours[col].to_numpy(), theirs[ref].to_numpy(), rtol=1e-12, atol=1e-9,
                                   err_msg=col)


def test_calibration_and_holdout_equal_lifetimes_every_customer(cdnow: pd.DataFrame) -> None:
    ours = rfm_summary(cdnow, calibration_end=CAL_END, observation_end=OBS_END)
    theirs = lifetimes_utils.calibration_and_holdout_data(
        cdnow, "customer_id", "order_date", calibration_period_end=CAL_END,
        observation_period_end=OBS_END, freq="D", freq_multiplier=7, monetary_value_col="total")
    assert len(ours) == 2357
    _assert_frame(ours, theirs, {
        "frequency": "frequency_cal", "recency": "recency_cal", "T": "T_cal",
        "monetary_value": "monetary_value_cal", "frequency_holdout": "frequency_holdout",
        "duration_holdout": "duration_holdout"})
    first = cdnow.groupby("customer_id")["order_date"].min()
    jan1 = first[first == pd.Timestamp("1997-01-01")].index
    assert len(jan1) > 0
    assert ours.loc[jan1, "T"].round(2).eq(38.86).all()
    assert ours["duration_holdout"].iloc[0] == pytest.approx(39.0)


@pytest.mark.parametrize(("unit", "multiplier"), [("D", 1), ("W", 7), ("M", MONTH_DAYS)])
def test_summary_equals_lifetimes_in_each_unit(cdnow: pd.DataFrame, unit: str, multiplier: float) -> None:
    ours = rfm_summary(cdnow, observation_end=CAL_END, time_unit=unit)
    theirs = lifetimes_utils.summary_data_from_transaction_data(
        cdnow, "customer_id", "order_date", "total", observation_period_end=CAL_END, freq="D",
        freq_multiplier=multiplier)
    assert list(ours.columns) == ["frequency", "recency", "T", "monetary_value"]
    _assert_frame(ours, theirs, {c: c for c in ["frequency", "recency", "T", "monetary_value"]})


def test_default_observation_end_is_last_purchase_day(cdnow: pd.DataFrame) -> None:
    ours = rfm_summary(cdnow, time_unit="D")
    theirs = lifetimes_utils.summary_data_from_transaction_data(
        cdnow, "customer_id", "order_date", "total", freq="D")
    _assert_frame(ours, theirs, {c: c for c in theirs.columns})
    span = (cdnow["order_date"].max() - cdnow["order_date"].min()).days
    assert ours["T"].max() == span == 545  # 1997-01-01 .. 1998-06-30


def test_polars_arrow_and_ibis_inputs_give_the_same(cdnow: pd.DataFrame) -> None:
    ref = rfm_summary(cdnow, observation_end=OBS_END)
    arrow = pa.Table.from_pandas(cdnow, preserve_index=False)
    for source in (pl.from_pandas(cdnow), arrow, ibis.memtable(arrow)):
        pd.testing.assert_frame_equal(rfm_summary(source, observation_end=OBS_END), ref)


def test_same_day_purchases_are_one_repeat_day_and_times_are_cut_to_days() -> None:
    tx = pd.DataFrame({
        "client": ["a", "a", "a", "a", "b"],
        "when": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 18:00", "2024-01-08 10:00",
                                "2024-01-08 23:59", "2024-01-05 12:00"]),
        "amount": [10.0, 5.0, 7.0, 3.0, 4.0],
    })
    s = rfm_summary(tx, customer_col="client", time_col="when", amount_col="amount",
                    observation_end=dt.date(2024, 1, 15), time_unit="D")
    assert s.loc["a"].to_dict() == {"frequency": 1.0, "recency": 7.0, "T": 14.0, "monetary_value": 10.0}
    assert s.loc["b"].to_dict() == {"frequency": 0.0, "recency": 0.0, "T": 10.0, "monetary_value": 0.0}


def test_returned_and_cancelled_orders_are_left_out() -> None:
    tx = pd.DataFrame({
        "customer_id": ["a", "a", "a", "a"],
        "order_date": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-05", "2024-01-07"]),
        "total": [10.0, 20.0, 30.0, 40.0],
        "status": ["completed", "returned", "Cancelled", None],
    })
    s = rfm_summary(tx, observation_end="2024-01-10", time_unit="D")
    assert s.loc["a"].to_dict() == {"frequency": 1.0, "recency": 6.0, "T": 9.0, "monetary_value": 40.0}


def test_transactions_after_observation_end_are_ignored(cdnow: pd.DataFrame) -> None:
    s = rfm_summary(cdnow, observation_end="1997-01-31")
    early = cdnow[cdnow["order_date"] <= "1997-01-31"]
    assert set(s.index) == set(early["customer_id"])
    assert s["T"].max() == pytest.approx(30 / 7)


def test_invariants_raise_clear_errors(cdnow: pd.DataFrame) -> None:
    with pytest.raises(MissingColumnsError, match="'total'"):
        rfm_summary(cdnow.drop(columns="total"))
    with pytest.raises(InputError, match="before the first transaction"):
        rfm_summary(cdnow, observation_end="1996-12-31")
    with pytest.raises(InputError, match="calibration_end .* must be before observation_end"):
        rfm_summary(cdnow, calibration_end="1998-07-01", observation_end=OBS_END)
    with pytest.raises(InputError, match="calibration_end .* before the first transaction"):
        rfm_summary(cdnow, calibration_end="1996-01-01")
    with pytest.raises(ConfigError, match="time_unit 'Y'"):
        rfm_summary(cdnow, time_unit="Y")
    with pytest.raises(InputError, match="not a date"):
        rfm_summary(cdnow, observation_end="someday")
    nulls = cdnow.head(5).copy()
    nulls.loc[nulls.index[0], "customer_id"] = None
    with pytest.raises(InputError, match="1 row.*'customer_id'"):
        rfm_summary(nulls)
    no_date = cdnow.head(5).copy()
    no_date.loc[no_date.index[1:3], "order_date"] = pd.NaT
    for end in (None, OBS_END):  # with and without the pre-pass over the dates
        with pytest.raises(InputError, match="2 row.*no date in column 'order_date'"):
            rfm_summary(no_date, observation_end=end)
    with pytest.raises(InputError, match="calibration_end 1996-06-30 is before the first transaction"):
        rfm_summary(cdnow, observation_end="1996-12-31", calibration_end="1996-06-30")
    with pytest.raises(InputError, match="no completed transactions"):
        rfm_summary(cdnow.head(0))
    with pytest.raises(InputError, match="expected a pandas"):
        rfm_summary([1, 2, 3])
