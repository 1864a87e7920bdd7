"""The analysis pipeline: sources -> features -> labels and scores -> snapshot (store or Parquet)."""
