"""Interface languages: Babel catalogues (``locale/<lang>/LC_MESSAGES/messages.mo``, compiled and shipped;
the ``.po`` is read with Babel when the ``.mo`` is missing) and locale-aware formatting of numbers, money,
percentages and dates, plus label names and evidence rendered from their ids and figures.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

from babel import Locale, dates, numbers
from babel.support import Translations

from clientlens.money import format_money
from clientlens.web import labels as L

LOCALES = {"en": "en_US", "vi": "vi_VN", "pl": "pl_PL", "fr": "fr_FR"}
LANGUAGE_NAMES = {"en": "English", "vi": "Tiếng Việt", "pl": "Polski", "fr": "Français"}


@lru_cache(maxsize=16)
def translations(lang: str) -> gettext.NullTranslations:
    """The catalogue of ``lang`` (English: the identity)."""
    if lang == "en" or lang not in LOCALES:
        return gettext.NullTranslations()
    base = resources.files("clientlens.web") / "locale" / lang / "LC_MESSAGES"
    mo = base / "messages.mo"
    if mo.is_file():
        with mo.open("rb") as fh:
            return Translations(fh)
    po = base / "messages.po"
    if po.is_file():
        import io

        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        with po.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        return Translations(buf)
    return gettext.NullTranslations()


@dataclass(frozen=True)
class I18n:
    """Translation and formatting for one language; templates get it as ``i18n`` and ``_``."""

    lang: str

    @property
    def locale(self) -> Locale:
        return Locale.parse(LOCALES.get(self.lang, "en_US"))

    def gettext(self, message: str, **kwargs: Any) -> str:
        text = translations(self.lang).gettext(message)
        return text % kwargs if kwargs else text

    @property
    def d3_format_locale(self) -> dict[str, Any]:
        """Number format of the locale for the charts (d3-format locale definition used by Vega)."""
        symbols = self.locale.number_symbols.get("latn", self.locale.number_symbols)
        return {"decimal": symbols["decimal"], "thousands": symbols["group"], "grouping": [3],
                "currency": ["", ""], "percent": "%"}

    def word(self, value: str | None) -> str:
        """A data value (status, role, channel, action...) in this language, readable when untranslated."""
        if not value:
            return "–"
        text = self.gettext(value)
        return L.humanise(text) if text == value else text

    def number(self, value: float | int | None, digits: int = 0) -> str:
        if value is None:
            return "–"
        fmt = "#,##0" + ("." + "0" * digits if digits else "")
        return numbers.format_decimal(value, format=fmt, locale=self.locale)

    def decimal(self, value: float | None) -> str:
        if value is None:
            return "–"
        return numbers.format_decimal(value, format="#,##0.###", locale=self.locale)

    def money(self, value: float | Decimal | None, currency: str | None) -> str:
        """``value`` in ``currency`` with the currency's own digits (``clientlens.money``); "–" when unknown."""
        if value is None or not currency:
            return "–"
        return format_money(value, currency, str(self.locale))

    def percent(self, value: float | None, digits: int = 1) -> str:
        if value is None:
            return "–"
        return numbers.format_percent(value, format="#,##0." + "0" * digits + "%", locale=self.locale)

    def date(self, value: date | datetime | None) -> str:
        if value is None:
            return "–"
        return dates.format_date(value, format="medium", locale=self.locale)

    def datetime(self, value: datetime | None) -> str:
        if value is None:
            return "–"
        return dates.format_datetime(value, format="medium", locale=self.locale)

    def taxonomy(self, taxonomy: str) -> str:
        return self.gettext(L.TAXONOMIES.get(taxonomy, L.humanise(taxonomy)))

    def label(self, taxonomy: str, label: str | None) -> str:
        if label is None:
            return self.gettext("(none)")
        return self.gettext(L.LABELS.get(label, L.humanise(label)))

    def feature(self, name: str) -> str:
        return self.gettext(L.FEATURES.get(name, L.humanise(name)))

    def figure(self, name: str, value: Any) -> str:
        if isinstance(value, bool) or value is None:
            return self.gettext("yes") if value else ("–" if value is None else self.gettext("no"))
        if isinstance(value, int | float):
            if name.endswith("_share") or name.endswith("_rate") or name in ("p_alive",):
                return self.percent(float(value))
            return self.decimal(float(value))
        if isinstance(value, str) and value in L.LABELS:
            return self.gettext(L.LABELS[value])
        return str(value)

    def evidence(self, taxonomy: str, label: str, rule_id: str, figures: dict[str, Any]) -> str:
        """The label's evidence in this language, rendered from the rule id and the figures."""
        rule = self.gettext(L.RULES[rule_id]) if rule_id in L.RULES else L.humanise(rule_id)
        parts = [f"{self.feature(k)}: {self.figure(k, v)}" for k, v in figures.items()
                 if not isinstance(v, dict | list)]
        return f"{rule} — " + "; ".join(parts) if parts else rule


def pick_language(*candidates: str | None, allowed: tuple[str, ...] = tuple(LOCALES)) -> str:
    """The first candidate (or Accept-Language entry) that is an interface language, else English."""
    for cand in candidates:
        if not cand:
            continue
        for part in cand.split(","):
            code = part.split(";")[0].strip().lower()[:2]
            if code in allowed:
                return code
    return "en"
