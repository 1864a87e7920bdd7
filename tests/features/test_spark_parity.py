"""The same features from DuckDB and from Spark local mode, and proof that Spark ran the jobs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from clientlens.config import load_settings
from clientlens.datasets import load_cdnow_master, load_cdnow_sample
from clientlens.features import DuckDBEngine, SparkEngine, customer_features, features_to_pandas, rfm_summary
from clientlens.features.engine import SPARK_JOB_GROUP

pytestmark = pytest.mark.spark


def _assert_same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    assert a["customer_id"].tolist() == b["customer_id"].tolist()
    for col in a.columns:
        x, y = a[col], b[col]
        if pd.api.types.is_float_dtype(x) or pd.api.types.is_float_dtype(y):
            np.testing.assert_allclose(x.astype("float64").to_numpy(), y.astype("float64").to_numpy(),
                                       rtol=1e-9, atol=0, equal_nan=True, err_msg=col)
        else:
            assert x.isna().tolist() == y.isna().tolist(), col
            assert x.dropna().tolist() == y.dropna().tolist(), col


def _both(frames: dict[str, Any], spark: Any, **kwargs: Any) -> tuple[pd.DataFrame, pd.DataFrame, SparkEngine]:
    settings = load_settings(search_cwd=False, overrides={"features": {"spark_shuffle_partitions": 2}})
    with DuckDBEngine() as duck:
        ref = features_to_pandas(duck.to_arrow(customer_features(frames, settings=settings, engine=duck,
                                                                 **kwargs)))
    eng = SparkEngine(settings, session=spark)
    tables = {k: eng.register(pa.Table.from_pandas(v, preserve_index=False), k) for k, v in frames.items()}
    expr = customer_features(tables, settings=settings, **kwargs)
    return ref, features_to_pandas(eng.to_arrow(expr)), eng


def test_cdnow_features_equal_on_spark_and_spark_ran_jobs(spark_session: Any) -> None:
    before = set(spark_session.sparkContext.statusTracker().getJobIdsForGroup(SPARK_JOB_GROUP))
    ref, got, eng = _both({"orders": load_cdnow_master()}, spark_session, as_of=dt.date(1997, 9, 30),
                          home_country="US")
    assert len(got) == 23570
    _assert_same(ref, got)
    jobs = set(eng.job_ids()) - before
    assert jobs, "Spark's status tracker shows no job for the feature query"
    tracker = spark_session.sparkContext.statusTracker()
    assert all(tracker.getJobInfo(j).status in ("SUCCEEDED", "RUNNING") for j in jobs)


def test_sample_shop_features_equal_on_spark(spark_session: Any) -> None:
    from clientlens.datasets.generator import generate_shop

    shop = generate_shop(400, seed=3)
    frames = {k: getattr(shop, k) for k in ("customers", "orders", "order_lines", "products", "interactions",
                                            "feedback")}
    as_of = shop.orders["order_date"].max().date()
    ref, got, eng = _both(frames, spark_session, as_of=as_of, home_country="PL", timezone="Europe/Warsaw")
    assert len(got) == 400
    assert got["orders"].sum() > 0 and got["dominant_channel"].notna().any()
    _assert_same(ref, got)
    assert eng.job_ids()


def test_rfm_summary_on_spark_reading_parquet_itself(tmp_path: Any, spark_session: Any) -> None:
    path = tmp_path / "orders.parquet"
    load_cdnow_sample().to_parquet(path)
    eng = SparkEngine(load_settings(search_cwd=False), session=spark_session)
    table = eng.read(path)  # Spark's own Parquet reader, nothing passes through Python
    assert any(f.endswith("orders.parquet") for f in spark_session.table(table.get_name()).inputFiles())
    before = set(eng.job_ids())
    kwargs = {"calibration_end": "1997-09-30", "observation_end": "1998-06-30"}
    got = rfm_summary(table, engine=eng, **kwargs)
    ref = rfm_summary(load_cdnow_sample(), **kwargs)
    pd.testing.assert_index_equal(got.index, ref.index)
    np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), rtol=1e-9)
    assert set(eng.job_ids()) - before
