"""Files mode: read a file (orders) or a folder of frames into engine tables.

With ``validate=True`` (the default) each file goes through :func:`clientlens.ingest.read_table`
(same mapping and validation as import; rejected rows are counted and kept for the quarantine
file), and the validated Arrow table is loaded into the engine. With ``validate=False`` CSV and
Parquet files are read by the engine itself (Spark reads them in parallel, nothing passes through
Python), with the headers matched to the canonical names; use it for bases too large to validate
in one process. Money is converted to the reporting currency with a ``rates`` file when present.

With the Spark engine ``path`` may also be a URL the cluster is configured for (``s3a://``,
``hdfs://``, ``file://``): folders are listed through the session's Hadoop file system, Spark reads
the files itself, and files to validate are first copied to a local temporary folder.
"""

from __future__ import annotations

import logging
import re
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from clientlens.config import Settings
from clientlens.errors import InputError
from clientlens.features.engine import is_url
from clientlens.features.frames import FRAME_KINDS, canonical
from clientlens.features.store_reader import to_reporting

log = logging.getLogger(__name__)

SUFFIXES = (".csv", ".parquet", ".xlsx")
_MONEY = {"orders": ("total", "discount_total"), "order_lines": ("unit_price", "discount"), "products": ("price",)}
_NORM = re.compile(r"[\s_\-]+")


class FileFrames(dict[str, ir.Table]):
    """Engine tables by frame kind, plus what the reading found."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: dict[str, Any] = {}
        self.files: dict[str, str | Path] = {}
        self.rejected: int = 0
        self.reporting_currency: str | None = None


def _norm(name: str) -> str:
    return _NORM.sub("", name.strip().lower())


def find_files(path: str | Path, engine: Any = None) -> dict[str, str | Path]:
    """Frame kind -> file: a single file is the orders; a folder holds files named after the frames.

    ``path`` may be a URL (``s3a://``, ``hdfs://``, ``file://``) when ``engine`` lists folders through
    the cluster's file system (the Spark engine); the files are then URLs too.
    """
    if is_url(path):
        lister = getattr(engine, "list_files", None)
        if lister is None:
            raise InputError(f"{path}: a URL source is read by the cluster: use --engine spark, or give a "
                             "local path")
        listed = lister(str(path))
        if listed is None:
            return {"orders": str(path)}
        candidates: list[str | Path] = list(listed)
    else:
        path = Path(path)
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        if path.is_file():
            return {"orders": path}
        candidates = [f for f in sorted(path.iterdir()) if f.is_file()]
    wanted = {_norm(k): k for k in (*FRAME_KINDS, "rates")}
    wanted["lines"] = "order_lines"
    wanted["orderlines"] = "order_lines"
    found: dict[str, str | Path] = {}
    for f in candidates:
        name = PurePosixPath(str(f)).name if isinstance(f, str) else f.name
        suffix = PurePosixPath(name).suffix.lower()
        if suffix in SUFFIXES and not name.endswith(".rejected.csv"):
            kind = wanted.get(_norm(PurePosixPath(name).stem))
            if kind is not None and kind not in found:
                found[kind] = f
    if "orders" not in found:
        raise InputError(f"{path}: no orders file (orders.csv, orders.parquet or orders.xlsx) in the folder")
    return found


def _read_table() -> Any:
    try:
        from clientlens.ingest import read_table
    except ImportError:  # ingest not installed in this build
        return None
    return read_table


def _rename_to_canonical(table: ir.Table, kind: str) -> ir.Table:
    """Rename headers that match canonical names (case, spaces, ``_`` and ``-`` ignored)."""
    entity = kind.replace("_", "-")
    try:
        from clientlens.ingest.columns import match_columns

        matched, _layout = match_columns(entity, list(table.columns), source=kind)
        renames = {canon: theirs for canon, theirs in matched.items() if canon != theirs}
    except ImportError:
        by_norm = {_norm(c): c for c in table.columns}
        renames = {}
        for name in (*canonical_columns(kind),):
            theirs = by_norm.get(_norm(name))
            if theirs is not None and theirs != name:
                renames[name] = theirs
    return table.rename(renames) if renames else table


def canonical_columns(kind: str) -> tuple[str, ...]:
    from clientlens.features.frames import SCHEMAS

    return tuple(SCHEMAS.get(kind, {}))


def load_file_frames(path: str | Path, engine: Any, *, settings: Settings, shop: str | None = None,
                     validate: bool = True, mapping: Any = None, options: Any = None) -> FileFrames:
    """Read ``path`` (a file or a folder) into canonical engine tables (see module doc)."""
    files = find_files(path, engine)
    out = FileFrames()
    out.files = files
    reader = _read_table() if validate else None
    if validate and reader is None:
        log.warning("clientlens.ingest is not available; reading %s without validation", path)
    arrow: dict[str, pa.Table] = {}
    with tempfile.TemporaryDirectory(prefix="clientlens-source-") as tmp:
        for kind, file in files.items():
            if reader is not None or _suffix(file) == ".xlsx":
                local = _local_copy(file, engine, Path(tmp))
            if reader is not None:
                result = reader(local, kind, mapping=mapping if kind == "orders" else None, options=options,
                                settings=settings, shop=shop)
                out.reads[kind] = result
                out.rejected += int(result.rejected)
                arrow[kind] = result.table
            elif _suffix(file) == ".xlsx":
                arrow[kind] = pa.Table.from_pandas(pd.read_excel(local), preserve_index=False)
            else:
                table = _rename_to_canonical(engine.read(file, f"file_{kind}"), kind)
                out[kind] = table if kind == "rates" else canonical(table, kind, what=str(file))
    if arrow:
        _convert_money(arrow, settings=settings, shop=shop, out=out)
        for kind, data in arrow.items():
            if kind == "rates":
                continue
            if reader is None:
                renamed = _rename_to_canonical(engine.register(data, f"file_{kind}"), kind)
                out[kind] = canonical(renamed, kind, what=str(files[kind]))
            else:
                out[kind] = canonical(engine.register(data, f"file_{kind}"), kind, what=str(files[kind]))
    out.pop("rates", None)
    return out


def _suffix(file: str | Path) -> str:
    return PurePosixPath(str(file)).suffix.lower()


def _local_copy(file: str | Path, engine: Any, folder: Path) -> Path:
    """``file`` itself when local; a URL is copied into ``folder`` (validation reads in this process)."""
    if not isinstance(file, str):
        return file
    local = folder / PurePosixPath(file).name
    engine.copy_to_local(file, local)
    return local


def _convert_money(arrow: dict[str, pa.Table], *, settings: Settings, shop: str | None, out: FileFrames) -> None:
    """Convert validated money columns to the reporting currency (in place)."""
    orders = arrow.get("orders")
    if orders is None or "currency" not in orders.column_names:
        return
    configured = settings.shop(shop).currency if shop else settings.shop_defaults.currency
    currencies = orders.column("currency").to_pandas().dropna().astype(str).str.upper()
    reporting = configured.upper() if configured else (
        currencies.value_counts().sort_index().sort_values(ascending=False, kind="stable").index[0]
        if len(currencies) else settings.ingest.default_currency)
    out.reporting_currency = reporting
    if currencies.empty or (currencies == reporting).all():
        return
    rates = arrow["rates"].to_pandas() if "rates" in arrow else pd.DataFrame(
        {"date": [], "currency": [], "rate_to_reporting": []})
    frame = orders.to_pandas()
    for col in _MONEY["orders"]:
        if col in frame:
            frame[col] = to_reporting(frame[col], frame["currency"], frame["order_date"], reporting, rates,
                                      shop=shop or "files", minor=False)
    arrow["orders"] = pa.Table.from_pandas(frame, preserve_index=False)
    if "order_lines" in arrow:
        lines = arrow["order_lines"].to_pandas()
        info = frame[["order_id", "currency", "order_date"]].drop_duplicates("order_id")
        lines = lines.merge(info, on="order_id", how="left")
        for col in _MONEY["order_lines"]:
            if col in lines:
                lines[col] = to_reporting(lines[col], lines["currency"], lines["order_date"], reporting, rates,
                                          shop=shop or "files", minor=False)
        arrow["order_lines"] = pa.Table.from_pandas(lines.drop(columns=["currency", "order_date"]),
                                                    preserve_index=False)
