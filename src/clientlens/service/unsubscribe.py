"""The unsubscribe link of messages (``[care] unsubscribe_url`` = ``.../unsubscribe/{token}``), through
``clientlens.care.consent``: following it withdraws the consent the token names."""

from __future__ import annotations

from sqlalchemy.orm import Session

from clientlens.care.consent import unsubscribe_by_token


def unsubscribe(session: Session, token: str) -> str:
    """Withdraw the consent of the link's token; the channel unsubscribed (NotFoundError for a bad token)."""
    event = unsubscribe_by_token(session, token)
    return event.channel
