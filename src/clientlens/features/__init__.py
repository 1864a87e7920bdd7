"""Per-customer features (Ibis expressions run on DuckDB or Spark) and the BTYD summary.

>>> from clientlens.datasets import load_cdnow_sample
>>> rfm_summary(load_cdnow_sample()).columns.tolist()
['frequency', 'recency', 'T', 'monetary_value']
"""

from __future__ import annotations

from clientlens.features.btyd import rfm_summary

__all__ = ["rfm_summary"]
