"""The canonical analysis frames (COMMON contract) as Ibis schemas, and how inputs are brought to them.

Readers (store, files) produce these frames; :func:`canonical` casts an engine table to the
canonical types and adds absent optional columns as nulls, so the feature expressions can rely on
every column being there with one type on every engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from clientlens.errors import InputError, MissingColumnsError
from clientlens.features._tables import to_arrow

FRAME_KINDS = ("customers", "orders", "order_lines", "products", "interactions", "feedback")

#: Column -> Ibis type of each canonical frame.
SCHEMAS: dict[str, dict[str, str]] = {
    "orders": {
        "customer_id": "string", "order_id": "string", "order_date": "timestamp", "channel": "string",
        "currency": "string", "total": "float64", "discount_total": "float64", "status": "string",
        "quantity": "float64",
    },
    "order_lines": {
        "order_id": "string", "product_id": "string", "category": "string", "quantity": "float64",
        "unit_price": "float64", "discount": "float64", "is_new_arrival": "boolean",
    },
    "products": {
        "product_id": "string", "name": "string", "category": "string", "price": "float64",
        "launched_at": "date",
    },
    "customers": {
        "customer_id": "string", "kind": "string", "name": "string", "email": "string", "phone": "string",
        "birth_date": "date", "gender": "string", "income_band": "string", "country": "string",
        "city": "string", "language": "string", "preferred_channel": "string", "created_at": "timestamp",
    },
    "interactions": {
        "customer_id": "string", "interaction_id": "string", "channel": "string", "direction": "string",
        "occurred_at": "timestamp", "thread_id": "string", "agent": "string",
    },
    "feedback": {
        "customer_id": "string", "kind": "string", "score": "int64", "submitted_at": "timestamp",
        "interaction_id": "string",
    },
}

#: Columns without which a frame cannot be used.
REQUIRED: dict[str, tuple[str, ...]] = {
    "orders": ("customer_id", "order_date", "total"),
    "order_lines": ("order_id", "product_id", "quantity", "unit_price"),
    "products": ("product_id",),
    "customers": ("customer_id",),
    "interactions": ("customer_id", "occurred_at"),
    "feedback": ("customer_id", "kind", "score", "submitted_at"),
}

#: Arrow types of the canonical frames (what the store reader produces).
ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(), "timestamp": pa.timestamp("us"), "float64": pa.float64(),
    "boolean": pa.bool_(), "date": pa.date32(), "int64": pa.int64(),
}


def arrow_schema(kind: str) -> pa.Schema:
    """The Arrow schema of canonical frame ``kind``."""
    return pa.schema([pa.field(c, ARROW_TYPES[t]) for c, t in SCHEMAS[kind].items()])


def _cast(col: ir.Value, target: str) -> ir.Value:
    dtype = col.type()
    if target == "string" and not dtype.is_string():
        return col.cast("string")
    if target == "timestamp" and dtype.is_timestamp() and dtype.timezone is not None:  # type: ignore[attr-defined]
        return col.cast(ibis.dtype("timestamp"))
    if target == "date" and dtype.is_timestamp():
        return col.date()  # type: ignore[attr-defined]
    if target == "boolean" and dtype.is_string():
        low = col.lower()  # type: ignore[attr-defined]
        return ibis.cases((low.isin(["true", "1", "yes", "y", "t"]), True),
                          (low.isin(["false", "0", "no", "n", "f", ""]), False), else_=ibis.null("boolean"))
    if str(dtype) != target and not (target == "timestamp" and dtype.is_timestamp()):
        return col.cast(target)
    return col


def canonical(table: ir.Table, kind: str, *, what: str | None = None) -> ir.Table:
    """``table`` with exactly the canonical columns of ``kind``, canonical types, nulls for absent ones."""
    schema = SCHEMAS[kind]
    missing = [c for c in REQUIRED[kind] if c not in table.columns]
    if missing:
        raise MissingColumnsError(f"{what or kind}: missing required column(s) {', '.join(missing)}")
    cols = {}
    for name, target in schema.items():
        if name in table.columns:
            cols[name] = _cast(table[name], target).name(name)
        else:
            cols[name] = ibis.null(target).name(name)
    return table.select(**cols)


def register_frames(engine: Any, frames: Mapping[str, Any]) -> dict[str, ir.Table]:
    """Engine tables (canonical) for each frame; Arrow / pandas / Polars frames are registered.

    ``engine`` is a :class:`clientlens.features.engine.Engine` or ``None`` (Ibis memtables on the
    default backend, DuckDB). Ibis tables are used as they are. Absent (or None) frames are
    absent from the result too, so the features built on them are nulls, at no cost.
    """
    unknown = set(frames) - set(FRAME_KINDS)
    if unknown:
        raise InputError(f"unknown frame(s) {', '.join(sorted(unknown))}; expected {', '.join(FRAME_KINDS)}")
    if "orders" not in frames:
        raise InputError("the features need an orders frame")
    out: dict[str, ir.Table] = {}
    for kind in FRAME_KINDS:
        obj = frames.get(kind)
        if obj is None:
            continue  # absent frames are left out of the expression altogether
        if isinstance(obj, ir.Table):
            table = obj
        else:
            data = to_arrow(obj, what=kind)
            table = ibis.memtable(data) if engine is None else engine.register(data, f"cl_{kind}")
        out[kind] = canonical(table, kind)
    return out
