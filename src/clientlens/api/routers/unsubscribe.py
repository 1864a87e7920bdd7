"""The unsubscribe link of messages (no login: the random token is the authorisation)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from clientlens.http.deps import DbDep
from clientlens.service import schemas as s
from clientlens.service import unsubscribe as svc

router = APIRouter(tags=["unsubscribe"])


@router.post("/unsubscribe/{token}", response_model=s.Message)
def unsubscribe(db: DbDep, token: Annotated[str, Path(min_length=8, max_length=64)]) -> s.Message:
    """Withdraw the consent named by the link's token (404 for an unknown token)."""
    channel = svc.unsubscribe(db, token)
    return s.Message(message=f"unsubscribed from {channel}")
