"""Imports: upload a file, get the same report as ``clientlens import``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile

from clientlens.http.deps import EngineDep, Importer, SettingsDep, WebSettingsDep
from clientlens.service import imports
from clientlens.service import schemas as s
from clientlens.service.auth import audit
from clientlens.store.db import session_scope

router = APIRouter(prefix="/shops/{shop}/imports", tags=["imports"])

Entity = Literal["customers", "orders", "order-lines", "products", "interactions", "feedback", "rates"]


@router.post("", response_model=s.ImportReport)
def upload(engine: EngineDep, settings: SettingsDep, cfg: WebSettingsDep, shop: str, who: Importer,
           file: Annotated[UploadFile, File(description="CSV, Parquet or Excel file")],
           entity: Annotated[Entity, Form()] = "orders") -> s.ImportReport:
    """Import an uploaded file into the shop (created if new); rejected rows go to the quarantine file."""
    path = imports.save_upload(file.file, file.filename or "upload", Path(cfg.upload_dir), cfg.upload_max_bytes)
    code, report = imports.run_import(engine, settings, path, shop=shop, entity=entity,
                                      quarantine_dir=Path(cfg.upload_dir))
    with session_scope(engine) as db:
        audit(db, who.actor, "import", target=path.name, shop=shop, detail={"entity": entity, "exit_code": code})
    return s.ImportReport(entity=entity, file=path.name, exit_code=code, report=report)
