"""Vectorised parsers (Polars expressions): money to exact integer minor units, dates, booleans, codes.

No value is ever turned into a binary float on its way to the store: amounts are split into their
integer and fractional digits as strings and scaled to the currency's minor unit (babel's precision).
"""

from __future__ import annotations

from functools import lru_cache

import polars as pl

from clientlens import money

DATE_FORMATS = (
    "%Y-%m-%d", "%Y%m%d", "%Y/%m/%d", "%m/%d/%Y", "%d.%m.%Y", "%d/%m/%Y",
)
DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M",
    "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S",
)
TZ_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S %z",
              "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z")
# ISO 8601's UTC designator: ``2024-03-31T10:00:00Z`` reads as ``...+00:00``.
_UTC_SUFFIX = r"(\d)[Zz]$"
# Unambiguous formats that may be mixed inside one column.
ISO_FAMILY = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M",
              "%Y-%m-%dT%H:%M", *TZ_FORMATS)

TRUE_WORDS = ("1", "true", "t", "yes", "y", "x", "on", "subscribed", "granted", "accepted", "opt-in",
              "optin", "ano", "tak", "oui", "có")
FALSE_WORDS = ("0", "false", "f", "no", "n", "off", "unsubscribed", "withdrawn", "declined", "opt-out",
               "optout", "ne", "nie", "non", "không", "not_subscribed", "pending")

CHANNELS = {"online": "online", "web": "online", "webshop": "online", "eshop": "online",
            "ecommerce": "online", "app": "online", "mobile": "online", "instore": "in_store",
            "store": "in_store", "shop": "in_store", "pos": "in_store", "retail": "in_store",
            "phone": "phone", "telephone": "phone", "call": "phone", "marketplace": "marketplace",
            "amazon": "marketplace", "ebay": "marketplace", "other": "other"}
STATUSES = {"completed": "completed", "complete": "completed", "paid": "completed",
            "fulfilled": "completed", "closed": "completed", "delivered": "completed",
            "shipped": "completed", "processing": "completed", "returned": "returned",
            "return": "returned", "refunded": "returned", "partiallyrefunded": "returned",
            "cancelled": "cancelled", "canceled": "cancelled", "voided": "cancelled",
            "failed": "cancelled", "pending": "pending", "pendingpayment": "pending", "authorized": "pending",
            "onhold": "pending", "unpaid": "pending", "awaitingpayment": "pending"}
DIRECTIONS = {"inbound": "inbound", "in": "inbound", "incoming": "inbound", "received": "inbound",
              "outbound": "outbound", "out": "outbound", "outgoing": "outbound", "sent": "outbound"}


@lru_cache(maxsize=1)
def currency_exponents() -> pl.DataFrame:
    """ISO 4217 codes with their minor-unit exponent (``clientlens.money``), as a frame to join on."""
    codes = sorted(money.known_currencies())
    return pl.DataFrame({"_cur": codes, "_exp": [money.exponent(c) for c in codes]},
                        schema={"_cur": pl.String, "_exp": pl.Int64})


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    """ISO 3166 alpha-2 codes known to babel."""
    from babel import Locale

    return frozenset(str(k) for k in Locale("en").territories if len(str(k)) == 2 and str(k).isalpha())



def _key(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars().str.to_lowercase().str.replace_all(r"[\s_\-]+", "")


def detect_decimal(values: pl.Series) -> str:
    """``","`` when the column's amounts are written with a decimal comma, else ``"."``."""
    sample = values.drop_nulls().head(5000)
    comma = sample.str.contains(r"^\s*[+-]?\d+,\d{1,4}\s*$").sum()
    dot = sample.str.contains(r"\d\.\d").sum()
    return "," if comma > 0 and dot == 0 else "."


def _clean_amounts(col: str, decimal: str, values: pl.Series | None) -> pl.Expr:
    """Amount text normalised to ``[-]digits[.digits]`` (null when the layout is not an amount).

    Thousands separators and currency signs are only handled (with a regex) when the column has any.
    """
    s = pl.col(col).str.strip_chars()
    plain = values is not None and decimal == "." and not bool(
        values.str.contains(r"[,\s'$€£¥]").fill_null(False).any())
    if plain:
        return s
    s = s.str.replace_all(r"[\s\u00a0'$€£¥]", "")
    if decimal == ",":
        ok = s.str.contains(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d*)?$|^[+-]?,\d+$")
        s = s.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
    else:
        ok = s.str.contains(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d*)?$|^[+-]?\.\d+$")
        s = s.str.replace_all(",", "", literal=True)
    return pl.when(ok).then(s).otherwise(None)


def _decimal(col: str, decimal: str, values: pl.Series | None) -> pl.Expr:
    return _clean_amounts(col, decimal, values).cast(pl.Decimal(38, 10), strict=False)


def minor_units(col: str, decimal: str, exp: pl.Expr, values: pl.Series | None = None,
                ) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(minor units Int64, valid, too big) for text amounts: exact decimal arithmetic (never a
    binary float), scaled by the currency exponent, rounded half away from zero."""
    dec = _decimal(col, decimal, values)
    scaled = dec * pl.lit(10, dtype=pl.Int64).pow(exp.cast(pl.Int64))
    half = pl.when(dec < 0).then(pl.lit(-0.5)).otherwise(pl.lit(0.5)).cast(pl.Decimal(38, 10))
    big = dec.abs() > pl.lit(10**15).cast(pl.Decimal(38, 10))
    minor = pl.when(big).then(None).otherwise((scaled + half).cast(pl.Int64, strict=False))
    return minor, dec.is_not_null(), big.fill_null(False)


def number(col: str, decimal: str, values: pl.Series | None = None) -> tuple[pl.Expr, pl.Expr]:
    """(Float64 value, valid) for quantities and rates (not money)."""
    dec = _decimal(col, decimal, values)
    return dec.cast(pl.Float64), dec.is_not_null()


def choose_format(values: pl.Series, formats: tuple[str, ...]) -> str:
    """The format that parses most of a sample of ``values``."""
    sample = values.drop_nulls().str.strip_chars().head(2000).str.replace(_UTC_SUFFIX, "${1}+00:00")
    best, best_n = formats[0], -1
    for fmt in formats:
        n = _parse_one(sample.to_frame("v"), "v", fmt).select(pl.col("v").count()).item()
        if n > best_n:
            best, best_n = fmt, n
    return best


def iso_offsets(text: pl.Expr) -> pl.Expr:
    """Text times with a trailing ``Z`` (UTC) rewritten to the ``+00:00`` offset the parsers read."""
    return text.str.replace(_UTC_SUFFIX, "${1}+00:00")


def _to_dt(expr: pl.Expr, fmt: str) -> pl.Expr:
    if "%z" in fmt:
        return expr.str.to_datetime(fmt, strict=False, time_zone="UTC", time_unit="us") \
            .dt.replace_time_zone(None)
    return expr.str.to_datetime(fmt, strict=False, time_unit="us")


def _parse_one(frame: pl.DataFrame, col: str, fmt: str) -> pl.DataFrame:
    return frame.select(_to_dt(pl.col(col).str.strip_chars(), fmt).alias(col))


def date_formats(values: pl.Series, date_format: str | None) -> tuple[str, ...]:
    """The formats a date column is read with: the given one, else the one that parses most of a
    sample (with the other unambiguous ISO forms when it is one of them, since those mix)."""
    if date_format:
        return (date_format,)
    best = choose_format(values, DATE_FORMATS + DATETIME_FORMATS + TZ_FORMATS)
    return (best, *[f for f in ISO_FAMILY if f != best]) if best in ISO_FAMILY else (best,)


def datetime_expr(col: str, values: pl.Series | None, date_format: str | None, timezone: str | None,
                  formats: tuple[str, ...] | None = None) -> pl.Expr:
    """Parsed naive-UTC datetimes (null where unparseable) for the text column ``col``.

    Values without an offset are local times in ``timezone`` (the file's ``[parse] timezone``, else the
    shop's time zone), so a date-only order falls on the same day in the shop's calendar. ISO 8601
    offsets (``+02:00``, ``+0200``) and ``Z`` are read. ``formats`` (from :func:`date_formats`) fixes
    the formats, so every batch of a file is read the same way.
    """
    if formats is None:
        assert values is not None
        formats = date_formats(values, date_format)
    src = iso_offsets(pl.col(col).str.strip_chars())

    def local(fmt: str) -> pl.Expr:
        parsed = _to_dt(src, fmt)
        if timezone and "%z" not in fmt:  # a value with its own offset keeps it
            parsed = parsed.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null") \
                .dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return parsed

    return pl.coalesce([local(f) for f in formats])


def bool_expr(col: str) -> tuple[pl.Expr, pl.Expr]:
    """(Boolean value, valid) from yes/no words in several languages."""
    k = pl.col(col).str.strip_chars().str.to_lowercase()
    value = pl.when(k.is_in(TRUE_WORDS)).then(True).when(k.is_in(FALSE_WORDS)).then(False).otherwise(None)
    return value, value.is_not_null() | pl.col(col).is_null()


def mapped_expr(col: str, table: dict[str, str]) -> pl.Expr:
    """Normalised lookup (lower case, no spaces/_/-); null where unknown."""
    return _key(pl.col(col)).replace_strict(table, default=None, return_dtype=pl.String)


def channel_expr(col: str) -> pl.Expr:
    """online | in_store | phone | marketplace | other (unknown words become ``other``)."""
    return pl.when(pl.col(col).is_null()).then(None) \
        .otherwise(mapped_expr(col, CHANNELS).fill_null("other"))
