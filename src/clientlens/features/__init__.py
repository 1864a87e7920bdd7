"""Per-customer features (Ibis expressions run on DuckDB or Spark) and the BTYD summary.

- :func:`rfm_summary`: transactions -> frequency, recency, T, monetary value (lifetimes-compatible).
- :func:`customer_features`: the feature table (one Ibis expression; ``docs/features.md``).
- :mod:`clientlens.features.engine`: ``DuckDBEngine`` / ``SparkEngine`` behind one interface.
- :func:`load_store_frames` / :func:`load_file_frames`: the canonical frames from the store or files.

>>> from clientlens.datasets import load_cdnow_sample
>>> rfm_summary(load_cdnow_sample()).columns.tolist()
['frequency', 'recency', 'T', 'monetary_value']
"""

from __future__ import annotations

from clientlens.features.btyd import rfm_summary
from clientlens.features.customer import FEATURE_COLUMNS, customer_features, features_to_pandas
from clientlens.features.engine import DuckDBEngine, Engine, SparkEngine, make_engine
from clientlens.features.files_reader import FileFrames, load_file_frames
from clientlens.features.frames import register_frames
from clientlens.features.shop import default_as_of, default_home_country, default_reporting_currency
from clientlens.features.store_reader import load_store_frames

__all__ = [
    "FEATURE_COLUMNS", "DuckDBEngine", "Engine", "FileFrames", "SparkEngine", "customer_features",
    "default_as_of", "default_home_country", "default_reporting_currency", "features_to_pandas",
    "load_file_frames", "load_store_frames", "make_engine", "register_frames", "rfm_summary",
]
