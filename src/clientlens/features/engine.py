"""The engine seam: run Ibis expressions on DuckDB (default) or on Spark.

One small interface: :meth:`Engine.register` (an Arrow table becomes an engine table),
:meth:`Engine.read` (a CSV / Parquet file read by the engine itself), :meth:`Engine.to_pandas` /
:meth:`Engine.to_arrow` (execute an expression) and :meth:`Engine.write_parquet`.

The Spark engine computes on Spark: files are read by Spark's own readers and Arrow tables are
loaded with ``createDataFrame`` from Arrow; expressions compile to Spark SQL. Every execution runs
under the Spark job group :data:`SPARK_JOB_GROUP`, so callers (and tests) can check through
``sparkContext.statusTracker()`` that Spark ran the jobs.

>>> import pyarrow as pa
>>> with DuckDBEngine() as eng:
...     t = eng.register(pa.table({"x": [1, 2, 3]}), "numbers")
...     int(eng.to_pandas(t.aggregate(s=t.x.sum()))["s"][0])
6
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import Any, Protocol

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from clientlens.config import Settings
from clientlens.errors import ConfigError, EngineError, InputError

log = logging.getLogger(__name__)

SPARK_JOB_GROUP = "clientlens-features"
ENGINES = ("duckdb", "spark")
_names = itertools.count()


class Engine(Protocol):
    """What the features layer needs from an analytics engine."""

    name: str

    def register(self, data: pa.Table, name: str | None = None) -> ir.Table:
        """Make an Arrow table available to the engine as ``name``."""
        ...

    def read(self, path: str | Path, name: str | None = None) -> ir.Table:
        """Read a ``.csv`` or ``.parquet`` file with the engine's own reader."""
        ...

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        """Execute ``expr`` and return the result as Arrow."""
        ...

    def to_pandas(self, expr: ir.Table) -> pd.DataFrame:
        """Execute ``expr`` and return the result as pandas."""
        ...

    def write_parquet(self, expr: ir.Table, path: str | Path) -> None:
        """Execute ``expr`` and write the result to one Parquet file."""
        ...

    def close(self) -> None:
        """Release the engine's resources."""
        ...


def _table_name(name: str | None, prefix: str) -> str:
    """A fresh table name (registering twice never replaces a table an expression still uses)."""
    return f"{name or prefix}_{next(_names)}"


class _BaseEngine:
    name = "base"
    con: Any

    def to_arrow(self, expr: ir.Table) -> pa.Table:  # pragma: no cover - overridden
        raise NotImplementedError

    def to_pandas(self, expr: ir.Table) -> pd.DataFrame:
        return self.to_arrow(expr).to_pandas()

    def write_parquet(self, expr: ir.Table, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(self.to_arrow(expr), path)

    def __enter__(self) -> _BaseEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        disconnect = getattr(self.con, "disconnect", None)
        if disconnect is not None:
            disconnect()


class DuckDBEngine(_BaseEngine):
    """In-process DuckDB through Ibis (the default engine)."""

    name = "duckdb"

    def __init__(self, *, threads: int | None = None, memory_limit: str | None = None) -> None:
        kwargs: dict[str, Any] = {}
        if threads:
            kwargs["threads"] = threads
        if memory_limit:
            kwargs["memory_limit"] = memory_limit
        self.con = ibis.duckdb.connect(**kwargs)

    def register(self, data: pa.Table, name: str | None = None) -> ir.Table:
        name = _table_name(name, "arrow")
        self.con.con.register(name, data)  # zero-copy view over the Arrow buffers
        return self.con.table(name)

    def read(self, path: str | Path, name: str | None = None) -> ir.Table:
        path = Path(path)
        name = _table_name(name, path.stem.replace("-", "_").replace(".", "_"))
        suffix = path.suffix.lower()
        if suffix == ".parquet":
            return self.con.read_parquet(str(path), table_name=name)
        if suffix == ".csv":
            return self.con.read_csv(str(path), table_name=name)
        raise InputError(f"{path}: the engine reads .csv and .parquet files, not {suffix or 'this file'}")

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        try:
            return self.con.to_pyarrow(expr)  # type: ignore[no-any-return]
        except Exception as exc:
            raise EngineError(f"DuckDB failed to run the feature query: {exc}") from exc

    def write_parquet(self, expr: ir.Table, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.con.to_parquet(expr, str(path))


class SparkEngine(_BaseEngine):
    """PySpark (local mode by default) through Ibis' pyspark backend.

    Pass ``session`` to use an existing (e.g. cluster) session; otherwise a local one is created with
    ``[features] spark_shuffle_partitions``, UTC session time zone and any extra ``config``.
    """

    name = "spark"

    def __init__(self, settings: Settings | None = None, *, session: Any = None,
                 master: str = "local[2]", config: dict[str, str] | None = None) -> None:
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise EngineError("the Spark engine needs pyspark: pip install 'clientlens[spark]'") from exc
        partitions = (settings or Settings()).features.spark_shuffle_partitions
        if session is None:
            builder = SparkSession.builder
            for key, value in (config or {}).items():  # e.g. spark.driver.memory
                builder = builder.config(key, value)
            session = (
                builder.master(master).appName("clientlens")
                .config("spark.sql.shuffle.partitions", str(partitions))
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .getOrCreate()
            )
        self.session = session
        self.con = ibis.pyspark.connect(session)

    def register(self, data: pa.Table, name: str | None = None) -> ir.Table:
        name = _table_name(name, "arrow")
        frame = self.session.createDataFrame(_spark_safe(data))
        frame.createOrReplaceTempView(name)
        return self.con.table(name)

    def read(self, path: str | Path, name: str | None = None) -> ir.Table:
        path = Path(path)
        name = _table_name(name, path.stem.replace("-", "_").replace(".", "_"))
        suffix = path.suffix.lower()
        reader = self.session.read
        if suffix == ".parquet":
            frame = reader.parquet(str(path))
        elif suffix == ".csv":
            frame = reader.option("header", True).option("inferSchema", True).csv(str(path))
        else:
            raise InputError(f"{path}: the engine reads .csv and .parquet files, not {suffix or 'this file'}")
        frame.createOrReplaceTempView(name)
        return self.con.table(name)

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        """Run ``expr`` as Spark SQL and collect the result straight to Arrow (no pandas on the way)."""
        sc = self.session.sparkContext
        sc.setJobGroup(SPARK_JOB_GROUP, "clientlens features", interruptOnCancel=False)
        try:
            frame = self.session.sql(self.con.compile(expr))
            return _as_schema(frame.toArrow(), expr)
        except Exception as exc:
            raise EngineError(f"Spark failed to run the feature query: {exc}") from exc

    def job_ids(self) -> list[int]:
        """Ids of the Spark jobs run by this engine's executions (from Spark's status tracker)."""
        return list(self.session.sparkContext.statusTracker().getJobIdsForGroup(SPARK_JOB_GROUP))

    def close(self) -> None:
        """Leave the (shared) Spark session running; callers stop it when they own it."""


def _as_schema(table: pa.Table, expr: ir.Table) -> pa.Table:
    """Spark's Arrow result cast to the expression's Ibis schema (e.g. int32 counts -> int64)."""
    target = expr.schema().to_pyarrow()
    if table.schema.equals(target, check_metadata=False):
        return table
    columns = []
    for field in target:
        col = table.column(field.name)
        if pa.types.is_timestamp(col.type) and pa.types.is_timestamp(field.type) and col.type.tz != field.type.tz:
            col = col.cast(pa.timestamp(col.type.unit)) if field.type.tz is None else col
        columns.append(col.cast(field.type))
    return pa.Table.from_arrays(columns, schema=target)


def _spark_safe(data: pa.Table) -> pa.Table:
    """Arrow types Spark's ``createDataFrame`` accepts: plain strings and microsecond timestamps."""
    fields = []
    for field in data.schema:
        t = field.type
        if pa.types.is_large_string(t) or pa.types.is_string_view(t):
            t = pa.string()
        elif pa.types.is_dictionary(t):
            t = t.value_type
        elif pa.types.is_timestamp(t) and t.unit == "ns":
            t = pa.timestamp("us", tz=t.tz)
        fields.append(pa.field(field.name, t))
    schema = pa.schema(fields)
    return data if schema == data.schema else data.cast(schema)


def make_engine(name: str, settings: Settings | None = None) -> DuckDBEngine | SparkEngine:
    """``"duckdb"`` or ``"spark"``."""
    if name == "duckdb":
        return DuckDBEngine()
    if name == "spark":
        return SparkEngine(settings)
    raise ConfigError(f"unknown engine {name!r}; use one of {', '.join(ENGINES)}")
