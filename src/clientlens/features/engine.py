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
import re
from pathlib import Path, PurePosixPath
from typing import Any, Protocol, Self

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
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+:/")  # two letters at least: not a drive


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

    def __enter__(self) -> Self:
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
    """PySpark through Ibis' pyspark backend: local mode or a cluster.

    Pass ``session`` to use an existing session. Otherwise one is started on ``master`` (default
    ``[features] spark_master``: ``local[2]``, ``spark://HOST:7077``, ``yarn``, ``k8s://...``) with
    ``[features] spark_shuffle_partitions``, UTC session time zone and Arrow transfers, then the
    ``[features.spark]`` settings and ``config`` on top (so they win). Nothing here depends on local
    mode: files are read by Spark at absolute paths or URLs, Arrow tables travel through the driver's
    JVM to the executors, and results come back as Arrow (see docs/features.md, "What runs where").
    """

    name = "spark"

    def __init__(self, settings: Settings | None = None, *, session: Any = None, master: str | None = None,
                 config: dict[str, str] | None = None) -> None:
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise EngineError("the Spark engine needs pyspark: pip install 'clientlens[spark]'") from exc
        features = (settings or Settings()).features
        if session is None:
            master = master or features.spark_master
            conf = spark_conf(settings, config)
            active = SparkSession.getActiveSession()
            if active is not None and active.sparkContext.master != master:
                log.warning("a Spark session on %s is already running in this process; using it, not %s",
                            active.sparkContext.master, master)
            builder = SparkSession.builder.master(master).appName(conf.pop("spark.app.name", "clientlens"))
            for key, value in conf.items():
                builder = builder.config(key, value)
            try:
                session = builder.getOrCreate()
            except Exception as exc:
                raise EngineError(f"could not start Spark on master {master!r}: {exc}") from exc
        self.session = session
        self.con = ibis.pyspark.connect(session)

    def register(self, data: pa.Table, name: str | None = None) -> ir.Table:
        name = _table_name(name, "arrow")
        frame = self.session.createDataFrame(_spark_safe(data))
        frame.createOrReplaceTempView(name)
        return self.con.table(name)

    def read(self, path: str | Path, name: str | None = None) -> ir.Table:
        """Spark's own reader on ``path``: a URL as it is, a local path made absolute (executors do not
        share the driver's working directory; on a cluster the path must be on a shared folder)."""
        location = spark_location(path)
        stem = PurePosixPath(location.split("://", 1)[-1]).stem
        name = _table_name(name, stem.replace("-", "_").replace(".", "_"))
        suffix = PurePosixPath(location).suffix.lower()
        reader = self.session.read
        if suffix == ".parquet":
            frame = reader.parquet(location)
        elif suffix == ".csv":
            frame = reader.option("header", True).option("inferSchema", True).csv(location)
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

    def describe(self) -> dict[str, Any]:
        """Where this engine ran: master, application id, executors (the driver not counted), jobs."""
        sc = self.session.sparkContext
        try:  # the JVM's own list; includes the driver
            executors = max(len(sc._jsc.sc().statusTracker().getExecutorInfos()) - 1, 0)
        except Exception:  # e.g. Spark Connect, where the JVM is not reachable
            executors = None
        return {"master": sc.master, "application_id": sc.applicationId, "executors": executors,
                "default_parallelism": sc.defaultParallelism, "jobs": len(self.job_ids())}

    def hadoop_fs(self, url: str) -> tuple[Any, Any]:
        """The cluster's Hadoop file system for ``url`` (as the session is configured: hdfs, s3a, ...)."""
        jvm = self.session.sparkContext._jvm
        hpath = jvm.org.apache.hadoop.fs.Path(url)
        return hpath.getFileSystem(self.session.sparkContext._jsc.hadoopConfiguration()), hpath

    def list_files(self, url: str) -> list[str] | None:
        """The files directly in folder ``url`` (full URLs), or ``None`` when ``url`` is a file."""
        fs, hpath = self.hadoop_fs(url)
        if not fs.exists(hpath):
            raise InputError(f"{url}: no such file or folder (as the Spark session sees it)")
        if fs.getFileStatus(hpath).isFile():
            return None
        return sorted(str(st.getPath().toString()) for st in fs.listStatus(hpath) if st.isFile())

    def copy_to_local(self, url: str, local: str | Path) -> None:
        """Copy file ``url`` to the local path ``local`` (through the cluster's Hadoop file system)."""
        fs, hpath = self.hadoop_fs(url)
        jvm = self.session.sparkContext._jvm
        fs.copyToLocalFile(False, hpath, jvm.org.apache.hadoop.fs.Path(str(Path(local).resolve())), True)

    def copy_from_local(self, local: str | Path, url: str) -> None:
        """Copy the local file ``local`` to ``url`` (replacing it)."""
        fs, hpath = self.hadoop_fs(url)
        jvm = self.session.sparkContext._jvm
        fs.copyFromLocalFile(False, True, jvm.org.apache.hadoop.fs.Path(str(Path(local).resolve())), hpath)

    def close(self) -> None:
        """Leave the (shared) Spark session running; callers stop it when they own it."""


def spark_conf(settings: Settings | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The Spark settings a new session gets: clientlens' own, then ``[features.spark]``, then ``extra``."""
    features = (settings or Settings()).features
    conf = {
        "spark.sql.shuffle.partitions": str(features.spark_shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
    }
    conf.update(features.spark)
    for key, value in (extra or {}).items():  # e.g. spark.driver.memory
        conf[key] = str(value)
    return conf


def is_url(path: str | Path) -> bool:
    """``scheme:/...`` (``s3a://``, ``hdfs://``, ``file:///``, Hadoop's ``file:/``), not a local path."""
    return isinstance(path, str) and _URL.match(path) is not None


def spark_location(path: str | Path) -> str:
    """What Spark is given for ``path``: a URL unchanged, a local path as an absolute path."""
    if is_url(path):
        return str(path)
    return str(Path(path).expanduser().resolve())


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


def make_engine(name: str, settings: Settings | None = None, *, spark_master: str | None = None,
                spark_config: dict[str, str] | None = None) -> DuckDBEngine | SparkEngine:
    """``"duckdb"`` or ``"spark"`` (on ``spark_master``, default ``[features] spark_master``, with
    ``spark_config`` over ``[features.spark]``)."""
    if name == "duckdb":
        return DuckDBEngine()
    if name == "spark":
        return SparkEngine(settings, master=spark_master, config=spark_config)
    raise ConfigError(f"unknown engine {name!r}; use one of {', '.join(ENGINES)}")
