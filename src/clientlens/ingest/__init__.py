"""Ingest: sources (CSV, Parquet, Excel), column mapping, vectorised validation, quarantine, loading.

>>> from clientlens.ingest import import_file, read_table  # doctest: +SKIP
"""

from __future__ import annotations

from clientlens.ingest.columns import ENTITIES
from clientlens.ingest.files import ReadResult, read_table, write_quarantine
from clientlens.ingest.importer import ImportReport, import_file, validated_batches
from clientlens.ingest.options import Mapping, ParseOptions, load_mapping
from clientlens.ingest.quarantine import Rejection

__all__ = ["ENTITIES", "ImportReport", "Mapping", "ParseOptions", "ReadResult", "Rejection", "import_file",
           "load_mapping", "read_table", "validated_batches", "write_quarantine"]
