"""Demographics: age_band, gender and income_band (from the customer record; never guessed)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clientlens.segments.base import LabelContext
from clientlens.segments.evidence import make_labels

#: Given gender values (casefolded, spaces removed) and their label ids.
GENDER_SYNONYMS: dict[str, str] = {
    **dict.fromkeys(("f", "female", "woman", "w", "k", "kobieta", "femme", "nu", "nữ", "weiblich", "frau"),
                    "female"),
    **dict.fromkeys(("m", "male", "man", "mezczyzna", "mężczyzna", "homme", "h", "nam", "männlich",
                     "maennlich", "mann"), "male"),
    **dict.fromkeys(("o", "other", "x", "d", "diverse", "divers", "nonbinary", "non-binary", "inny", "autre",
                     "khác"), "other"),
}
#: Given income bands and their label ids.
INCOME_SYNONYMS: dict[str, str] = {
    **dict.fromkeys(("low", "l", "lower", "niski", "faible", "bas", "thấp", "niedrig"), "low"),
    **dict.fromkeys(("middle", "medium", "mid", "m", "average", "średni", "sredni", "moyen", "trung bình",
                     "trungbinh", "mittel"), "middle"),
    **dict.fromkeys(("high", "h", "upper", "wysoki", "élevé", "eleve", "haut", "cao", "hoch"), "high"),
}


def _keys(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), "").astype(str).str.strip().str.casefold()


def age_band(df: pd.DataFrame, ctx: LabelContext) -> list[pd.DataFrame]:
    rules = ctx.rules.age_band
    age = df["age_years"]
    ids = df["customer_id"]
    youth = age < rules.youth_below
    senior = age >= rules.senior_from
    adult = age.notna() & ~youth & ~senior
    d = ctx.digits
    return [
        make_labels(ids[youth], "age_band", "youth", "age_band.youth",
                    {"age_years": np.floor(age[youth]), "youth_below": rules.youth_below}, digits=d),
        make_labels(ids[adult], "age_band", "adult", "age_band.adult",
                    {"age_years": np.floor(age[adult]), "youth_below": rules.youth_below,
                     "senior_below": rules.senior_from}, digits=d),
        make_labels(ids[senior], "age_band", "senior", "age_band.senior",
                    {"age_years": np.floor(age[senior]), "senior_from": rules.senior_from}, digits=d),
        make_labels(ids[age.isna()], "age_band", "unknown", "age_band.unknown", {}, digits=d),
    ]


def gender(df: pd.DataFrame, ctx: LabelContext) -> list[pd.DataFrame]:
    keys = _keys(df["gender"]).str.replace(" ", "", regex=False)
    mapped = keys.map(GENDER_SYNONYMS)
    known = mapped.notna()
    ids = df["customer_id"]
    return [
        make_labels(ids[known], "gender", mapped[known], "gender.given", {"given": df.loc[known, "gender"]},
                    digits=ctx.digits),
        make_labels(ids[~known], "gender", "unknown", "gender.unknown", {}, digits=ctx.digits),
    ]


#: Words inside a longer band name ("low income", "upper-middle"): checked in this order.
INCOME_WORDS = (("middle", r"\b(?:mid|middle|medium|average|moyen|średni|sredni)\b"),
                ("low", r"\b(?:low|lower|niski|faible)\b"),
                ("high", r"\b(?:high|upper|top|wysoki|élevé|eleve)\b"))


def _income_number(keys: pd.Series) -> pd.Series:
    """A number in the band ("45000", "45k", "30-60k": the middle of a range), else NaN."""
    text = keys.str.replace(r"(?<=\d)[\s,_](?=\d{3})", "", regex=True)
    found = text.str.extractall(r"(\d+(?:\.\d+)?)\s*(k)?")
    if found.empty:
        return pd.Series(np.nan, index=keys.index)
    value = found[0].astype(float) * np.where(found[1].fillna("") == "k", 1000.0, 1.0)
    any_k = (found[1].fillna("") == "k").groupby(level=0).transform("any")
    value = np.where(any_k & (value < 1000), value * 1000.0, value)
    mean = pd.Series(value, index=found.index).groupby(level=0).mean()
    return mean.reindex(keys.index)


def income_band(df: pd.DataFrame, ctx: LabelContext) -> list[pd.DataFrame]:
    rules = ctx.rules.income_band
    keys = _keys(df["income_band"])
    mapped = keys.map(INCOME_SYNONYMS)
    for label_id, pattern in INCOME_WORDS:
        hit = mapped.isna() & keys.str.contains(pattern, regex=True).fillna(False).astype(bool)
        mapped = mapped.astype(object).where(~hit, label_id)
    numeric = _income_number(keys).where(mapped.isna())
    by_number = pd.Series(np.where(numeric < rules.low_below, "low",
                                   np.where(numeric >= rules.high_from, "high", "middle")), index=df.index)
    has_number = numeric.notna()
    unknown = mapped.isna() & ~has_number
    ids = df["customer_id"]
    return [
        make_labels(ids[mapped.notna()], "income_band", mapped[mapped.notna()], "income_band.given",
                    {"given": df.loc[mapped.notna(), "income_band"]}, digits=ctx.digits),
        make_labels(ids[has_number], "income_band", by_number[has_number], "income_band.numeric",
                    {"income": numeric[has_number], "low_below": rules.low_below, "high_from": rules.high_from},
                    digits=ctx.digits),
        make_labels(ids[unknown], "income_band", "unknown", "income_band.unknown", {}, digits=ctx.digits),
    ]


def label(df: pd.DataFrame, ctx: LabelContext) -> list[pd.DataFrame]:
    return age_band(df, ctx) + gender(df, ctx) + income_band(df, ctx)
