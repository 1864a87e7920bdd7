"""Files mode: read a file (orders) or a folder of canonical files through the features layer's
file reader (validated like an import), and write the quarantine files of the rejected rows.

Rejected rows go to ``<input name>.rejected.csv`` in the current directory (docs/interfaces.md); the valid
rows are analysed.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clientlens.config import Settings

log = logging.getLogger(__name__)


@dataclass
class SourceRead:
    """The engine tables read from a source, and the rows rejected on the way."""

    frames: dict[str, Any]
    rejected: dict[str, int] = field(default_factory=dict)
    read: dict[str, int] = field(default_factory=dict)
    quarantine: list[Path] = field(default_factory=list)
    reporting_currency: str | None = None

    @property
    def total_rejected(self) -> int:
        return sum(self.rejected.values())


def read_source(path: str | Path, engine: Any, *, settings: Settings, shop: str = "default", mapping: Any = None,
                options: Any = None, validate: bool = True,
                quarantine_dir: str | Path | None = None) -> SourceRead:
    """Canonical engine tables of ``path``; a quarantine file written for each file with rejected rows."""
    from clientlens.features import load_file_frames

    frames = load_file_frames(path, engine, settings=settings, shop=shop, validate=validate, mapping=mapping,
                              options=options)
    out = SourceRead(frames=dict(frames), reporting_currency=frames.reporting_currency)
    if frames.reads:
        from clientlens.ingest import write_quarantine

        for kind, result in frames.reads.items():
            out.read[kind] = int(result.read)
            if result.rejected:
                out.rejected[kind] = int(result.rejected)
                written = write_quarantine(result, frames.files[kind], directory=quarantine_dir)
                if written is not None:
                    out.quarantine.append(written)
                    log.warning("%s: %d row(s) rejected, see %s", frames.files[kind], result.rejected, written)
    return out


def write_snapshot(snapshot: Any, out: str | Path, engine: Any = None) -> list[str]:
    """Write ``snapshot``'s Parquet layout to ``out``: a local (or shared) folder, or a URL the cluster
    is configured for (``s3a://``, ``hdfs://``, ``abfss://``, ``file://``), which is written through
    ``engine``'s (Spark's) Hadoop file system. The tables are small per-customer and aggregate tables
    held by the driver, so the driver writes them: one file each, as docs/interfaces.md asks."""
    from clientlens.features.engine import is_url

    if not is_url(out):
        return [str(p) for p in snapshot.write_parquet(out)]
    if getattr(engine, "copy_from_local", None) is None:
        from clientlens.errors import InputError

        raise InputError(f"{out}: a URL snapshot folder is written through the cluster: use --engine spark, "
                         "or give a local folder")
    base = str(out).rstrip("/")
    written = []
    with tempfile.TemporaryDirectory(prefix="clientlens-snapshot-") as tmp:
        for path in snapshot.write_parquet(tmp):
            target = f"{base}/{path.name}"
            engine.copy_from_local(path, target)
            written.append(target)
    return written
