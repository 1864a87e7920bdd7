"""Bulk store I/O for one batch inside one transaction: key lookups, inserts, updates.

SQLite: the driver's ``executemany`` on the connection of the transaction. PostgreSQL: ``COPY`` of
the batch written as CSV by Polars. Key lookups go per chunk of keys (``IN`` / ``= ANY``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import polars as pl
from sqlalchemy import Connection, Table, bindparam, func, update

LOOKUP_CHUNK = 5000


def is_pg(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def lookup(conn: Connection, table: Table, shop_id: int, keys: Sequence[str],
           cols: Sequence[str] = ("id",), key_col: str = "external_id") -> pl.DataFrame:
    """Existing rows of ``table`` in the shop whose ``key_col`` is in ``keys``: ``_key`` + ``cols``.

    One query per chunk of keys on the transaction's own DBAPI connection (``= ANY`` on PostgreSQL).
    """
    names = ["_key", *cols]
    select_sql = ", ".join(f'"{c}"' for c in (key_col, *cols))
    uniq = list(dict.fromkeys(k for k in keys if k is not None))
    found: list[tuple[Any, ...]] = []
    raw = conn.connection.driver_connection
    cur = raw.cursor()  # type: ignore[union-attr]
    try:
        if is_pg(conn):
            if uniq:
                cur.execute(f'SELECT {select_sql} FROM "{table.name}" WHERE shop_id = %s AND "{key_col}" = ANY(%s)',
                            (shop_id, uniq))
                found = cur.fetchall()
        else:
            for i in range(0, len(uniq), LOOKUP_CHUNK):
                chunk = uniq[i:i + LOOKUP_CHUNK]
                marks = ", ".join("?" * len(chunk))
                cur.execute(f'SELECT {select_sql} FROM "{table.name}" WHERE shop_id = ? AND "{key_col}" IN ({marks})',
                            (shop_id, *chunk))
                found.extend(cur.fetchall())
    finally:
        cur.close()
    columns = list(zip(*found, strict=True)) if found else [() for _ in names]
    data = {n: list(c) for n, c in zip(names, columns, strict=True)}
    schema = {n: (pl.String if n in ("_key", "row_hash") else None) for n in names}
    frame = pl.DataFrame(data, schema_overrides={k: v for k, v in schema.items() if v is not None},
                         strict=False)
    return frame.with_columns(pl.col(c).cast(pl.Int64) for c in names if c in ("id", "merged_into_id"))


def _sqlite_ready(frame: pl.DataFrame) -> pl.DataFrame:
    conv = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime):
            conv.append(pl.col(name).dt.strftime("%Y-%m-%d %H:%M:%S.%6f"))
        elif dtype == pl.Date:
            conv.append(pl.col(name).dt.strftime("%Y-%m-%d"))
        elif dtype == pl.Boolean:
            conv.append(pl.col(name).cast(pl.Int64))
    return frame.with_columns(conv) if conv else frame


def insert(conn: Connection, table: Table, frame: pl.DataFrame) -> int:
    """Insert every row of ``frame`` (columns named as the table's) in the current transaction."""
    if frame.height == 0:
        return 0
    cols = list(frame.columns)
    if is_pg(conn):
        buf = io.BytesIO()
        frame.write_csv(buf, include_header=False, datetime_format="%Y-%m-%d %H:%M:%S%.f",
                        null_value="")
        raw = conn.connection.driver_connection
        col_sql = ", ".join(f'"{c}"' for c in cols)
        with raw.cursor() as cur:  # type: ignore[union-attr]
            with cur.copy(f'COPY "{table.name}" ({col_sql}) FROM STDIN WITH (FORMAT csv)') as cp:
                cp.write(buf.getvalue())
        return frame.height
    ready = _sqlite_ready(frame)
    sql = f'INSERT INTO "{table.name}" ({", ".join(cols)}) VALUES ({", ".join("?" * len(cols))})'
    raw_conn = conn.connection.driver_connection
    raw_conn.executemany(sql, ready.iter_rows())  # type: ignore[union-attr]
    return frame.height


def update_rows(conn: Connection, table: Table, frame: pl.DataFrame, *, keep: Sequence[str] = ()) -> int:
    """Update rows by ``id`` with the other columns of ``frame`` (changed records are few).

    Columns in ``keep`` are only overwritten by non-null values (a file without a value does not
    erase what the store knows).
    """
    if frame.height == 0:
        return 0
    cols = [c for c in frame.columns if c != "id"]
    stmt = update(table).where(table.c.id == bindparam("_id")).values(
        {c: (func.coalesce(bindparam(f"_v_{c}"), table.c[c]) if c in keep else bindparam(f"_v_{c}"))
         for c in cols})
    params = [{"_id": r["id"], **{f"_v_{c}": r[c] for c in cols}} for r in frame.iter_rows(named=True)]
    conn.execute(stmt, params)
    return frame.height
