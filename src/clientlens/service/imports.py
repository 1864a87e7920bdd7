"""Imports and analyses as every surface runs them: an uploaded or named file goes through
``clientlens.ingest.import_file`` (the same report as the CLI), then the care layer is told what changed."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Engine

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


def run_import(engine: Engine, settings: Settings, path: Path, *, shop: str, entity: str,
               quarantine_dir: Path) -> tuple[int, dict[str, Any]]:
    """Import ``path`` into ``shop``; (exit code as the CLI gives it, report)."""
    from clientlens.ingest import import_file

    report = import_file(engine, shop, entity, path, settings=settings, quarantine_dir=quarantine_dir)
    if report.exit_code in (0, 3):  # something was imported
        after_import(engine, settings, shop, entity)
    doc: dict[str, Any] = {"file": report.file, "shop": report.shop, "entity": report.entity,
                           "counts": report.counts(), "layout": report.layout,
                           "quarantine": report.quarantine.name if report.quarantine else None,
                           "rejections": [r.describe() for r in report.rejections[:settings.ingest.quarantine_preview]]}
    return report.exit_code, doc


def after_import(engine: Engine, settings: Settings, shop: str, entity: str) -> None:
    """What an import changes beyond its own tables: new interactions join (or open) their conversations,
    with their SLA clocks started (``care.inbox.sync_conversations``), once, here, not on every page view;
    new exchange rates replace this process's cached ones."""
    if entity == "rates":
        from clientlens.care.loyalty import forget_rates

        forget_rates()
    if entity != "interactions":
        return
    from clientlens.care.inbox import sync_conversations
    from clientlens.store.db import session_scope

    with session_scope(engine) as session:
        sync_conversations(session, shop, settings)


def after_analysis(engine: Engine, settings: Settings, shop: str) -> int:
    """What a new snapshot changes in the care layer: open conversations get the SLA targets and priorities
    of the customers' new labels and scores (``care.inbox.reprioritise``). Returns how many."""
    from clientlens.care.inbox import reprioritise
    from clientlens.store.db import session_scope

    with session_scope(engine) as session:
        return reprioritise(session, shop, settings)
