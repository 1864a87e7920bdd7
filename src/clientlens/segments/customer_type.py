"""customer_type: individual, professional or institutional.

Precedence: the given kind (normalised) > a legal form in the name > a public-body word > a tax id
in the name > a trade word in the name > wholesale behaviour (only for records without personal
data) > individual (default). Patterns come from
``[segments.customer_type]``; they are matched case-insensitively on the name as written and on the
name with its diacritics removed.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from clientlens.segments.base import LabelContext, purchasing
from clientlens.segments.evidence import make_labels

TAXONOMY = "customer_type"

#: Given ``kind`` values and what they mean (casefolded, spaces/underscores/hyphens removed).
KIND_SYNONYMS: dict[str, str] = {
    **dict.fromkeys(("individual", "person", "private", "consumer", "b2c", "retail", "natural",
                     "privat", "osobafizyczna", "particulier", "canhan", "cá nhân".replace(" ", "")),
                    "individual"),
    **dict.fromkeys(("professional", "business", "company", "b2b", "corporate", "firm", "trade", "wholesale",
                     "firma", "entreprise", "société", "societe", "unternehmen", "gewerblich", "doanhnghiệp",
                     "doanhnghiep", "công ty".replace(" ", "")), "professional"),
    **dict.fromkeys(("institutional", "institution", "public", "government", "publicbody", "public sector",
                     "nonprofit", "ngo", "education", "instytucja", "administration", "behörde", "cơquan",
                     "coquan"), "institutional"),
}


def normalise_kind(values: pd.Series) -> pd.Series:
    """Given kinds mapped to label ids; anything unknown becomes None."""
    keys = values.astype(object).where(values.notna(), "").astype(str).str.casefold()
    keys = keys.str.replace(r"[\s_\-]", "", regex=True)
    synonyms = {k.replace(" ", ""): v for k, v in KIND_SYNONYMS.items()}
    return keys.map(synonyms).astype(object).where(lambda s: s.notna(), None)


def strip_diacritics(values: pd.Series) -> pd.Series:
    """Casefolded text without combining marks (``urząd`` -> ``urzad``, ``đ`` -> ``d``, ``ł`` -> ``l``)."""
    text = values.str.casefold().str.normalize("NFKD").str.replace(r"[\u0300-\u036f]", "", regex=True)
    return text.str.translate(str.maketrans({"đ": "d", "ł": "l", "ø": "o", "ß": "ss"}))


def _non_capturing(word: str) -> str:
    """``word`` with its groups made non-capturing (one capture group per pattern only)."""
    return re.sub(r"(?<!\\)\((?!\?)", "(?:", word)


def _alternatives(words: tuple[str, ...]) -> str:
    return "|".join(f"(?:{_non_capturing(w)})" for w in words)


def _pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    if not words:
        return None
    return re.compile(r"(?<!\w)(" + _alternatives(words) + r")(?!\w)", re.IGNORECASE)


def _first_match(names: pd.Series, stripped: pd.Series, pattern: re.Pattern[str] | None,
                 candidates: pd.Series | None = None) -> pd.Series:
    """The matched text (from the name as written, else the stripped name), or NaN.

    Only rows in ``candidates`` (a boolean mask) are searched; the others are NaN.
    """
    out = pd.Series(np.nan, index=names.index, dtype=object)
    if pattern is None:
        return out
    rows = names.index if candidates is None else names.index[candidates.to_numpy()]
    if len(rows) == 0:
        return out
    found = names[rows].str.casefold().str.extract(pattern, expand=False)
    found = found.fillna(stripped[rows].str.extract(pattern, expand=False))
    out[rows] = found.astype(object)
    return out


def label(df: pd.DataFrame, ctx: LabelContext) -> list[pd.DataFrame]:
    """One customer_type label for every customer."""
    rules = ctx.rules.customer_type
    digits = ctx.digits
    given = normalise_kind(df["kind"])
    names = df["name"].astype(object).where(df["name"].notna(), "").astype(str)
    stripped = strip_diacritics(names)
    # one search with every pattern first: most names (private persons) match none of them
    words = rules.legal_forms + rules.public_bodies + rules.trade_words + rules.tax_id_words
    everything = re.compile(r"(?<!\w)(?:" + _alternatives(words) + r")(?!\w)", re.IGNORECASE) if words else None
    if everything is not None:
        hit = names.str.casefold().str.contains(everything) | stripped.str.contains(everything)
        candidates = hit.fillna(False).astype(bool) & given.isna()
    else:
        candidates = given.isna()
    legal = _first_match(names, stripped, _pattern(rules.legal_forms), candidates)
    public = _first_match(names, stripped, _pattern(rules.public_bodies), candidates)
    tax_words = _alternatives(rules.tax_id_words)
    tax_pattern = re.compile(rf"(?<!\w)((?:{tax_words})(?!\w)[\s:.#/-]*(?:[a-z]{{2}})?[\s-]?(?:\d[\s.-]?){{{rules.tax_id_min_digits},}})",
                             re.IGNORECASE) if rules.tax_id_words else None
    tax = _first_match(names, stripped, tax_pattern, candidates)
    trade = _first_match(names, stripped, _pattern(rules.trade_words), candidates)
    wholesale = (purchasing(df) & (df["quantity_per_order"] >= rules.wholesale_quantity_per_order)
                 & (df["orders"] >= rules.wholesale_min_orders))
    if rules.wholesale_requires_no_personal_data:
        wholesale &= df["age_years"].isna() & df["gender"].isna()

    left = pd.Series(True, index=df.index)
    parts: list[pd.DataFrame] = []

    def take(mask: pd.Series) -> pd.Series:
        nonlocal left
        chosen = mask & left
        left = left & ~chosen
        return chosen

    m = take(given.notna())
    parts.append(make_labels(df.loc[m, "customer_id"], TAXONOMY, given[m], "customer_type.given",
                             {"given": df.loc[m, "kind"]}, digits=digits))
    m = take(legal.notna())
    parts.append(make_labels(df.loc[m, "customer_id"], TAXONOMY, "professional", "customer_type.legal_form",
                             {"match": legal[m].str.strip()}, digits=digits))
    m = take(public.notna())
    parts.append(make_labels(df.loc[m, "customer_id"], TAXONOMY, "institutional", "customer_type.public_body",
                             {"match": public[m].str.strip()}, digits=digits))
    m = take(tax.notna())
    parts.append(make_labels(df.loc[m, "customer_id"], TAXONOMY, "professional", "customer_type.tax_id",
                             {"match": tax[m].str.strip()}, digits=digits))
    m = take(trade.notna())
    parts.append(make_labels(df.loc[m, "customer_id"], TAXONOMY, "professional", "customer_type.trade_name",
                             {"match": trade[m].str.strip()}, digits=digits))
    m = take(wholesale)
    parts.append(make_labels(df.loc[m, "customer_id"], TAXONOMY, "professional", "customer_type.wholesale",
                             {"quantity_per_order": df.loc[m, "quantity_per_order"], "orders": df.loc[m, "orders"],
                              "min_quantity_per_order": rules.wholesale_quantity_per_order,
                              "min_orders": rules.wholesale_min_orders}, digits=digits))
    m = left
    parts.append(make_labels(df.loc[m, "customer_id"], TAXONOMY, "individual", "customer_type.default", {},
                             digits=digits))
    return parts
