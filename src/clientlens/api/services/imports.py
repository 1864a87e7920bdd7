"""Imports: an uploaded file goes through the ingest layer's ``import_file`` (same report as the CLI)."""

from __future__ import annotations

import dataclasses
import shutil
import uuid
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Engine

from clientlens.api.services.bridge import require_function
from clientlens.config import Settings
from clientlens.errors import InputError


def save_upload(stream: BinaryIO, filename: str, upload_dir: Path, max_bytes: int) -> Path:
    """Copy an upload to ``upload_dir`` under a fresh name keeping its extension; InputError when too big."""
    upload_dir.mkdir(parents=True, exist_ok=True)
    safe = Path(filename or "upload").name.replace(" ", "_")[:120] or "upload"
    target = upload_dir / f"{uuid.uuid4().hex[:8]}-{safe}"
    with target.open("wb") as out:
        shutil.copyfileobj(stream, out, length=1 << 20)
    if target.stat().st_size > max_bytes:
        target.unlink()
        raise InputError(f"{safe}: file larger than {max_bytes} bytes (field: file)")
    return target


def _plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(obj).items()}
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, str | int | float | bool) or obj is None:
        return obj
    return str(obj)


def run_import(engine: Engine, settings: Settings, path: Path, *, shop: str, entity: str) -> tuple[int, dict[str, Any]]:
    """Import ``path`` into ``shop``; (exit code as the CLI would give, report)."""
    fn = require_function("clientlens.ingest", "import_file")
    report = fn(engine, path, entity=entity, shop=shop, settings=settings)
    doc = _plain(report)
    code = int(getattr(report, "exit_code", doc.get("exit_code", 0) if isinstance(doc, dict) else 0))
    return code, doc if isinstance(doc, dict) else {"report": doc}
