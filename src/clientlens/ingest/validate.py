"""Vectorised validation: a :class:`RawTable` of text -> typed canonical columns + rejections.

All checks are Polars expressions over whole columns (never one Python object per row). A row with
any failing check is rejected; every rejection names the row, physical line, column, value and rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from clientlens.config import Settings
from clientlens.ingest import parsing as P
from clientlens.ingest.columns import Col, match_columns, spec
from clientlens.ingest.options import Mapping, ParseOptions
from clientlens.ingest.quarantine import FIELD_PREFIX, concat_rejections
from clientlens.ingest.sources import RawTable

MONEY_ENTITIES = ("orders", "order-lines", "products")
DTYPES: dict[str, pl.DataType] = {
    "id": pl.String(), "str": pl.String(), "text": pl.String(), "date": pl.Date(),
    "datetime": pl.Datetime("us"), "money": pl.Int64(), "number": pl.Float64(), "rate": pl.String(),
    "int": pl.Int64(), "bool": pl.Boolean(), "currency": pl.String(), "country": pl.String(),
    "channel": pl.String(), "status": pl.String(), "direction": pl.String(), "kind": pl.String()}


@dataclass
class Plan:
    """How a file's columns are read, fixed on its first batch so every batch reads the same way:
    the column mapping, the layout, each amount column's decimal separator and each date column's
    formats (and, for Shopify orders, the order ids seen so far)."""

    columns: dict[str, str]
    layout: str | None
    decimals: dict[str, str] = field(default_factory=dict)
    formats: dict[str, tuple[str, ...]] = field(default_factory=dict)
    seen_orders: set[str] = field(default_factory=set)

    def decimal(self, header: str, values: pl.Series, opts: ParseOptions) -> str:
        if header not in self.decimals:
            self.decimals[header] = opts.decimal or P.detect_decimal(values)
        return self.decimals[header]

    def date_formats(self, header: str, values: pl.Series, opts: ParseOptions) -> tuple[str, ...]:
        if header not in self.formats:
            self.formats[header] = P.date_formats(values, opts.date_format)
        return self.formats[header]


@dataclass
class Validated:
    """Typed valid rows (canonical names, ``_row``/``_line`` kept) and the rejections."""

    source: str
    entity: str
    frame: pl.DataFrame
    rejections: pl.DataFrame
    columns: dict[str, str]
    layout: str | None
    read: int
    base: pl.DataFrame
    plan: Plan | None = None

    @property
    def rejected_rows(self) -> int:
        return int(self.rejections.get_column("row").n_unique()) if self.rejections.height else 0


def _rule(cond: pl.Expr, rule: str, message: str) -> tuple[pl.Expr, str, str]:
    return cond.fill_null(False), rule, message


def _checks_for(col: Col, header: str, values: pl.Series, opts: ParseOptions, settings: Settings,
                now: datetime, plan: Plan) -> tuple[pl.Expr | None, list[tuple[pl.Expr, str, str]]]:
    """(typed expression, [(failing condition, rule, message)]) for one canonical column.

    The typed value is materialised once as ``_t_<name>``; the checks only read that column and the
    presence flag ``_p_<header>`` (so no parser runs twice).
    """
    T = pl.col(f"_t_{col.name}")
    present = pl.col(f"_p_{header}")
    src = pl.col(header)
    checks: list[tuple[pl.Expr, str, str]] = []
    if col.required:
        checks.append(_rule(~present, "missing", f"{col.name} is required"))
    typ = col.type
    typed: pl.Expr | None
    if typ in ("id", "str"):
        typed = pl.when(src.str.strip_chars() != "").then(src.str.strip_chars()).otherwise(None)
    elif typ == "text":
        typed = pl.when(src.str.strip_chars() != "").then(src).otherwise(None)
    elif typ in ("date", "datetime"):
        typed = P.datetime_expr(header, None, opts.date_format, opts.timezone,
                                formats=plan.date_formats(header, values, opts))
        fmt = opts.date_format or "a date such as 2024-03-31"
        lo, hi = settings.ingest.min_year, settings.ingest.max_year
        checks.append(_rule(present & T.is_null(), "date", f"not a date (expected {fmt})"))
        checks.append(_rule((T.dt.year() < lo) | (T.dt.year() > hi), "year_range",
                            f"year outside {lo}-{hi} (a placeholder, not a date)"))
        checks.append(_rule(T > pl.lit(now), "future_date", f"date is after now ({now:%Y-%m-%d %H:%M} UTC)"))
    elif typ == "money":
        typed = None  # needs the currency: see _money_checks
    elif typ == "number":
        num, _ = P.number(header, plan.decimal(header, values, opts), values)
        typed = num.round(3)
        checks.append(_rule(present & T.is_null(), "number", f"{col.name} is not a number"))
        checks.append(_rule(T < 0, "negative", f"{col.name} is negative"))
        checks.append(_rule(T > settings.ingest.max_quantity, "absurd",
                            f"{col.name} above the maximum {settings.ingest.max_quantity:g}"))
    elif typ == "rate":
        num, ok = P.number(header, plan.decimal(header, values, opts), values)
        typed = pl.when(ok & (num > 0)).then(src.str.strip_chars().str.replace(",", ".", literal=True))
        checks.append(_rule(present & T.is_null(), "rate", "rate_to_reporting must be a number above 0"))
    elif typ == "int":
        typed = src.str.strip_chars().cast(pl.Int64, strict=False)
        checks.append(_rule(present & T.is_null(), "number", f"{col.name} is not a whole number"))
    elif typ == "bool":
        typed, _ = P.bool_expr(header)
        checks.append(_rule(present & T.is_null(), "bool", f"{col.name}: expected yes/no, true/false or 1/0"))
    elif typ == "currency":
        default = (opts.currency or settings.ingest.default_currency).upper()
        typed = pl.when(src.str.strip_chars() != "").then(src.str.strip_chars().str.to_uppercase()) \
            .otherwise(pl.lit(default))
        known = P.currency_exponents().get_column("_cur").to_list()
        checks.append(_rule(~T.is_in(known), "currency", "unknown currency (not an ISO 4217 code)"))
    elif typ == "country":
        typed = pl.when(src.str.strip_chars() != "").then(src.str.strip_chars().str.to_uppercase()).otherwise(None)
        checks.append(_rule(present & ~T.is_in(sorted(P.country_codes())), "country",
                            "unknown country (expected an ISO 3166 alpha-2 code such as CZ)"))
    elif typ == "channel":
        typed = P.channel_expr(header)
    elif typ in ("status", "direction"):
        table, default = (P.STATUSES, "completed") if typ == "status" else (P.DIRECTIONS, "inbound")
        mapped = P.mapped_expr(header, table)
        typed = pl.when(src.str.strip_chars() != "").then(mapped).otherwise(pl.lit(default))
        words = "completed, pending, returned or cancelled" if typ == "status" else "inbound or outbound"
        checks.append(_rule(T.is_null(), typ, f"{typ} must be {words}"))
    elif typ == "kind":
        typed = src.str.strip_chars().str.to_lowercase()
        checks.append(_rule(present & ~T.is_in(["csat", "nps"]), "kind", "kind must be csat or nps"))
    else:  # pragma: no cover - a spec typo
        raise ValueError(f"unknown column type {typ}")
    return typed, checks


def _money_checks(col: Col, header: str, values: pl.Series, opts: ParseOptions, settings: Settings,
                  entity: str, plan: Plan) -> tuple[dict[str, pl.Expr], list[tuple[pl.Expr, str, str]]]:
    dec = plan.decimal(header, values, opts)
    exp = pl.col("_exp").fill_null(2)
    minor, _, big = P.minor_units(header, dec, exp, values)
    T, BIG = pl.col(f"_t_{col.name}"), pl.col(f"_big_{col.name}")
    present = pl.col(f"_p_{header}")
    limit = pl.lit(settings.ingest.max_amount) * pl.lit(10.0).pow(exp)
    checks = [_rule(~present, "missing", f"{col.name} is required")] if col.required else []
    checks += [
        _rule(present & T.is_null() & ~BIG, "amount", f"{col.name} is not an amount (decimal {dec!r})"),
        _rule(present & (BIG | (T.abs().cast(pl.Float64) > limit)), "absurd",
              f"{col.name} above the maximum {settings.ingest.max_amount:g}"),
    ]
    if entity == "orders" and col.name == "total":
        checks.append(_rule((T < 0) & (pl.col("_t_status") != "returned"), "negative",
                            "total is negative and the order is not a return"))
    else:
        checks.append(_rule(T < 0, "negative", f"{col.name} is negative"))
    return {f"_t_{col.name}": minor, f"_big_{col.name}": big}, checks


def plan_for(raw: RawTable, entity: str, mapping: Mapping) -> Plan:
    """The plan of a file from its first batch; InputError if a required column is missing."""
    columns, layout = match_columns(entity, raw.headers, mapping=mapping.columns, source=raw.source)
    return Plan(columns=columns, layout=layout)


def _formula_checks(raw: RawTable, columns: dict[str, str]) -> dict[str, pl.Expr]:
    """Per used header: the rows whose cell is a formula without a saved value."""
    if raw.formulas is None or raw.formulas.height == 0:
        return {}
    used = set(columns.values())
    out = {}
    for (header,), part in raw.formulas.filter(pl.col("column").is_in(sorted(used))).group_by(["column"]):
        out[str(header)] = pl.col("_row").is_in(part.get_column("_row").implode())
    return out


def validate(raw: RawTable, entity: str, *, mapping: Mapping, options: ParseOptions, settings: Settings,
             now: datetime, plan: Plan | None = None) -> Validated:
    """Check every row of ``raw`` as ``entity``; InputError if a required column is missing.

    ``plan`` (from the first batch of the same file) keeps every batch read the same way.
    """
    plan = plan or plan_for(raw, entity, mapping)
    columns, layout = plan.columns, plan.layout
    cols = {c.name: c for c in spec(entity)}
    base = pl.from_arrow(raw.table)
    assert isinstance(base, pl.DataFrame)
    base = base.with_columns(pl.Series("_row", raw.row, dtype=pl.Int64), pl.Series("_line", raw.line, dtype=pl.Int64))
    if layout == "shopify" and entity == "orders":
        # Shopify repeats an order on one row per line item, with the order's fields on the first only.
        oid, total = pl.col(columns["order_id"]), pl.col(columns["total"])
        earlier = oid.is_in(sorted(plan.seen_orders)) if plan.seen_orders else pl.lit(False)
        follow = oid.is_not_null() & total.is_null() & ((pl.int_range(pl.len()).over(oid) > 0) | earlier)
        base = base.filter(~follow)
        plan.seen_orders.update(base.get_column(columns["order_id"]).drop_nulls().to_list())
    formula = _formula_checks(raw, columns)
    checks: list[tuple[str, pl.Expr, str, str]] = []
    limit = settings.ingest.max_field_bytes
    for h in raw.headers:
        checks.append((h, pl.col(h).str.len_bytes().fill_null(0) > limit, "field_too_long",
                       f"field longer than {limit:,} bytes"))
        checks.append((h, pl.col(h).str.contains("\x00", literal=True).fill_null(False), "nul_byte",
                       "field holds a NUL byte (\\x00), which no store keeps; remove it from the file"))
    typed: dict[str, pl.Expr] = {}
    for name, header in columns.items():
        col = cols[name]
        if col.type == "money":
            continue
        expr, cks = _checks_for(col, header, base.get_column(header), options, settings, now, plan)
        if expr is not None:
            typed[name] = expr
        checks.extend((header, c, r, m) for c, r, m in cks)
    if entity in MONEY_ENTITIES:
        if "currency" not in typed:
            if entity == "products" and options.currency is None:
                # A catalogue without currencies is priced in the shop's own currency (kept null).
                typed["currency"] = pl.lit(None, dtype=pl.String)
            else:
                typed["currency"] = pl.lit((options.currency or settings.ingest.default_currency).upper())
        if "status" in cols and "status" not in typed:
            typed["status"] = pl.lit("completed")
    if layout == "cdnow" and "customer_id" in typed:  # zero-padded numbers, as the literature reads them
        typed["customer_id"] = typed["customer_id"].str.strip_chars_start("0")
    # Pass 1: presence and typed non-money columns; pass 2: money (needs currency exponent and status).
    stage = base.with_columns(
        (pl.col(h).is_not_null() & (pl.col(h).str.strip_chars() != "")).alias(f"_p_{h}") for h in raw.headers)
    stage = stage.with_columns(**{f"_t_{k}": v for k, v in typed.items()})
    if entity in MONEY_ENTITIES:
        stage = stage.join(P.currency_exponents().rename({"_cur": "_t_currency"}), on="_t_currency", how="left",
                           maintain_order="left")
        for name, header in columns.items():
            if cols[name].type == "money":
                exprs, cks = _money_checks(cols[name], header, base.get_column(header), options, settings, entity,
                                           plan)
                stage = stage.with_columns(**exprs)
                checks.extend((header, c, r, m) for c, r, m in cks)
    for header, cond in formula.items():  # a formula without a value is that, not a missing value
        checks = [(h, c & ~cond if h == header and r == "missing" else c, r, m) for h, c, r, m in checks]
        checks.append((header, cond, "formula", "a formula whose value was never saved in the workbook; "
                       "open and save it in Excel or LibreOffice (or export it as CSV) and import again"))
    # Evaluate every check at once, then cut rejections out per check.
    flags = stage.select(pl.col("_row"), *[c.alias(f"_c{i}") for i, (_, c, _, _) in enumerate(checks)])
    fields = [pl.col(h).alias(FIELD_PREFIX + h) for h in raw.headers]
    frames = []
    any_bad = pl.lit(False)
    for i, (header, _, rule, message) in enumerate(checks):
        mask = flags.get_column(f"_c{i}")
        any_bad = any_bad | pl.col(f"_c{i}")
        if not mask.any():
            continue
        value = pl.col(header).str.slice(0, 200)
        part = base.filter(mask)
        if rule == "formula" and raw.formulas is not None:
            part = part.join(raw.formulas.filter(pl.col("column") == header).select("_row", "formula"),
                             on="_row", how="left")
            value = pl.col("formula")
        frames.append(part.select(
            pl.col("_row").alias("row"), pl.col("_line").alias("line"), pl.lit(header).alias("column"),
            value.alias("value"), pl.lit(rule).alias("rule"), pl.lit(message).alias("message"), *fields))
    bad = flags.select(any_bad.alias("bad")).get_column("bad") if checks else pl.Series([False] * base.height)
    rejections = concat_rejections([raw.rejections, *frames])
    out_cols = [(pl.col(f"_t_{k}").dt.date() if k in cols and cols[k].type == "date" else pl.col(f"_t_{k}")).alias(k)
                for k in typed] + [pl.col(f"_t_{k}").alias(k) for k in columns if cols[k].type == "money"]
    frame = stage.filter(~bad).select(pl.col("_row"), pl.col("_line"), *out_cols)
    for name in cols:  # every canonical column present (null when the file lacks it)
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=DTYPES[cols[name].type]).alias(name))
    read = base.height + (raw.rejections.get_column("row").n_unique() if raw.rejections.height else 0)
    return Validated(source=raw.source, entity=entity, frame=frame, rejections=rejections,
                     columns=columns, layout=layout, read=read, base=base, plan=plan)
