"""What every vendor layout shares: header lookup by alias, text clean-up, derived columns, profiles."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import polars as pl

from clientlens.ingest.columns import norm

#: Customer profile fields an orders export may carry, and their types for :meth:`VendorLayout.profiles`.
PROFILE_FIELDS = ("name", "email", "phone", "country", "city", "address", "consent_email", "consent_sms")
TRUE = ("yes", "true", "1", "y", "subscribed", "confirmed_opt_in", "single_opt_in")


@dataclass
class VendorState:
    """What a vendor layout remembers across the batches of one file (the orders seen so far)."""

    seen_orders: set[str] = field(default_factory=set)


class Headers:
    """The file's headers by their normalised form (case, spaces, ``_`` and ``-`` ignored)."""

    def __init__(self, headers: list[str]) -> None:
        self.by_norm: dict[str, str] = {}
        for h in headers:
            self.by_norm.setdefault(norm(h), h)

    def find(self, *aliases: str) -> str | None:
        """The first of ``aliases`` (normalised) that the file has."""
        for a in aliases:
            if norm(a) in self.by_norm:
                return self.by_norm[norm(a)]
        return None

    def has(self, *aliases: str) -> bool:
        return self.find(*aliases) is not None

    def text(self, *aliases: str) -> pl.Expr:
        """The first present column as trimmed text, empty strings as null (null when none is present)."""
        h = self.find(*aliases)
        if h is None:
            return pl.lit(None, dtype=pl.String)
        s = pl.col(h).cast(pl.String).str.strip_chars()
        return pl.when(s != "").then(s).otherwise(None)

    def first(self, *alias_groups: tuple[str, ...]) -> pl.Expr:
        """The first non-null value over several columns (each given by its aliases)."""
        return pl.coalesce([self.text(*g) for g in alias_groups] + [pl.lit(None, dtype=pl.String)])


def unquote(expr: pl.Expr) -> pl.Expr:
    """Spreadsheet-safe values without the leading apostrophe exports add (``'1234`` -> ``1234``)."""
    s = expr.str.strip_chars_start("'").str.strip_chars()
    return pl.when(s != "").then(s).otherwise(None)


def full_name(first: pl.Expr, last: pl.Expr) -> pl.Expr:
    s = pl.concat_str([first.fill_null(""), last.fill_null("")], separator=" ").str.strip_chars()
    return pl.when(s != "").then(s).otherwise(None)


def money_minus(total: pl.Expr, minus: pl.Expr) -> pl.Expr:
    """``total - minus`` as exact decimal text (never below 0); the original text where ``total``
    is not a plain amount, so validation reports it as it was written."""
    dec = pl.Decimal(38, 10)
    t = total.str.replace_all(r"[\s'$€£¥]", "").cast(dec, strict=False)
    m = minus.str.replace_all(r"[\s'$€£¥]", "").cast(dec, strict=False).fill_null(pl.lit(0).cast(dec))
    net = pl.when(t - m < 0).then(pl.lit(0).cast(dec)).otherwise(t - m)
    return pl.when(t.is_not_null()).then(net.cast(pl.String)).otherwise(total)


def consent(expr: pl.Expr) -> pl.Expr:
    """An export's marketing consent: yes (and Shopify's subscribed states) is a consent given
    (``"true"``); no is none given, which is not a withdrawal: null, so a consent recorded otherwise
    stays and a merge of two profiles never treats it as one (store.identity keeps withdrawals)."""
    k = expr.str.to_lowercase()
    return pl.when(k.is_in(TRUE)).then(pl.lit("true")).otherwise(None)


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    from babel import Locale

    out: dict[str, str] = {}
    for lang in ("en", "fr", "de", "es", "cs", "pl", "it", "nl", "pt"):
        for code, name in Locale(lang).territories.items():
            if len(str(code)) == 2 and str(code).isalpha():
                out.setdefault(str(name).lower(), str(code).upper())
    out.update({"usa": "US", "united states of america": "US", "uk": "GB", "great britain": "GB",
                "england": "GB", "scotland": "GB", "wales": "GB", "czech republic": "CZ", "russia": "RU",
                "south korea": "KR", "vietnam": "VN"})
    return out


def country_code(expr: pl.Expr) -> pl.Expr:
    """A country as its ISO 3166 alpha-2 code: codes kept, ``United States (US)`` and English (and a
    few other languages') names mapped; other text kept as written (validation reports it)."""
    s = expr.str.strip_chars()
    inner = s.str.extract(r"\(([A-Za-z]{2})\)\s*$", 1)
    named = s.str.to_lowercase().replace_strict(_country_names(), default=None, return_dtype=pl.String)
    code = pl.when(s.str.contains(r"^[A-Za-z]{2}$")).then(s.str.to_uppercase())
    return pl.coalesce([code, inner.str.to_uppercase(), named, s])


def first_of_order(frame: pl.DataFrame, order: pl.Expr, state: VendorState) -> pl.DataFrame:
    """The first row of each order (exports repeat an order on one row per line item), across batches."""
    key = frame.select(order.alias("_o")).get_column("_o")
    keep = frame.with_columns(key.alias("_o")).with_columns(
        ((pl.int_range(pl.len()).over("_o") == 0) | pl.col("_o").is_null()).alias("_first"))
    if state.seen_orders:
        keep = keep.with_columns(pl.col("_first") & ~pl.col("_o").is_in(sorted(state.seen_orders)))
    out = keep.filter(pl.col("_first"))
    state.seen_orders.update(out.get_column("_o").drop_nulls().to_list())
    return out.drop("_o", "_first")


Derive = Callable[[pl.DataFrame, Headers, VendorState], dict[str, pl.Expr]]


@dataclass(frozen=True)
class VendorLayout:
    """One export layout of one shop system for one entity.

    ``matches`` recognises it by its headers; ``derive`` gives the canonical (and, for orders, the
    profile) values as text expressions over the export's columns; ``one_row_per_order`` says that
    rows repeating an order (its line items) are dropped, keeping each order's first row.
    """

    name: str
    entity: str
    matches: Callable[[list[str]], bool]
    derive: Derive
    order_key: tuple[str, ...] = ()
    one_row_per_order: bool = False

    @staticmethod
    def column(canonical: str, expr: pl.Expr | None = None) -> str:
        """The name of a derived column: the canonical name and the export's columns it is read from
        (``total <- Total, Refunded Amount``), so a rejection says where the value came from."""
        roots = list(dict.fromkeys(expr.meta.root_names())) if expr is not None else []
        return f"{canonical} <- {', '.join(roots) or 'export'}"

    @staticmethod
    def find(columns: list[str], canonical: str) -> str | None:
        """The derived column of ``canonical`` among ``columns`` (None when the layout has none)."""
        prefix = f"{canonical} <- "
        return next((c for c in columns if c.startswith(prefix)), None)

    def transform(self, frame: pl.DataFrame, state: VendorState) -> tuple[pl.DataFrame, dict[str, str]]:
        """(the batch with derived columns added and repeated order rows dropped, {canonical: column})."""
        h = Headers(frame.columns)
        if self.one_row_per_order and self.order_key:
            frame = first_of_order(frame, h.text(*self.order_key), state)
        exprs = self.derive(frame, h, state)
        named = {k: self.column(k, e) for k, e in exprs.items()}
        out = frame.with_columns(**{named[k]: e.cast(pl.String) for k, e in exprs.items()})
        return out, named

    def profiles(self, base: pl.DataFrame, customer_ids: pl.DataFrame) -> pl.DataFrame:
        """Typed profile fields of the orders' customers: ``customer_id`` + :data:`PROFILE_FIELDS`
        present in the transformed batch ``base``, for the rows kept (``customer_ids``: ``_row``,
        ``customer_id``); one row per customer (the latest order's values first)."""
        found = {f: self.find(base.columns, f"profile_{f}") for f in PROFILE_FIELDS}
        cols = {f: c for f, c in found.items() if c is not None}
        if not cols or customer_ids.height == 0:
            return pl.DataFrame()
        own = self.find(base.columns, "customer_id")
        part = customer_ids.join(base.select("_row", *cols.values(), *([own] if own else [])), on="_row", how="left")
        if own is not None:  # a row kept under another id (an erased customer's pseudonym) fills nothing
            part = part.filter(pl.col(own) == pl.col("customer_id")).drop(own)
        typed = part.select(
            "customer_id",
            *[(pl.col(c) == "true").alias(f) if f.startswith("consent_") and c else pl.col(c).alias(f)
              for f, c in cols.items()])
        for f, c in cols.items():
            if f.startswith("consent_"):
                typed = typed.with_columns(pl.when(part.get_column(c).is_null()).then(None).otherwise(pl.col(f)).alias(f))
        agg = typed.reverse().group_by("customer_id", maintain_order=True).agg(
            [pl.col(f).drop_nulls().first().alias(f) for f in cols])
        return agg.with_columns(pl.col("country").str.to_uppercase()) if "country" in cols else agg
