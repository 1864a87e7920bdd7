"""Campaigns: list, audience, preview per language, send (through the care layer)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from clientlens.api import schemas as s
from clientlens.api.deps import CampaignReader, CampaignWriter, DbDep, ShopDep
from clientlens.api.services import campaigns
from clientlens.api.services.auth import audit

router = APIRouter(prefix="/shops/{shop}/campaigns", tags=["campaigns"])


@router.get("", response_model=list[s.CampaignRead])
def list_campaigns(db: DbDep, shop: ShopDep, _: CampaignReader) -> list[s.CampaignRead]:
    """Campaigns the care layer keeps (empty until it is installed)."""
    return campaigns.list_campaigns(db, shop)


@router.post("/audience")
def audience(db: DbDep, shop: ShopDep, body: s.CampaignCreate, _: CampaignReader) -> dict[str, Any]:
    """Audience size, consented customers for the channel, and the split by language."""
    return campaigns.audience(db, shop, body.taxonomy, body.label, body.channel)


@router.post("/preview", response_model=s.CampaignPreview)
def preview(db: DbDep, shop: ShopDep, body: s.CampaignCreate, _: CampaignReader,
            language: Annotated[str, Query(pattern="^[a-z]{2}$")] = "en") -> s.CampaignPreview:
    """The message as a customer speaking ``language`` gets it."""
    return campaigns.preview(db, shop, body, language, {})


@router.post("/send")
def send(db: DbDep, shop: ShopDep, body: s.CampaignCreate, who: CampaignWriter) -> dict[str, Any]:
    """Send to the consented audience through the care layer's senders (audited)."""
    result = campaigns.send(db, shop, body, who.actor)
    audit(db, who.actor, "campaign_sent", target=body.name, shop=shop.name)
    return result
