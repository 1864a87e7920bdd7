"""The unsubscribe link of messages (no login; the link is signed)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from clientlens.api import schemas as s
from clientlens.api.deps import DbDep
from clientlens.api.services import unsubscribe as svc

router = APIRouter(tags=["unsubscribe"])

Q = Annotated[str, Query(min_length=1, max_length=200)]


@router.post("/unsubscribe", response_model=s.Message)
def unsubscribe(db: DbDep, shop: Q, customer: Q, sig: Q,
                channel: Annotated[str, Query(max_length=20)] = "email") -> s.Message:
    """Withdraw the customer's consent for the channel (the link's signature is checked)."""
    changed = svc.unsubscribe(db, shop, customer, channel, sig)
    return s.Message(message="unsubscribed" if changed else "already unsubscribed")
