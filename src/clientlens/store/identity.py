"""Identity resolution within a shop: one person, one profile.

Exact matches merge automatically: the same normalised e-mail address or the same E.164 phone number
(the ``phonenumbers`` library); the same external id is the same record by construction (imports
upsert on it). Fuzzy matches on name + address (the ``rapidfuzz`` library) are only *suggested*; a
person accepts or rejects them. Every merge is recorded with what it changed (rows moved, fields
filled, consents), so ``undo`` restores both profiles exactly.

>>> normalise_email("  Ann.Smith@Example.COM ")
'ann.smith@example.com'
>>> normalise_phone("020 7946 0018", "GB")
'+442079460018'
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import phonenumbers
from sqlalchemy import Table, or_, select, update
from sqlalchemy.orm import Session

from clientlens.config import IdentitySettings
from clientlens.errors import NotFoundError, StoreError
from clientlens.store import models as m
from clientlens.store.repository import utcnow

log = logging.getLogger(__name__)

#: Profile fields a merge may fill on the survivor when the survivor has none.
FILLABLE = ("kind", "name", "email", "email_norm", "phone", "phone_e164", "birth_date", "gender",
            "income_band", "address", "city", "country", "language", "timezone", "preferred_channel")
CONSENTS = tuple(f"consent_{c}" for c in m.CONSENT_CHANNELS)
#: Tables whose rows follow the customer into the survivor (and back on undo).
OWNED = (m.Order, m.Interaction, m.Feedback, m.ConsentEvent)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(value: str | None) -> str | None:
    """Lower-cased, trimmed address; None when it is not an address."""
    if value is None:
        return None
    text = str(value).strip().lower()
    return text if _EMAIL.match(text) else None


def normalise_phone(value: str | None, region: str | None) -> str | None:
    """E.164 form of a phone number read in ``region`` (ISO country); None when not a valid number."""
    if value is None or not str(value).strip():
        return None
    try:
        parsed = phonenumbers.parse(str(value), (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def find_customer(session: Session, shop_id: int, key: str, *, region: str | None = None) -> m.Customer:
    """A customer by its id, its e-mail address or its phone number (any common format, read in ``region``
    when it has no country code); a merged profile resolves to its survivor. NotFoundError otherwise."""
    from clientlens.store.repository import get_customer

    try:
        return get_customer(session, shop_id, key)
    except NotFoundError:
        pass
    email = normalise_email(key)
    phone = None if email else normalise_phone(key, region)
    column, value = (m.Customer.email_norm, email) if email else (m.Customer.phone_e164, phone)
    if value is not None:
        found = session.scalar(select(m.Customer).where(m.Customer.shop_id == shop_id, column == value)
                               .order_by(m.Customer.merged_into_id.is_not(None), m.Customer.id).limit(1))
        if found is not None:
            return get_customer(session, shop_id, found.external_id)
    raise NotFoundError(f"no customer with the id, e-mail or phone {key!r} in this shop")


def _fold(text: str | None) -> str:
    """Lower case, accents removed, punctuation collapsed: the form fuzzy matching compares."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", str(text).replace("đ", "d").replace("Đ", "D").replace("ł", "l").replace("Ł", "L"))
    ascii_text = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return " ".join(re.sub(r"[^\w]+", " ", ascii_text).split())


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _active(shop_id: int):  # type: ignore[no-untyped-def]
    return select(m.Customer).where(m.Customer.shop_id == shop_id, m.Customer.merged_into_id.is_(None))


def merge(session: Session, survivor: m.Customer, merged: m.Customer, *, rule: str, score: float | None = None,
          now: datetime | None = None, record: m.Merge | None = None) -> m.Merge:
    """Merge ``merged`` into ``survivor``: move its rows, fill the survivor's empty fields, keep the
    stricter consent (a withdrawal on either profile wins), and record all of it."""
    if survivor.shop_id != merged.shop_id:
        raise StoreError("customers of different shops are never merged")
    if survivor.id == merged.id or merged.merged_into_id is not None or survivor.merged_into_id is not None:
        raise StoreError(f"customers {survivor.external_id!r} and {merged.external_id!r} cannot be merged "
                         "(same profile, or one was already merged)")
    changes: dict[str, Any] = {"moved": {}, "filled": {}, "consents": {}}
    for model in OWNED:
        table = cast(Table, model.__table__)
        ids = list(session.scalars(select(table.c.id).where(table.c.customer_id == merged.id)))
        if ids:
            session.execute(update(table).where(table.c.id.in_(ids)).values(customer_id=survivor.id))
        changes["moved"][table.name] = ids
    for field in FILLABLE:
        if getattr(survivor, field) in (None, "") and getattr(merged, field) not in (None, ""):
            value = getattr(merged, field)
            changes["filled"][field] = value.isoformat() if hasattr(value, "isoformat") else value
            setattr(survivor, field, value)
    for field in CONSENTS:
        old, theirs = getattr(survivor, field), getattr(merged, field)
        new = False if False in (old, theirs) else (old if old is not None else theirs)
        if new != old:
            changes["consents"][field] = {"old": old, "new": new}
            setattr(survivor, field, new)
    merged.merged_into_id = survivor.id
    stamp = now or utcnow()
    survivor.updated_at = stamp
    if record is None:
        record = m.Merge(shop_id=survivor.shop_id, survivor_id=survivor.id, merged_id=merged.id, rule=rule,
                         score=score, created_at=stamp)
        session.add(record)
    record.status, record.decided_at, record.changes = "accepted", stamp, json.dumps(changes)
    session.flush()
    return record


def undo(session: Session, merge_id: int, *, now: datetime | None = None) -> m.Merge:
    """Undo an accepted merge: move the rows back, clear the filled fields, restore consents."""
    record = session.get(m.Merge, merge_id)
    if record is None:
        raise NotFoundError(f"merge {merge_id} does not exist")
    if record.status != "accepted":
        raise StoreError(f"merge {merge_id} is {record.status}; only an accepted merge can be undone")
    later = session.scalar(select(m.Merge.id).where(m.Merge.status == "accepted", m.Merge.id > record.id,
                                                    m.Merge.merged_id == record.survivor_id))
    if later is not None:
        raise StoreError(f"undo merge {later} first: it merged the survivor of merge {merge_id} away")
    survivor = session.get(m.Customer, record.survivor_id)
    merged = session.get(m.Customer, record.merged_id)
    assert survivor is not None and merged is not None
    changes = json.loads(record.changes or "{}")
    tables = {t.name: t for t in (cast(Table, model.__table__) for model in OWNED)}
    for name, ids in changes.get("moved", {}).items():
        if ids:
            table = tables[name]
            session.execute(update(table).where(table.c.id.in_(ids)).values(customer_id=merged.id))
    for field in changes.get("filled", {}):
        setattr(survivor, field, None)
    for field, pair in changes.get("consents", {}).items():
        setattr(survivor, field, pair["old"])
    merged.merged_into_id = None
    record.status, record.decided_at = "undone", now or utcnow()
    session.flush()
    return record


#: Decisions that two profiles are different people: an undone merge, a rejected suggestion, a separation.
#: No later import or resolution merges such a pair again.
DISTINCT = ("undone", "rejected", "separated")


def distinct_pairs(session: Session, shop_id: int) -> set[tuple[int, int]]:
    """(lower id, higher id) of every pair of profiles decided to be different people."""
    rows = session.execute(select(m.Merge.survivor_id, m.Merge.merged_id)
                           .where(m.Merge.shop_id == shop_id, m.Merge.status.in_(DISTINCT)))
    return {(min(a, b), max(a, b)) for a, b in rows}


def _clusters(members: list[int], linked: set[tuple[int, int]], distinct: set[tuple[int, int]]) -> list[list[int]]:
    """Split a group of profiles sharing keys into people: a profile joins the first cluster it shares a key
    with and holds no "different people" decision against, else starts one (oldest profile first)."""
    clusters: list[list[int]] = []
    for cid in sorted(members):
        for cluster in clusters:
            apart = any((min(cid, o), max(cid, o)) in distinct for o in cluster)
            near = any((min(cid, o), max(cid, o)) in linked for o in cluster)
            if near and not apart:
                cluster.append(cid)
                break
        else:
            clusters.append([cid])
    return clusters


def resolve_exact(session: Session, shop_id: int, *, now: datetime | None = None) -> list[m.Merge]:
    """Merge every group of active profiles sharing a normalised e-mail or E.164 phone.

    The survivor of a group is its oldest profile (lowest id). Grouping is transitive: A and B share
    an e-mail, B and C a phone -> one person. Runs in SQL-sized passes, so it scales to large bases.
    """
    rows = session.execute(
        select(m.Customer.id, m.Customer.email_norm, m.Customer.phone_e164)
        .where(m.Customer.shop_id == shop_id, m.Customer.merged_into_id.is_(None))
        .where((m.Customer.email_norm.is_not(None)) | (m.Customer.phone_e164.is_not(None)))
    ).all()
    by_key: dict[tuple[str, str], list[int]] = defaultdict(list)
    for cid, email, phone in rows:
        if email:
            by_key[("email", email)].append(cid)
        if phone:
            by_key[("phone", phone)].append(cid)
    uf = _UnionFind()
    rule_of: dict[int, str] = {}
    linked: set[tuple[int, int]] = set()
    for (kind, _), ids in by_key.items():
        for other in ids[1:]:
            uf.union(ids[0], other)
            rule_of.setdefault(other, kind)
            rule_of.setdefault(ids[0], kind)
        for i, a in enumerate(ids):
            linked.update((min(a, b), max(a, b)) for b in ids[i + 1:])
    groups: dict[int, list[int]] = defaultdict(list)
    for cid in list(uf.parent):
        groups[uf.find(cid)].append(cid)
    distinct = distinct_pairs(session, shop_id) if groups else set()
    done: list[m.Merge] = []
    for members in groups.values():
        for cluster in _clusters(members, linked, distinct):
            survivor = session.get(m.Customer, cluster[0])
            assert survivor is not None
            for cid in cluster[1:]:
                profile = session.get(m.Customer, cid)
                assert profile is not None
                done.append(merge(session, survivor, profile, rule=rule_of.get(cid, "email"), score=100.0, now=now))
    if done:
        log.info("identity: merged %d profiles in shop %d", len(done), shop_id)
    return done


@dataclass(frozen=True)
class Suggestion:
    survivor_id: int
    merged_id: int
    score: float


def suggest(session: Session, shop_id: int, settings: IdentitySettings, *, now: datetime | None = None) -> list[m.Merge]:
    """Record fuzzy name + address matches as *suggested* merges (never merged automatically).

    Candidates are blocked by (country, city, first letter of the folded name) so the work grows with
    the block sizes, not with the square of the base; blocks larger than ``max_block_size`` are skipped.
    A pair is suggested when the name score >= ``suggest_name_score`` and the address score >=
    ``suggest_address_score`` (rapidfuzz token_sort_ratio, 0-100). Pairs already decided are skipped.
    """
    from rapidfuzz import fuzz

    rows = session.execute(
        select(m.Customer.id, m.Customer.name, m.Customer.address, m.Customer.city, m.Customer.country)
        .where(m.Customer.shop_id == shop_id, m.Customer.merged_into_id.is_(None), m.Customer.name.is_not(None))
    ).all()
    blocks: dict[tuple[str, str, str], list[tuple[int, str, str]]] = defaultdict(list)
    for cid, name, address, city, country in rows:
        folded = _fold(name)
        if folded:
            blocks[(country or "", _fold(city), folded[0])].append((cid, folded, _fold(address)))
    known = {(a, b) for a, b in session.execute(select(m.Merge.survivor_id, m.Merge.merged_id)
                                                .where(m.Merge.shop_id == shop_id))}
    out: list[m.Merge] = []
    stamp = now or utcnow()
    for members in blocks.values():
        if len(members) < 2 or len(members) > settings.max_block_size:
            continue
        for i, (id_a, name_a, addr_a) in enumerate(members):
            for id_b, name_b, addr_b in members[i + 1:]:
                name_score = fuzz.token_sort_ratio(name_a, name_b)
                if name_score < settings.suggest_name_score or not addr_a or not addr_b:
                    continue
                addr_score = fuzz.token_sort_ratio(addr_a, addr_b)
                if addr_score < settings.suggest_address_score:
                    continue
                pair = (min(id_a, id_b), max(id_a, id_b))
                if pair in known or pair[::-1] in known:
                    continue
                known.add(pair)
                rec = m.Merge(shop_id=shop_id, survivor_id=pair[0], merged_id=pair[1], status="suggested",
                              rule="fuzzy_name_address", score=round((name_score + addr_score) / 2, 2),
                              created_at=stamp)
                session.add(rec)
                out.append(rec)
    session.flush()
    return out


def accept(session: Session, merge_id: int, *, now: datetime | None = None) -> m.Merge:
    """Carry out a suggested merge."""
    record = session.get(m.Merge, merge_id)
    if record is None:
        raise NotFoundError(f"merge {merge_id} does not exist")
    if record.status != "suggested":
        raise StoreError(f"merge {merge_id} is {record.status}; only a suggested merge can be accepted")
    survivor = session.get(m.Customer, record.survivor_id)
    merged = session.get(m.Customer, record.merged_id)
    assert survivor is not None and merged is not None
    return merge(session, survivor, merged, rule=record.rule, score=record.score, now=now, record=record)


def reject(session: Session, merge_id: int, *, now: datetime | None = None) -> m.Merge:
    """Mark a suggestion as wrong, so it is not suggested again."""
    record = session.get(m.Merge, merge_id)
    if record is None or record.status != "suggested":
        raise NotFoundError(f"no suggested merge {merge_id}")
    record.status, record.decided_at = "rejected", now or utcnow()
    session.flush()
    return record


def separate(session: Session, shop_id: int, a: m.Customer, b: m.Customer, *,
             now: datetime | None = None) -> m.Merge:
    """Record that ``a`` and ``b`` are two people: an accepted merge between them is undone, a pending
    suggestion rejected, and no later import or resolution merges them again."""
    if a.shop_id != shop_id or b.shop_id != shop_id:
        raise StoreError("both profiles must belong to the shop")
    if a.id == b.id:
        raise StoreError(f"{a.external_id!r} and {b.external_id!r} are the same profile")
    stamp = now or utcnow()
    pair = or_((m.Merge.survivor_id == a.id) & (m.Merge.merged_id == b.id),
               (m.Merge.survivor_id == b.id) & (m.Merge.merged_id == a.id))
    records = list(session.scalars(select(m.Merge).where(m.Merge.shop_id == shop_id, pair)
                                   .order_by(m.Merge.id.desc())))
    for rec in records:
        if rec.status == "accepted":
            return undo(session, rec.id, now=stamp)
        if rec.status == "suggested":
            rec.status, rec.decided_at = "rejected", stamp
            session.flush()
            return rec
        if rec.status in DISTINCT:
            return rec
    if a.merged_into_id is not None or b.merged_into_id is not None:
        raise StoreError(f"{a.external_id!r} or {b.external_id!r} was merged into a third profile; "
                         "undo that merge first")
    rec = m.Merge(shop_id=shop_id, survivor_id=min(a.id, b.id), merged_id=max(a.id, b.id), status="separated",
                  rule="decision", created_at=stamp, decided_at=stamp)
    session.add(rec)
    session.flush()
    return rec


def list_merges(session: Session, shop_id: int, *, status: str | None = None) -> list[dict[str, Any]]:
    """Merges and decisions of a shop (accepted, suggested, undone, rejected, separated), newest first, with
    both profiles' external ids and names."""
    survivor, merged = m.Customer.__table__.alias("s"), m.Customer.__table__.alias("d")
    query = (select(m.Merge, survivor.c.external_id, survivor.c.name, merged.c.external_id, merged.c.name)
             .join(survivor, survivor.c.id == m.Merge.survivor_id)
             .join(merged, merged.c.id == m.Merge.merged_id)
             .where(m.Merge.shop_id == shop_id).order_by(m.Merge.id.desc()))
    if status:
        query = query.where(m.Merge.status == status)
    return [{"id": rec.id, "status": rec.status, "rule": rec.rule, "score": rec.score,
             "survivor": s_ext, "survivor_name": s_name, "merged": d_ext, "merged_name": d_name,
             "created_at": rec.created_at.isoformat(timespec="seconds"),
             "changes": json.loads(rec.changes) if rec.changes else None}
            for rec, s_ext, s_name, d_ext, d_name in session.execute(query)]
