"""Canned replies per shop, language and triage topic: the packaged defaults and the shop's own.

A shop starts with the defaults of ``clientlens/care/canned_replies.toml`` (one per language of
``LANGUAGES`` and topic of ``TOPICS``); a reply the shop writes for a language and topic replaces the
default of that pair (``replies_for``). Bodies are Jinja2 templates, checked in the sandbox when saved
(``care.suggest.check_template``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clientlens.errors import CareError, ConfigError, NotFoundError
from clientlens.store.canned_models import CannedReply
from clientlens.store.repository import utcnow

#: The triage topics (``conversation.topic``), as the triage of inbound messages names them.
TOPICS = ("order_status", "delivery_problem", "return_refund", "complaint", "invoice_payment", "product_question",
          "account_privacy", "praise", "other")
#: Languages the packaged defaults are written in.
LANGUAGES = ("en", "vi", "pl", "fr")
NAME_MAX = 200
BODY_MAX = 20_000


@dataclass(frozen=True)
class Canned:
    """A canned reply: the shop's own (``id`` set) or a packaged default (``id`` None)."""

    id: int | None
    language: str
    topic: str
    name: str
    body: str
    priority: int = 0
    active: bool = True
    updated_at: datetime | None = None
    updated_by: str | None = None

    @property
    def is_default(self) -> bool:
        return self.id is None


@lru_cache(maxsize=1)
def default_replies() -> dict[tuple[str, str], Canned]:
    """The packaged defaults by (language, topic)."""
    data = tomllib.loads(resources.files("clientlens.care").joinpath("canned_replies.toml").read_text("utf-8"))
    return {(lang, topic): Canned(None, lang, topic, f"default: {topic}", body.strip() + "\n")
            for lang, topics in data.items() for topic, body in topics.items()}


def _of(row: CannedReply) -> Canned:
    return Canned(row.id, row.language, row.topic, row.name, row.body, row.priority, row.active, row.updated_at,
                  row.updated_by)


def check_fields(language: str | None, topic: str | None, name: str | None, body: str | None) -> None:
    """A ConfigError (a bad value) naming the field for a bad language, topic, name or body."""
    from clientlens.care.suggest import check_template

    if language is not None and (not language.isalpha() or not 2 <= len(language) <= 8 or language != language.lower()):
        raise ConfigError(f"language {language!r}: a lower-case language code such as {', '.join(LANGUAGES)}")
    if topic is not None and topic not in TOPICS:
        raise ConfigError(f"topic {topic!r}: one of {', '.join(TOPICS)}")
    if name is not None and not 1 <= len(name.strip()) <= NAME_MAX:
        raise ConfigError(f"name: 1 to {NAME_MAX} characters")
    if body is not None:
        if not body.strip() or len(body) > BODY_MAX:
            raise ConfigError(f"body: 1 to {BODY_MAX} characters")
        check_template(body)


def list_replies(session: Session, shop_id: int, *, language: str | None = None, topic: str | None = None,
                 include_defaults: bool = True) -> list[Canned]:
    """The shop's canned replies (and the defaults of the pairs it has none for), by language and topic."""
    q = select(CannedReply).where(CannedReply.shop_id == shop_id)
    if language:
        q = q.where(CannedReply.language == language)
    if topic:
        q = q.where(CannedReply.topic == topic)
    own = [_of(r) for r in session.scalars(q)]
    out = list(own)
    if include_defaults:
        covered = {(c.language, c.topic) for c in own}
        out += [d for key, d in default_replies().items() if key not in covered
                and (not language or d.language == language) and (not topic or d.topic == topic)]
    return sorted(out, key=lambda c: (c.language, TOPICS.index(c.topic) if c.topic in TOPICS else 99,
                                      -c.priority, c.name))


def replies_for(session: Session, shop_id: int, language: str, topic: str) -> list[Canned]:
    """The active replies of a language and topic, best first (highest priority, then newest); the default
    when the shop has none of its own (active or not)."""
    rows = list(session.scalars(select(CannedReply).where(CannedReply.shop_id == shop_id,
                                                          CannedReply.language == language,
                                                          CannedReply.topic == topic)))
    if not rows:
        default = default_replies().get((language, topic))
        return [default] if default else []
    return [_of(r) for r in sorted((r for r in rows if r.active), key=lambda r: (-r.priority, -r.updated_at.timestamp(),
                                                                                  -r.id))]


def get_reply(session: Session, shop_id: int, reply_id: int) -> CannedReply:
    row = session.get(CannedReply, reply_id)
    if row is None or row.shop_id != shop_id:
        raise NotFoundError(f"canned reply {reply_id} does not exist in this shop")
    return row


def create_reply(session: Session, shop_id: int, *, language: str, topic: str, name: str, body: str,
                 priority: int = 0, active: bool = True, actor: str | None = None,
                 now: datetime | None = None) -> Canned:
    check_fields(language, topic, name, body)
    now = now or utcnow()
    row = CannedReply(shop_id=shop_id, language=language, topic=topic, name=name.strip(), body=body,
                      priority=priority, active=active, created_at=now, updated_at=now, updated_by=actor)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        raise CareError(f"name: a canned reply {name.strip()!r} exists already for {language} / {topic}") from exc
    return _of(row)


def update_reply(session: Session, shop_id: int, reply_id: int, *, language: str | None = None,
                 topic: str | None = None, name: str | None = None, body: str | None = None,
                 priority: int | None = None, active: bool | None = None, actor: str | None = None,
                 now: datetime | None = None) -> Canned:
    row = get_reply(session, shop_id, reply_id)
    check_fields(language, topic, name, body)
    for key, value in (("language", language), ("topic", topic), ("name", name.strip() if name else None),
                       ("body", body), ("priority", priority), ("active", active)):
        if value is not None:
            setattr(row, key, value)
    row.updated_at, row.updated_by = now or utcnow(), actor
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise CareError(f"name: a canned reply {row.name!r} exists already for {row.language} / {row.topic}") from exc
    return _of(row)


def delete_reply(session: Session, shop_id: int, reply_id: int) -> None:
    session.delete(get_reply(session, shop_id, reply_id))
    session.flush()
