"""Erasure that sticks: tombstones of erased customers, what they match, and the files to scrub.

An erased customer leaves, per shop, salted SHA-256 digests of her normalised e-mail (trimmed,
lower case), phone (E.164) and external id; the salt is random per store (``store_secrets``), so
the digests cannot be matched against another store or a list of known addresses. A later import
(or upload through the API) that matches one is refused or kept anonymous (``[privacy]
on_erased_match``), and counted in the import report. Free text arriving later (message subjects
and bodies, feedback comments) has tombstoned e-mails and phones replaced by ``[erased]``.

The registry of written files (``written_files``) lists the quarantine files wherever they were
written, so erasure scrubs them too.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, select

from clientlens.store.models import Base
from clientlens.store.privacy_models import ErasureTombstone, StoreSecret, WrittenFile  # noqa: F401  (registers the tables)

SALT_NAME = "erasure_salt"
KINDS = ("email", "phone", "phone_national", "external_id")
ERASED = "[erased]"
# Personal columns of an imported customer row that a kept-anonymous match loses.
PERSONAL_COLUMNS = ("name", "email", "phone", "birth_date", "gender", "income_band", "address", "city",
                    "timezone")
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-']+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_CHUNK = 500
TOMBSTONES = Base.metadata.tables["erasure_tombstones"]
SECRETS = Base.metadata.tables["store_secrets"]
FILES = Base.metadata.tables["written_files"]


class PrivacySettings(BaseModel):
    """``[privacy]`` of the settings (documented in defaults.toml)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    on_erased_match: Literal["refuse", "anonymous"] = "refuse"


def privacy_settings(section: dict[str, Any] | None) -> PrivacySettings:
    return PrivacySettings.model_validate(section or {})


def normalise_email(value: str | None) -> str | None:
    v = (value or "").strip().lower()
    return v or None


def normalise_phone(value: str | None, region: str = "US") -> str | None:
    """E.164 (``+48123456789``) of a phone number, or None when it is not a possible number."""
    import phonenumbers

    if not value or not value.strip():
        return None
    try:
        num = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(num):
        return None
    return str(phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164))


def store_salt(conn: Connection) -> str:
    """This store's tombstone salt (migration 0009 creates it; created here if missing)."""
    salt = conn.execute(select(SECRETS.c.value).where(SECRETS.c.name == SALT_NAME)).scalar()
    if salt is None:
        salt = secrets.token_hex(32)
        conn.execute(SECRETS.insert().values(name=SALT_NAME, value=salt))
    return str(salt)


def digest(salt: str, kind: str, value: str) -> str:
    return hmac.new(salt.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def add_tombstones(conn: Connection, shop_id: int, *, emails: Iterable[str | None] = (),
                   phones: Iterable[str | None] = (), external_ids: Iterable[str | None] = (),
                   now: datetime) -> int:
    """Record tombstones (normalised e-mails, E.164 phones, external ids); returns how many are new."""
    salt = store_salt(conn)
    phones = [p for p in phones if p]
    wanted = {(k, digest(salt, k, v)) for k, values in (
        ("email", [normalise_email(e) for e in emails]), ("phone", phones),
        ("phone_national", [national_number(p) for p in phones if p]), ("external_id", list(external_ids)))
        for v in values if v}
    have = set(conn.execute(select(TOMBSTONES.c.kind, TOMBSTONES.c.digest).where(
        TOMBSTONES.c.shop_id == shop_id, TOMBSTONES.c.digest.in_([d for _, d in wanted]))).all()) if wanted else set()
    new = [{"shop_id": shop_id, "kind": k, "digest": d, "created_at": now} for k, d in sorted(wanted - have)]
    if new:
        conn.execute(TOMBSTONES.insert(), new)
    return len(new)


def has_tombstones(conn: Connection, shop_id: int) -> bool:
    return conn.execute(select(TOMBSTONES.c.id).where(TOMBSTONES.c.shop_id == shop_id).limit(1)).first() is not None


def erased_values(conn: Connection, shop_id: int, kind: str, values: Sequence[str | None]) -> set[str]:
    """Those of ``values`` (already normalised) whose digest is a tombstone of ``kind`` in the shop."""
    uniq = sorted({v for v in values if v})
    if not uniq:
        return set()
    salt = store_salt(conn)
    by_digest = {digest(salt, kind, v): v for v in uniq}
    found: set[str] = set()
    keys = list(by_digest)
    for start in range(0, len(keys), _CHUNK):
        rows = conn.execute(select(TOMBSTONES.c.digest).where(
            TOMBSTONES.c.shop_id == shop_id, TOMBSTONES.c.kind == kind,
            TOMBSTONES.c.digest.in_(keys[start:start + _CHUNK])))
        found.update(by_digest[d] for (d,) in rows)
    return found


def is_erased(conn: Connection, shop_id: int, *, email: str | None = None, phone: str | None = None,
              external_id: str | None = None, region: str = "US") -> bool:
    """Whether any of the given identifiers belongs to an erased customer of the shop."""
    return bool(erased_values(conn, shop_id, "email", [normalise_email(email)])
                or erased_values(conn, shop_id, "phone", [normalise_phone(phone, region)])
                or erased_values(conn, shop_id, "external_id", [external_id]))


def pseudonym(conn: Connection, external_id: str, salt: str | None = None) -> str:
    """The stable anonymous id later rows of an erased external id are kept under (``[privacy]
    on_erased_match = "anonymous"``): the same for every later import, and not the id itself (the
    erased profile keeps its own random pseudonym)."""
    return "erased-" + digest(salt or store_salt(conn), "pseudonym", external_id)[:16]


PHONE_RE = re.compile(r"(?<![\d+])(\+|00)?\d[\d\-. ()/]{5,}\d(?!\d)")


def national_number(e164: str) -> str | None:
    """The national significant number of an E.164 phone (``+48600700800`` -> ``600700800``)."""
    import phonenumbers

    try:
        return str(phonenumbers.national_significant_number(phonenumbers.parse(e164, None)))
    except phonenumbers.NumberParseException:
        return None


def _national_candidates(raw: str) -> set[str]:
    """What a number written in text may be without its country code or trunk prefix."""
    import phonenumbers

    digits = re.sub(r"\D", "", raw)
    out = {digits, digits.lstrip("0")}
    if raw.startswith(("+", "00")):
        try:
            out.add(str(phonenumbers.national_significant_number(phonenumbers.parse("+" + digits.removeprefix("00")
                                                                                       if raw.startswith("00")
                                                                                       else "+" + digits, None))))
        except phonenumbers.NumberParseException:
            pass
    return {d for d in out if len(d) >= 6}


@dataclass
class TextScrubber:
    """Replaces tombstoned e-mails and phone numbers (in any writing: the national number with any
    separators, with or without country code) found in free text by ``[erased]``."""

    conn: Connection
    shop_id: int
    region: str = "US"

    def __call__(self, texts: Sequence[str | None]) -> list[str | None]:
        emails: dict[str, str] = {}
        phones: dict[str, set[str]] = {}
        for text in texts:
            if not text:
                continue
            for match in EMAIL_RE.finditer(text):
                emails[match.group(0)] = normalise_email(match.group(0)) or ""
            for match in PHONE_RE.finditer(text):
                phones[match.group(0)] = _national_candidates(match.group(0))
        bad_emails = erased_values(self.conn, self.shop_id, "email", list(emails.values()))
        bad_phones = erased_values(self.conn, self.shop_id, "phone_national",
                                   sorted({c for cands in phones.values() for c in cands}))
        if not bad_emails and not bad_phones:
            return list(texts)
        hits = [raw for raw, norm in emails.items() if norm in bad_emails]
        hits += [raw for raw, cands in phones.items() if cands & bad_phones]
        hits.sort(key=len, reverse=True)
        out: list[str | None] = []
        for text in texts:
            if text:
                for raw in hits:
                    text = text.replace(raw, ERASED)
            out.append(text)
        return out


def register_file(conn: Connection, kind: str, path: str | Path, now: datetime) -> None:
    """Remember a file the project wrote with customer data (by absolute path, once)."""
    where = str(Path(path).resolve())
    if conn.execute(select(FILES.c.id).where(FILES.c.path == where, FILES.c.kind == kind)).first() is None:
        conn.execute(FILES.insert().values(kind=kind, path=where, created_at=now))


def registered_files(conn: Connection, kind: str | None = None) -> list[Path]:
    """The registered files that still exist."""
    query = select(FILES.c.path)
    if kind:
        query = query.where(FILES.c.kind == kind)
    return [p for p in (Path(r) for (r,) in conn.execute(query)) if p.is_file()]


def phone_pattern(e164: str) -> str | None:
    """A regular expression (Python and PostgreSQL alike) matching the number in any usual writing:
    E.164, international or national format, with spaces, dots, dashes, slashes or brackets."""
    import phonenumbers

    try:
        num = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    national = phonenumbers.national_significant_number(num)
    if len(national) < 5:
        return None
    sep = r"[-. ()/]*"
    digits = sep.join(national)
    code = str(num.country_code)
    return rf"((\+|00){code}{sep}(\(0\))?{sep}|0{sep})?{digits}"


def literal_pattern(value: str) -> str:
    """A regular expression matching ``value`` literally (used case-insensitively)."""
    return "".join(c if c.isalnum() or c in " @_" else "\\" + c for c in value)


# Free-text columns of imported rows scrubbed of tombstoned e-mails and phones.
TEXT_COLUMNS = {"interactions": ("subject", "body"), "feedback": ("comment",)}
# Columns an imported row of an erased customer loses when kept anonymous.
ANONYMOUS_LOSES = {"customers": (*PERSONAL_COLUMNS, "consent_email", "consent_sms", "consent_phone", "consent_post",
                                 "consent_chat", "consent_social"),
                   "interactions": ("subject", "body"), "feedback": ("comment",)}


@dataclass
class ErasureGuard:
    """What the importer applies to every batch before loading it (a store-level hook, one call per
    batch): rows of erased customers are dropped (``refuse``) or kept anonymous under a stable
    pseudonym without their personal fields (``anonymous``); tombstoned e-mails and phones in free
    text become ``[erased]``. Calling it returns ``(batch, rows of erased customers)``."""

    conn: Connection
    shop_id: int
    entity: str
    mode: str = "refuse"
    region: str = "US"

    def __post_init__(self) -> None:
        self.active = has_tombstones(self.conn, self.shop_id)

    def __call__(self, batch: Any) -> tuple[Any, int]:
        import polars as pl

        if not self.active or batch.height == 0:
            return batch, 0
        hit = self._matches(batch)
        n = int(hit.sum()) if hit is not None else 0
        if n:
            if self.mode == "refuse":
                batch = batch.filter(~hit)
            else:
                batch = self._anonymise(batch, hit)
        for col in TEXT_COLUMNS.get(self.entity, ()):
            if col in batch.columns:
                scrub = TextScrubber(self.conn, self.shop_id, self.region)
                batch = batch.with_columns(pl.Series(col, scrub(batch.get_column(col).to_list()), dtype=pl.String))
        return batch, n

    def _matches(self, batch: Any) -> Any:
        import polars as pl

        id_col = "_key" if self.entity == "customers" else "customer_id"
        if id_col not in batch.columns:
            return None
        ids = [str(v) if v is not None else None for v in batch.get_column(id_col).to_list()]
        bad_ids = erased_values(self.conn, self.shop_id, "external_id", ids)
        hit = pl.Series([v in bad_ids for v in ids])
        if self.entity == "customers":
            if "email" in batch.columns:
                emails = [normalise_email(e) for e in batch.get_column("email").to_list()]
                bad = erased_values(self.conn, self.shop_id, "email", emails)
                hit = hit | pl.Series([e in bad for e in emails])
            if "phone" in batch.columns:
                countries = (batch.get_column("country").to_list() if "country" in batch.columns
                             else [None] * batch.height)
                phones = [normalise_phone(p, c or self.region) for p, c in
                          zip(batch.get_column("phone").to_list(), countries, strict=True)]
                bad = erased_values(self.conn, self.shop_id, "phone", phones)
                hit = hit | pl.Series([p in bad for p in phones])
        return hit

    def _anonymise(self, batch: Any, hit: Any) -> Any:
        import polars as pl

        id_cols = [c for c in ("_key", "customer_id") if c in batch.columns and
                   (self.entity == "customers" or c == "customer_id")]
        out = batch.with_columns(_hit=hit)
        salt = store_salt(self.conn)
        for col in id_cols:
            pseudo = [pseudonym(self.conn, str(v), salt) if h and v is not None else v
                      for v, h in zip(out.get_column(col).to_list(), hit.to_list(), strict=True)]
            out = out.with_columns(pl.Series(col, pseudo, dtype=out.schema[col]))
        loses = [c for c in ANONYMOUS_LOSES.get(self.entity, ()) if c in out.columns]
        out = out.with_columns(pl.when(pl.col("_hit")).then(None).otherwise(pl.col(c)).alias(c) for c in loses)
        return out.drop("_hit")

    def rejections(self, frame: Any) -> tuple[Any, int]:
        """The batch's rejected rows without those of erased customers (a rejected row is written to the
        quarantine file with its original fields): a row naming a tombstoned e-mail or phone in any
        field, or a tombstoned id as its customer id, is left out. Returns (frame, rows left out)."""
        import polars as pl

        if not self.active or frame.height == 0:
            return frame, 0
        fields = [c for c in frame.columns if c.startswith("field:") or c == "value"]
        texts = [" | ".join(str(v) for v in row if v is not None) for row in frame.select(fields).iter_rows()]
        scrubbed = TextScrubber(self.conn, self.shop_id, self.region)(texts)
        hit = [a != b for a, b in zip(texts, scrubbed, strict=True)]
        for col in ("field:customer_id", "field:customer"):
            if col in frame.columns:
                ids = [str(v).strip() if v is not None else None for v in frame.get_column(col).to_list()]
                bad = erased_values(self.conn, self.shop_id, "external_id", ids)
                hit = [h or (i in bad) for h, i in zip(hit, ids, strict=True)]
        mask = pl.Series(hit)
        rows = int(frame.filter(mask).get_column("row").n_unique()) if "row" in frame.columns else int(mask.sum())
        return frame.filter(~mask), rows
