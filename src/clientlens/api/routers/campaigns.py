"""Campaigns: list, preview per language, send (through the care layer)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from clientlens.http.deps import CampaignReader, CampaignWriter, DbDep, EngineDep, SettingsDep, ShopDep
from clientlens.service import campaigns
from clientlens.service import schemas as s
from clientlens.service.auth import audit

router = APIRouter(prefix="/shops/{shop}/campaigns", tags=["campaigns"])


@router.get("", response_model=list[s.CampaignRead])
def list_campaigns(db: DbDep, shop: ShopDep, _: CampaignReader) -> list[s.CampaignRead]:
    """Campaigns of the care send log."""
    return campaigns.list_campaigns(db, shop)


@router.get("/templates", response_model=list[str])
def list_templates(_: CampaignReader) -> list[str]:
    """Message templates a campaign can use."""
    return campaigns.templates()


@router.post("/preview", response_model=s.CampaignPreview)
def preview(db: DbDep, settings: SettingsDep, shop: ShopDep, body: s.CampaignCreate, _: CampaignReader,
            language: Annotated[str, Query(pattern="^(en|vi|pl|fr)$")] = "en") -> s.CampaignPreview:
    """Dry run: audience, messages per language, and the message in ``language``."""
    return campaigns.preview(db, settings, shop, body, language)


@router.post("/send")
def send(db: DbDep, engine: EngineDep, settings: SettingsDep, shop: ShopDep, body: s.CampaignCreate,
         who: CampaignWriter) -> dict[str, Any]:
    """Send to the consenting audience through the care layer's senders (audited)."""
    result = campaigns.send(engine, settings, shop, body)
    audit(db, who.actor, "campaign_sent", target=body.name, shop=shop.name, detail=result)
    return result
