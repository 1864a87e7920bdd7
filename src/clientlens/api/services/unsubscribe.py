"""The unsubscribe link put in every message: signed per (shop, customer, channel), no login needed."""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy.orm import Session

from clientlens.api.security import same, sign
from clientlens.api.services.auth import get_secret
from clientlens.errors import ConfigError, NotFoundError
from clientlens.store import models as m
from clientlens.store.repository import get_customer, get_shop, utcnow

SECRET_NAME = "unsubscribe"


def signature(session: Session, shop: str, customer_id: str, channel: str) -> str:
    return sign(get_secret(session, SECRET_NAME), f"{shop}\x1f{customer_id}\x1f{channel}")


def unsubscribe_url(session: Session, base_url: str, shop: str, customer_id: str, channel: str = "email") -> str:
    """The link a message carries, e.g. ``https://crm.example/unsubscribe?shop=...&sig=...``."""
    query = urlencode({"shop": shop, "customer": customer_id, "channel": channel,
                       "sig": signature(session, shop, customer_id, channel)})
    return f"{base_url.rstrip('/')}/unsubscribe?{query}"


def unsubscribe(session: Session, shop_name: str, customer_id: str, channel: str, sig: str) -> bool:
    """Withdraw consent for ``channel`` when the signature is right; True when consent changed."""
    if channel not in m.CONSENT_CHANNELS:
        raise ConfigError(f"unknown channel {channel!r} (field: channel); one of {', '.join(m.CONSENT_CHANNELS)}")
    if not same(sig, signature(session, shop_name, customer_id, channel)):
        raise NotFoundError("this unsubscribe link is not valid (field: sig)")
    shop = get_shop(session, shop_name)
    cust = get_customer(session, shop.id, customer_id)
    field = f"consent_{channel}"
    changed = getattr(cust, field) is not False
    setattr(cust, field, False)
    session.add(m.ConsentEvent(shop_id=shop.id, customer_id=cust.id, channel=channel, granted=False, at=utcnow(),
                               source="unsubscribe-link"))
    return changed
