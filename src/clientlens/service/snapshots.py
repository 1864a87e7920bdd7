"""The latest snapshot of a shop, looked up once per store session (a request asks for it many times)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from clientlens.store import models as m
from clientlens.store.repository import latest_snapshot


def current_snapshot(session: Session, shop_id: int) -> m.Snapshot | None:
    """``latest_snapshot`` memoised in ``session.info`` for the life of the session."""
    memo: dict[int, m.Snapshot | None] = session.info.setdefault("clientlens_latest_snapshot", {})
    if shop_id not in memo:
        memo[shop_id] = latest_snapshot(session, shop_id)
    return memo[shop_id]
