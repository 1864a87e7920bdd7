"""The library entry point: ``classify`` on pandas, Polars, Arrow and Ibis tables gives one result."""

from __future__ import annotations

import ibis
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from clientlens.analysis import Snapshot, classify
from clientlens.datasets import load_cdnow_sample


@pytest.fixture(scope="module")
def cdnow() -> tuple[pd.DataFrame, Snapshot]:
    df = load_cdnow_sample()
    return df, classify(df, scores=False)


@pytest.mark.parametrize("kind", ["polars", "arrow", "memtable", "duckdb_table"])
def test_same_labels_whatever_the_table(cdnow: tuple[pd.DataFrame, Snapshot], kind: str) -> None:
    df, base = cdnow
    if kind == "polars":
        obj = pl.from_pandas(df)
    elif kind == "arrow":
        obj = pa.Table.from_pandas(df)
    elif kind == "memtable":
        obj = ibis.memtable(df)
    else:
        obj = ibis.duckdb.connect().create_table("orders", df)
    snap = classify(obj, scores=False)
    pd.testing.assert_frame_equal(snap.labels, base.labels)


def test_snapshot_object(cdnow: tuple[pd.DataFrame, Snapshot]) -> None:
    df, snap = cdnow
    assert snap.as_of.isoformat() == "1998-06-30"  # the date of the latest order
    assert len(snap.features) == df["customer_id"].nunique() == 2357
    one = snap.customer(snap.features["customer_id"].iloc[0])
    assert one["taxonomy"].is_unique  # CDNOW has no multi-label evidence (no order lines)
    champions = snap.members("rfm_segment", "champions")
    assert champions and set(champions) <= set(snap.features["customer_id"])
    tiers = snap.label_matrix("revenue_tier")
    assert (tiers == "top_20").sum() == round(0.2 * 2357)
