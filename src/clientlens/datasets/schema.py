"""Columns and types of the generated files (the canonical input columns of docs/interfaces.md, plus
``timezone`` on customers and the ``truth`` table), and how they are written.

CSV: ISO dates (``YYYY-MM-DD``) and times (``YYYY-MM-DDTHH:MM:SS``, UTC), money with two decimals,
booleans as ``true`` / ``false``, unknown values empty. Parquet: the Arrow types below.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

_S, _D, _T, _F, _I, _B = pa.string(), pa.date32(), pa.timestamp("us"), pa.float64(), pa.int64(), pa.bool_()

SCHEMAS: dict[str, list[tuple[str, pa.DataType]]] = {
    "customers": [
        ("customer_id", _S), ("name", _S), ("email", _S), ("phone", _S), ("birth_date", _D), ("gender", _S),
        ("income_band", _S), ("kind", _S), ("country", _S), ("city", _S), ("address", _S), ("language", _S),
        ("timezone", _S), ("preferred_channel", _S), ("consent_email", _B), ("consent_sms", _B),
        ("consent_phone", _B), ("consent_post", _B), ("consent_chat", _B), ("consent_social", _B),
        ("created_at", _T)],
    "orders": [
        ("order_id", _S), ("customer_id", _S), ("order_date", _T), ("channel", _S), ("currency", _S),
        ("total", _F), ("discount_total", _F), ("status", _S)],
    "order_lines": [
        ("order_id", _S), ("product_id", _S), ("product_name", _S), ("category", _S), ("quantity", _I),
        ("unit_price", _F), ("discount", _F), ("is_new_arrival", _B)],
    "products": [("product_id", _S), ("name", _S), ("category", _S), ("price", _F), ("launched_at", _D)],
    "interactions": [
        ("interaction_id", _S), ("customer_id", _S), ("channel", _S), ("direction", _S), ("occurred_at", _T),
        ("thread_id", _S), ("subject", _S), ("body", _S), ("agent", _S)],
    "feedback": [
        ("customer_id", _S), ("kind", _S), ("score", _I), ("comment", _S), ("submitted_at", _T),
        ("interaction_id", _S)],
    "truth": [
        ("customer_id", _S), ("price_conscious", _B), ("brand_loyal", _B), ("trend_seeker", _B),
        ("bulk_buyer", _B), ("occasional", _B), ("lapsing", _B), ("prospect", _B), ("international", _B),
        ("customer_type", _S), ("gender", _S), ("birth_date", _D), ("income_band", _S), ("country", _S),
        ("language", _S), ("timezone", _S), ("profile", _S), ("completed_orders", _I), ("borderline", _S),
        ("consents_withdrawn", _S)],
}
#: file names, in writing order
TABLES: tuple[str, ...] = ("customers", "orders", "order_lines", "products", "interactions", "feedback", "truth")
#: columns written with two decimals
MONEY = {"total", "discount_total", "unit_price", "discount", "price"}


def columns(table: str) -> list[str]:
    """Column names of a generated table, in file order."""
    return [name for name, _ in SCHEMAS[table]]


def schema(table: str) -> pa.Schema:
    return pa.schema(SCHEMAS[table])


def to_arrow(table: str, frame: pd.DataFrame | None) -> pa.Table:
    """The frame as an Arrow table with the fixed schema (an empty table for ``None``)."""
    sch = schema(table)
    if frame is None:
        return sch.empty_table()
    arrays = []
    for name, typ in SCHEMAS[table]:
        col = frame[name]
        if typ == _T:
            arrays.append(pa.array(pd.to_datetime(col).to_numpy(dtype="datetime64[us]"), type=typ))
        elif typ in (_D, _B):
            values = col.to_numpy(dtype=object)
            arrays.append(pa.array(values, type=typ, from_pandas=True))
        else:
            arrays.append(pa.Array.from_pandas(col, type=typ))
    return pa.Table.from_arrays(arrays, schema=sch)


def _text_column(name: str, typ: pa.DataType, col: pd.Series) -> pd.Series:
    if typ == _T:
        ts = pd.to_datetime(col)
        return ts.dt.strftime("%Y-%m-%dT%H:%M:%S").where(ts.notna(), "")
    if typ == _D:
        return col.map(lambda v: "" if v is None or v is pd.NaT or (isinstance(v, float) and v != v) else v.isoformat())
    if typ == _B:
        return col.map(lambda v: "" if v is None or (isinstance(v, float) and v != v) else ("true" if v else "false"))
    if name in MONEY:
        return col.map(lambda v: f"{v:.2f}")
    return col


def write_csv(table: str, frame: pd.DataFrame, path: str | Path) -> None:
    """Write one table as UTF-8 CSV in the canonical text forms."""
    out = pd.DataFrame({name: _text_column(name, typ, frame[name]) for name, typ in SCHEMAS[table]})
    out.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
