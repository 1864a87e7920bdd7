"""Money: amounts as :class:`~decimal.Decimal` in the ISO 4217 minor unit of their currency.

The store keeps every amount as an integer in the currency's minor unit (cents, fils, or the unit
itself for currencies without one). This module is the one place where those integers become
amounts, where amounts become text, and where amounts in several currencies are added (always after
converting them into the shop's reporting currency). The minor-unit exponents come from Babel's copy
of the ISO 4217 / CLDR data, not from a hand list: JPY and VND 0, KWD, BHD and OMR 3, most others 2.

>>> to_major(1500, "JPY"), to_major(10500, "KWD"), to_major(1999, "EUR")
(Decimal('1500'), Decimal('10.500'), Decimal('19.99'))
>>> to_minor(Decimal("10.5"), "KWD")
10500
>>> format_money(Decimal("10.5"), "KWD", "en")
'KWD10.500'
>>> format_money(15000, "JPY", "fr")
'15\\u202f000\\xa0JPY'
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel import Locale

from clientlens.errors import ClientlensError, InputError

__all__ = ["Money", "MissingRateError", "Rates", "UnknownCurrencyError", "exponent", "format_money",
           "is_currency", "known_currencies", "quantize", "to_float", "to_major", "to_minor"]


class UnknownCurrencyError(InputError):
    """A currency code that is not an ISO 4217 code known to Babel."""


class MissingRateError(ClientlensError):
    """Amounts in a currency that has no exchange rate to the reporting currency."""


@lru_cache(maxsize=1)
def known_currencies() -> frozenset[str]:
    """Every ISO 4217 code Babel knows (the test codes XXX and XTS left out)."""
    from babel.numbers import list_currencies

    return frozenset(c for c in list_currencies() if c not in ("XXX", "XTS"))


def is_currency(code: str | None) -> bool:
    return bool(code) and str(code).upper() in known_currencies()


@lru_cache(maxsize=512)
def exponent(currency: str) -> int:
    """Digits of the minor unit of ``currency`` (ISO 4217, from Babel).

    >>> exponent("VND"), exponent("BHD"), exponent("usd")
    (0, 3, 2)
    """
    from babel.numbers import get_currency_precision

    code = str(currency or "").strip().upper()
    if code not in known_currencies():
        raise UnknownCurrencyError(f"unknown currency {currency!r}: not an ISO 4217 code")
    return int(get_currency_precision(code))


def quantize(amount: Decimal | int | float | str, currency: str) -> Decimal:
    """``amount`` rounded (half up) to the digits of ``currency``."""
    value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    return value.quantize(Decimal(1).scaleb(-exponent(currency)), rounding=ROUND_HALF_UP)


def to_major(amount_minor: int, currency: str) -> Decimal:
    """Stored minor units -> the amount, with exactly the currency's digits."""
    return Decimal(int(amount_minor)).scaleb(-exponent(currency))


def to_minor(amount: Decimal | int | float | str, currency: str) -> int:
    """An amount -> integer minor units (rounded half up to the currency's digits)."""
    return int(quantize(amount, currency).scaleb(exponent(currency)))


def to_float(amount: Decimal | None) -> float | None:
    """A JSON/plot-friendly float of ``amount`` (exact to the currency's digits for any real amount)."""
    return None if amount is None else float(amount)


@lru_cache(maxsize=64)
def _babel_locale(locale: str) -> Locale:
    try:
        return Locale.parse(str(locale).replace("-", "_"))
    except Exception:  # an unknown or malformed language tag: English formatting
        return Locale.parse("en")


def format_money(amount: Decimal | int | float | None, currency: str, locale: str = "en") -> str:
    """``amount`` as the locale writes money, with exactly the currency's digits ("–" when None)."""
    if amount is None:
        return "–"
    return _formatted(quantize(amount, currency), str(currency).upper(), locale)


@lru_cache(maxsize=65_536)
def _formatted(amount: Decimal, currency: str, locale: str) -> str:
    """Babel's formatting (about 50 µs a call: a customer 360 formats a dozen amounts), kept per value."""
    from babel.numbers import format_currency

    return str(format_currency(amount, currency, locale=_babel_locale(locale), currency_digits=True))


@dataclass(frozen=True, order=True)
class Money:
    """An amount and its currency."""

    amount: Decimal
    currency: str

    @classmethod
    def from_minor(cls, amount_minor: int, currency: str) -> Money:
        return cls(to_major(amount_minor, currency), str(currency).upper())

    @property
    def minor(self) -> int:
        return to_minor(self.amount, self.currency)

    def format(self, locale: str = "en") -> str:
        return format_money(self.amount, self.currency, locale)

    def __str__(self) -> str:
        return self.format("en")


def _day(at: date | datetime) -> date:
    return at.date() if isinstance(at, datetime) else at


class Rates:
    """A shop's exchange rates into its reporting currency (the ``exchange_rates`` table).

    An amount uses the rate of its day, else the latest earlier rate, else the earliest later one
    (the rule the analysis uses, ``features.store_reader.to_reporting``). A currency without any
    rate raises :class:`MissingRateError` naming the currency and the date: amounts are never added
    across currencies unconverted.

    >>> r = Rates("EUR", [(date(2024, 1, 1), "PLN", 0.23)])
    >>> r.convert(Decimal("100.00"), "PLN", date(2024, 3, 1))
    Decimal('23.00')
    """

    def __init__(self, reporting: str, rows: Iterable[tuple[date | datetime, str, float | Decimal]] = ()):
        self.reporting = str(reporting).upper()
        table: dict[str, list[tuple[date, Decimal]]] = {}
        for day, cur, rate in rows:
            table.setdefault(str(cur).upper(), []).append((_day(day), Decimal(str(rate))))
        self._days: dict[str, list[date]] = {}
        self._rates: dict[str, list[Decimal]] = {}
        for cur, pairs in table.items():
            pairs.sort()
            self._days[cur] = [d for d, _ in pairs]
            self._rates[cur] = [r for _, r in pairs]

    def rate(self, currency: str, at: date | datetime) -> Decimal:
        cur = str(currency).upper()
        if cur == self.reporting:
            return Decimal(1)
        days = self._days.get(cur)
        if not days:
            raise MissingRateError(
                f"amounts in {cur} on {_day(at).isoformat()} but no exchange rate from {cur} to the reporting "
                f"currency {self.reporting}; import rates (date, currency, rate_to_reporting)")
        i = bisect.bisect_right(days, _day(at)) - 1
        return self._rates[cur][max(i, 0)]

    def convert(self, amount: Decimal, currency: str, at: date | datetime) -> Decimal:
        """``amount`` in ``currency`` on ``at`` -> the reporting currency, rounded to its digits."""
        return quantize(amount * self.rate(currency, at), self.reporting)

    def convert_minor(self, amount_minor: int, currency: str, at: date | datetime) -> Decimal:
        return self.convert(to_major(amount_minor, currency), currency, at)

    def total(self, items: Iterable[tuple[int, str, date | datetime]]) -> Money:
        """The sum of (minor units, currency, day) items in the reporting currency."""
        out = Decimal(0)
        for minor, cur, at in items:
            out += self.convert_minor(minor, cur, at)
        return Money(quantize(out, self.reporting), self.reporting)
