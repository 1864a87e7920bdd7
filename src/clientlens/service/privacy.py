"""Privacy: export everything held on one customer as JSON, and erase (anonymise) a customer everywhere.

Erasure keeps the customer's orders and snapshot rows (so segment totals and revenue stay correct)
but replaces the external id with a random pseudonym everywhere (customers, snapshot features /
labels / scores), clears every personal field, clears message bodies and comments, scrubs merge
history and any text column of any table (care tables included) holding the personal values, and
rewrites the files the project writes (quarantine ``*.rejected.csv``, uploads, the care outbox) to
drop them. On SQLite ``secure_delete`` is on and the WAL is checkpointed so old pages are gone.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import String, Text, select, text, update
from sqlalchemy.orm import Session

from clientlens.config import Settings
from clientlens.service.auth import audit
from clientlens.store import auth_models as am
from clientlens.store import models as m
from clientlens.store.erasure import (
    add_tombstones,
    literal_pattern,
    normalise_phone,
    phone_pattern,
    registered_files,
)
from clientlens.store.repository import get_customer, utcnow

log = logging.getLogger(__name__)

PERSONAL_FIELDS = ("name", "email", "email_norm", "phone", "phone_e164", "birth_date", "gender", "income_band",
                   "address", "city", "timezone")
# Feature columns that repeat personal data inside snapshot_features.data.
PERSONAL_FEATURES = ("name", "birth_date", "gender", "income_band", "age_years", "city", "email", "phone", "address")
MIN_SCRUB_LENGTH = 5


def file_dirs(settings: Settings, upload_dir: str) -> list[Path]:
    """Where the project writes files holding customer data (quarantine, uploads, outbox)."""
    dirs = [Path(upload_dir)]
    dirs.extend(Path(".").glob("*.rejected.csv"))
    senders = settings.care.get("senders", {}) if isinstance(settings.care, dict) else {}
    outbox = senders.get("outbox_dir") if isinstance(senders, dict) else None
    dirs.append(Path(outbox if isinstance(outbox, str) else "outbox"))
    return dirs


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _row(obj: Any) -> dict[str, Any]:
    return {c.key: _plain(getattr(obj, c.key)) for c in obj.__table__.columns}


def _profiles(session: Session, cust: m.Customer) -> list[m.Customer]:
    """The customer and every profile merged into it (the same person)."""
    out = [cust]
    frontier = [cust.id]
    while frontier:
        rows = list(session.scalars(select(m.Customer).where(m.Customer.merged_into_id.in_(frontier))))
        out.extend(rows)
        frontier = [r.id for r in rows]
    return out


def _customer_fk_tables() -> list[Any]:
    """Every table with a foreign key to customers.id (care tables included), and the column."""
    found = []
    for table in m.Base.metadata.sorted_tables:
        if table.name == "customers":
            continue
        for col in table.columns:
            if any(fk.column.table.name == "customers" for fk in col.foreign_keys):
                found.append((table, col))
    return found


def export_customer(session: Session, shop: m.Shop, customer_id: str) -> dict[str, Any]:
    """Everything held on one customer: profile(s), consents, orders and lines, interactions, feedback,
    merges, snapshot rows, and rows of any other table pointing at the customer."""
    cust = get_customer(session, shop.id, customer_id)
    profiles = _profiles(session, cust)
    ids = [p.id for p in profiles]
    externals = [p.external_id for p in profiles]
    doc: dict[str, Any] = {"shop": shop.name, "customer_id": cust.external_id, "exported_at": utcnow().isoformat(),
                           "profiles": [_row(p) for p in profiles], "tables": {}}
    for table, col in _customer_fk_tables():
        rows = session.execute(select(table).where(col.in_(ids))).mappings().all()
        if rows:
            doc["tables"].setdefault(table.name, []).extend({k: _plain(v) for k, v in r.items()} for r in rows)
    order_ids = [r["id"] for r in doc["tables"].get("orders", [])]
    if order_ids:
        lines = session.execute(select(m.OrderLine).where(m.OrderLine.order_id.in_(order_ids))).scalars()
        doc["tables"]["order_lines"] = [_row(x) for x in lines]
    snaps = {sid: as_of for sid, as_of in session.execute(select(m.Snapshot.id, m.Snapshot.as_of)
                                                          .where(m.Snapshot.shop_id == shop.id))}
    for model in (m.SnapshotFeatures, m.SnapshotLabel, m.SnapshotScore):
        snap_rows: Any = session.scalars(select(model).where(model.snapshot_id.in_(list(snaps)),
                                                        model.customer_id.in_(externals))).all()
        if snap_rows:
            doc["tables"][model.__tablename__] = [{**_row(r), "as_of": _plain(snaps[r.snapshot_id])}
                                                  for r in snap_rows]
    return doc


def _scrub_patterns(profiles: list[m.Customer], *, with_ids: bool) -> list[str]:
    """Regular expressions (Python and PostgreSQL alike, used case-insensitively) of the personal values
    to remove from free text: name, address and e-mail in any letter case, the phone in every usual
    writing (E.164, international, national, any separators); ids only where they cannot be part of
    other ids (files)."""
    patterns: set[str] = set()
    fields = ("name", "email", "email_norm", "phone", "address") + (("external_id",) if with_ids else ())
    for p in profiles:
        for f in fields:
            v = getattr(p, f)
            if isinstance(v, str) and len(v.strip()) >= MIN_SCRUB_LENGTH:
                patterns.add(literal_pattern(v.strip()))
        e164 = p.phone_e164 or normalise_phone(p.phone, p.country or "US")
        phone = phone_pattern(e164) if e164 else None
        if phone:
            patterns.add(phone)
    return sorted(patterns, key=len, reverse=True)


def _combined(patterns: list[str]) -> str:
    return "|".join(f"({p})" for p in patterns)


def _python_regex(patterns: list[str]) -> re.Pattern[str]:
    """The patterns for replacing: a number is not matched inside a longer run of digits."""
    return re.compile(r"(?<!\d)(?:" + _combined(patterns) + r")(?!\d)", re.IGNORECASE)


SKIP_TABLES = ("customers", "store_secrets", "erasure_tombstones", "written_files", "alembic_version")


def _scrub_tables(session: Session, patterns: list[str]) -> dict[str, int]:
    """Replace personal values inside every text column of every table (care tables and audit log too)."""
    counts: dict[str, int] = {}
    if not patterns:
        return counts
    sqlite = session.get_bind().dialect.name == "sqlite"
    sql_pattern = ("(?i)" + _combined(patterns)) if sqlite else _combined(patterns)
    regex = _python_regex(patterns)
    for table in m.Base.metadata.sorted_tables:
        if table.name in SKIP_TABLES:
            continue
        keys = list(table.primary_key.columns)
        for col in table.columns:
            if not isinstance(col.type, String | Text) or col.primary_key or not keys:
                continue
            width = getattr(col.type, "length", None)
            repl = "[erased]" if width is None or width >= 8 else ""
            match = col.regexp_match(sql_pattern) if sqlite else col.regexp_match(sql_pattern, flags="i")
            for row in session.execute(select(*keys, col).where(match)).all():
                old = row[-1]
                new = regex.sub(repl, old) if isinstance(old, str) else old
                if new == old:
                    continue
                session.execute(update(table).where(*(k == v for k, v in zip(keys, row[:-1], strict=True)))
                                .values({col.name: new}))
                counts[f"{table.name}.{col.name}"] = counts.get(f"{table.name}.{col.name}", 0) + 1
    return counts


def _eml_text(raw: bytes) -> str:
    """Headers and decoded text parts of an e-mail file (bodies may be base64 / quoted-printable)."""
    import email
    from email.header import decode_header, make_header

    msg = email.message_from_bytes(raw)
    parts = [f"{k}: {make_header(decode_header(v))}" for k, v in msg.items()]
    for part in msg.walk():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            parts.append(payload.decode(part.get_content_charset() or "utf-8", errors="replace"))
    return "\n".join(parts)


def _scrub_files(paths: list[Path], patterns: list[str]) -> list[str]:
    """Delete messages (outbox ``.eml`` / ``.json``) naming the customer; rewrite other files without the values."""
    changed: list[str] = []
    if not patterns:
        return changed
    regex = _python_regex(patterns)
    for path in paths:
        try:
            raw = path.read_bytes()
        except OSError:
            continue
        if path.suffix == ".eml":
            if regex.search(_eml_text(raw)) or regex.search(raw.decode("utf-8", "replace")):
                path.unlink()
                changed.append(str(path))
            continue
        content = raw.decode("utf-8", errors="surrogateescape")
        if path.suffix == ".json" and (regex.search(content) or regex.search(_json_text(content))):
            path.unlink()
            changed.append(str(path))
            continue
        new = regex.sub("[erased]", content)
        if new != content:
            path.write_bytes(new.encode("utf-8", errors="surrogateescape"))
            changed.append(str(path))
    return changed


def _json_text(content: str) -> str:
    """The strings of a JSON document, unescaped (an e-mail may be written with \\u escapes)."""
    try:
        return json.dumps(json.loads(content), ensure_ascii=False)
    except ValueError:
        return ""


def project_files(dirs: list[Path]) -> list[Path]:
    """Files the project writes: quarantine files, uploads, outbox messages (under ``dirs``)."""
    out: list[Path] = []
    for d in dirs:
        if d.is_file():
            out.append(d)
        elif d.is_dir():
            out.extend(p for p in d.rglob("*") if p.is_file() and (p.suffix in (".csv", ".eml", ".json", ".txt",
                                                                                    ".msg", ".jsonl", ".xlsx", ".parquet")
                                                                     or p.name.endswith(".rejected.csv")))
    return sorted(set(out))


def erase_customer(session: Session, shop: m.Shop, customer_id: str, *, actor: str,
                   file_dirs: list[Path]) -> dict[str, Any]:
    """Anonymise a customer everywhere; returns what was changed (no personal data in it)."""
    cust = get_customer(session, shop.id, customer_id)
    profiles = _profiles(session, cust)
    values = _scrub_patterns(profiles, with_ids=False)
    file_values = _scrub_patterns(profiles, with_ids=True)
    ids = [p.id for p in profiles]
    add_tombstones(session.connection(), shop.id, emails=[p.email_norm or p.email for p in profiles],
                   phones=[p.phone_e164 or normalise_phone(p.phone, p.country or "US") for p in profiles],
                   external_ids=[p.external_id for p in profiles], now=utcnow())
    counts: dict[str, int] = {}
    pseudonyms: dict[str, str] = {}
    for p in profiles:
        pseudo = f"erased-{secrets.token_hex(8)}"  # random: nothing links it back to the id
        pseudonyms[p.external_id] = pseudo
        for model in (m.SnapshotFeatures, m.SnapshotLabel, m.SnapshotScore):
            res = session.execute(update(model).where(model.customer_id == p.external_id,
                                                      model.snapshot_id.in_(select(m.Snapshot.id).where(
                                                          m.Snapshot.shop_id == shop.id)))
                                  .values(customer_id=pseudo))
            counts[model.__tablename__] = counts.get(model.__tablename__, 0) + (res.rowcount or 0)  # type: ignore[attr-defined]
        for field in PERSONAL_FIELDS:
            setattr(p, field, None)
        p.external_id = pseudo
        p.row_hash = None
        p.updated_at = utcnow()
    session.flush()
    for feat in session.scalars(select(m.SnapshotFeatures).where(m.SnapshotFeatures.customer_id.in_(
            list(pseudonyms.values())))):
        try:
            data = json.loads(feat.data)
        except ValueError:
            data = {}
        if isinstance(data, dict):
            for key in PERSONAL_FEATURES:
                if key in data:
                    data[key] = None
            if "customer_id" in data:
                data["customer_id"] = feat.customer_id
            feat.data = json.dumps(data)
    res = session.execute(update(m.Interaction).where(m.Interaction.customer_id.in_(ids))
                          .values(subject=None, body=None, row_hash=None))
    counts["interactions"] = res.rowcount or 0  # type: ignore[attr-defined]
    res = session.execute(update(m.Feedback).where(m.Feedback.customer_id.in_(ids)).values(comment=None, row_hash=None))
    counts["feedback"] = res.rowcount or 0  # type: ignore[attr-defined]
    res = session.execute(update(m.Merge).where(m.Merge.survivor_id.in_(ids) | m.Merge.merged_id.in_(ids))
                          .values(changes=json.dumps({"erased": True})))
    counts["merges"] = res.rowcount or 0  # type: ignore[attr-defined]
    for table, col in _customer_fk_tables():
        if table.name in ("orders", "interactions", "feedback", "merges", "consent_events"):
            continue
        personal = [c for c in table.columns if isinstance(c.type, String | Text) and not c.primary_key
                    and not c.foreign_keys and c.name not in ("status", "channel", "kind", "direction", "currency")]
        if personal:
            res = session.execute(update(table).where(col.in_(ids)).values({c.name: None for c in personal
                                                                           if c.nullable}))
            counts[table.name] = res.rowcount or 0  # type: ignore[attr-defined]
    for old, pseudo in pseudonyms.items():
        res = session.execute(update(am.AuditEvent).where(am.AuditEvent.target == old, am.AuditEvent.shop == shop.name)
                              .values(target=pseudo))
        counts["audit_log.target"] = counts.get("audit_log.target", 0) + (res.rowcount or 0)  # type: ignore[attr-defined]
    counts.update(_scrub_tables(session, values))
    known = registered_files(session.connection())  # quarantine files, wherever they were written
    files = _scrub_files(sorted(set(project_files(file_dirs)) | set(known)), file_values)
    audit(session, actor, "customer_erased", target=next(iter(pseudonyms.values())), shop=shop.name,
          detail={"profiles": len(profiles), "files": len(files)})
    session.flush()
    return {"customer_id": cust.external_id, "tables": counts, "files": files}


def checkpoint(session: Session) -> None:
    """On SQLite, push the WAL into the database so erased pages (zeroed by secure_delete) leave no copy."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
