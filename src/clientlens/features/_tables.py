"""Turn pandas, Polars, Arrow or Ibis inputs into Ibis tables, and check their columns.

>>> import pandas as pd
>>> t = as_ibis_table(pd.DataFrame({"customer_id": ["a"], "total": [1.0]}))
>>> t.columns
('customer_id', 'total')
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from clientlens.errors import InputError, MissingColumnsError


def to_arrow(obj: Any, *, what: str = "input") -> pa.Table:
    """Convert a pandas / Polars / Arrow frame to a ``pyarrow.Table`` (Ibis tables are executed)."""
    if isinstance(obj, pa.Table):
        return obj
    if isinstance(obj, pa.RecordBatch):
        return pa.Table.from_batches([obj])
    if isinstance(obj, ir.Table):
        return obj.to_pyarrow()
    module = type(obj).__module__.split(".")[0]
    if module == "pandas":
        return pa.Table.from_pandas(obj, preserve_index=False)
    if module == "polars":
        return obj.to_arrow()  # type: ignore[no-any-return]
    if hasattr(obj, "__arrow_c_stream__"):
        return pa.table(obj)
    raise InputError(
        f"{what}: expected a pandas, Polars or Arrow frame or an Ibis table, got {type(obj).__name__}"
    )


def as_ibis_table(obj: Any, *, what: str = "input") -> ir.Table:
    """An Ibis table over ``obj`` (an Ibis table is returned unchanged; frames become memtables)."""
    if isinstance(obj, ir.Table):
        return obj
    return ibis.memtable(to_arrow(obj, what=what))


def require_columns(table: ir.Table, columns: Iterable[str], *, what: str = "input") -> None:
    """Raise :class:`MissingColumnsError` naming every required column ``table`` lacks."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise MissingColumnsError(
            f"{what}: missing column(s) {', '.join(repr(c) for c in missing)}; "
            f"found {', '.join(repr(c) for c in table.columns)}. "
            "Rename the columns or pass customer_col= / time_col= / amount_col=."
        )
