"""The real CDNOW purchase logs shipped inside the package (see data/CDNOW_ATTRIBUTION.txt).

>>> df = load_cdnow_master()
>>> len(df), df["customer_id"].nunique()
(69659, 23570)
"""

from __future__ import annotations

import gzip
from importlib import resources
from pathlib import Path

import pandas as pd

ATTRIBUTION = "CDNOW cohort (Fader, Hardie & Lee 2005), redistributed from the Lifetimes package (MIT)."


def data_path(name: str) -> Path:
    """Path of a file shipped in ``clientlens/datasets/data``."""
    return Path(str(resources.files("clientlens.datasets") / "data" / name))


def _read(name: str, names: list[str]) -> pd.DataFrame:
    with gzip.open(data_path(name), "rt", encoding="ascii") as fh:
        df = pd.read_csv(fh, sep=r"\s+", header=None, names=names, dtype=str, comment=None)
    return df[df[names[0]].str.isdigit()]  # drop a header line if present


def load_cdnow_master() -> pd.DataFrame:
    """69,659 purchases: ``customer_id`` (str), ``order_date`` (datetime), ``quantity``, ``total``."""
    df = _read("CDNOW_master.txt.gz", ["customer_id", "date", "number_of_cds", "dollar_value"])
    return pd.DataFrame({
        "customer_id": df["customer_id"].str.lstrip("0").to_numpy(),
        "order_date": pd.to_datetime(df["date"], format="%Y%m%d").to_numpy(),
        "quantity": df["number_of_cds"].astype(int).to_numpy(),
        "total": df["dollar_value"].astype(float).to_numpy(),
    })


def load_cdnow_sample() -> pd.DataFrame:
    """6,919 purchases of 2,357 customers (the papers' sample), same columns as the master."""
    df = _read("CDNOW_sample.txt.gz", ["original_id", "customer_id", "date", "number_of_cds", "dollar_value"])
    return pd.DataFrame({
        "customer_id": df["customer_id"].str.lstrip("0").to_numpy(),
        "order_date": pd.to_datetime(df["date"], format="%Y%m%d").to_numpy(),
        "quantity": df["number_of_cds"].astype(int).to_numpy(),
        "total": df["dollar_value"].astype(float).to_numpy(),
    })
