"""The analysis pipeline: sources -> features -> labels and scores -> snapshot (store or Parquet).

>>> from clientlens.analysis import classify
>>> from clientlens.datasets import load_cdnow_sample
>>> snap = classify(load_cdnow_sample(), scores=False)
>>> sorted(snap.summary.columns)
['customers', 'customers_share', 'label', 'revenue', 'revenue_share', 'taxonomy']
"""

from __future__ import annotations

from clientlens.analysis.flows import label_flows
from clientlens.analysis.pipeline import classify, run_analysis
from clientlens.analysis.snapshot import Snapshot

__all__ = ["Snapshot", "classify", "label_flows", "run_analysis"]
