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
from clientlens.analysis.store_io import (
    list_snapshots,
    load_labels,
    load_snapshot,
    load_summary,
    save_snapshot,
    snapshot_flows,
)

__all__ = ["Snapshot", "classify", "label_flows", "list_snapshots", "load_labels", "load_snapshot", "load_summary",
           "run_analysis", "save_snapshot", "snapshot_flows"]
