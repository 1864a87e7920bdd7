"""Who the sample shop's customers are: type, country, demographics, archetypes and contact data.

:func:`make_population` draws one block of customers. It returns the customers frame (canonical
input columns), the ground truth, and a *plan* (one row per customer) of the behaviour parameters
that :mod:`clientlens.datasets.purchases` turns into orders.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from clientlens.datasets.archetypes import ARCHETYPES, GeneratorSettings
from clientlens.datasets.names import (
    LOCALES,
    address_pool,
    company_name,
    org_email,
    person_emails,
    person_names,
    phone_numbers,
    public_body_name,
)

CONSENT_CHANNELS = ("email", "sms", "phone", "post", "chat", "social")
PROFILES = ("new", "occasional", "lapsing", "regular")
#: archetypes whose realised behaviour is drawn from a parameter range (the others are structural)
PARAMETRIC = ("price_conscious", "brand_loyal", "trend_seeker", "bulk_buyer", "occasional", "lapsing")


def _choice(rng: np.random.Generator, weights: dict[str, float], n: int) -> np.ndarray:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def _uniform(rng: np.random.Generator, bounds: tuple[float, float], n: int, log: bool = False) -> np.ndarray:
    lo, hi = bounds
    if log and lo > 0:
        return np.exp(rng.uniform(np.log(lo), np.log(hi), n))
    return rng.uniform(lo, hi, n)


def archetype_parameter(rng: np.random.Generator, archetype: str, member: np.ndarray, borderline: np.ndarray,
                        log: bool = False) -> np.ndarray:
    """Each customer's generating parameter: member range, non-member range, or the grey zone."""
    a = ARCHETYPES[archetype]
    n = len(member)
    out = np.where(member, _uniform(rng, a.member, n, log), _uniform(rng, a.non_member, n, log))
    return np.where(borderline, _uniform(rng, a.grey_zone, n, log), out)


def _birth_dates(rng: np.random.Generator, n: int, as_of: date, leap_share: float) -> tuple[np.ndarray, np.ndarray]:
    """Ages (years, float) and birth dates; a share is born on 29 February of a leap year."""
    age = np.where(rng.random(n) < 0.7, rng.normal(44, 14, n), rng.uniform(18, 88, n)).clip(18, 92)
    as_of_ts = pd.Timestamp(as_of)
    births = (as_of_ts - pd.to_timedelta(np.round(age * 365.2425), unit="D")).normalize()
    leap = rng.random(n) < leap_share
    years = births.year.to_numpy()
    leap_year = years - (years % 4)
    leap_year = np.where((leap_year % 100 == 0) & (leap_year % 400 != 0), leap_year - 4, leap_year)
    leap_dates = pd.to_datetime({"year": leap_year, "month": 2, "day": 29})
    later = leap_dates.to_numpy() > births.to_numpy()  # never younger than drawn
    leap_dates = pd.to_datetime({"year": np.where(later, leap_year - 4, leap_year), "month": 2, "day": 29})
    out = np.where(leap, leap_dates.to_numpy(), births.to_numpy())
    out = pd.DatetimeIndex(out)
    age_exact = ((as_of_ts - out).days.to_numpy() / 365.2425)
    return age_exact, out.to_numpy()


def _keep(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` where ``mask``, else None (an object array)."""
    out = np.asarray(values, dtype=object).copy()
    out[~mask] = None
    return out


def _contacts(rng: np.random.Generator, n: int, country: np.ndarray, ctype: np.ndarray, gender: np.ndarray,
              cfg: GeneratorSettings, seed: int) -> tuple[list[str], list[str | None], list[str | None],
                                                      list[str], list[str]]:
    """Names, e-mails, phones, addresses and cities, drawn country by country."""
    names: list[str] = [""] * n
    emails: list[str | None] = [None] * n
    phones: list[str | None] = [None] * n
    addresses: list[str] = [""] * n
    cities: list[str] = [""] * n
    has_email = rng.random(n) < cfg.email_share
    has_phone = rng.random(n) < cfg.phone_share
    e164 = rng.random(n) < 0.5
    for c in sorted(set(country.tolist())):
        info = LOCALES[c]
        rows = np.flatnonzero(country == c)
        k = len(rows)
        city_idx = np.minimum(rng.pareto(1.2, k).astype(np.int64), len(info.cities) - 1)
        pool = address_pool(c, seed)
        addr_idx = rng.integers(0, len(pool), k)
        people = rows[ctype[rows] == "individual"]
        female = (gender[people] == "female") | ((gender[people] == "other") & (rng.random(len(people)) < 0.5))
        p_names, slugs = person_names(rng, c, female)
        p_emails = person_emails(rng, c, slugs)
        tel = phone_numbers(rng, c, e164[rows])
        for j, i in enumerate(rows):
            cities[i] = info.cities[city_idx[j]]
            addresses[i] = pool[addr_idx[j]]
            phones[i] = tel[j] if has_phone[i] else None
        for j, i in enumerate(people):
            names[i] = p_names[j]
            emails[i] = p_emails[j] if has_email[i] else None
        for o in map(int, rows[ctype[rows] != "individual"]):
            if ctype[o] == "professional":
                names[o] = company_name(rng, c, marked=bool(rng.random() >= cfg.unmarked_professional_share))
            else:
                names[o] = public_body_name(rng, c, cities[o])
            emails[o] = org_email(rng, c, names[o]) if has_email[o] else None
    # two people of one block never share an address (it would merge them); across blocks it is rare
    seen: set[str] = set()
    for k, email in enumerate(list(emails)):
        if email is not None and email in seen:
            box, domain = email.split("@", 1)
            emails[k] = email = f"{box}{int(rng.integers(1000, 10000))}@{domain}"
        if email is not None:
            seen.add(email)
    return names, emails, phones, addresses, cities


def make_population(rng: np.random.Generator, first_index: int, n: int, cfg: GeneratorSettings,
                    as_of: date, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(customers, truth, plan) for customers ``first_index .. first_index + n - 1``."""
    ids = np.array([f"C{i:07d}" for i in range(first_index, first_index + n)], dtype=object)
    ctype = _choice(rng, cfg.customer_type_shares, n)
    international = rng.random(n) < cfg.international_share
    country = np.where(international, _choice(rng, cfg.foreign_country_weights, n), cfg.home_country)
    individual = ctype == "individual"

    # demographics (individuals only; organisations have none)
    u = rng.random(n)
    gender = np.where(u < 0.015, "other", np.where(u < 0.51, "female", "male"))
    gender = np.where(individual, gender, "unknown")
    age, birth = _birth_dates(rng, n, as_of, cfg.leap_day_birth_share)
    inc_p = np.clip(0.18 + 0.004 * (age - 40), 0.08, 0.35)
    u = rng.random(n)
    income = np.where(u < inc_p, "high", np.where(u < inc_p + 0.5, "middle", "low"))
    income = np.where(individual, income, "unknown")
    birth = np.where(individual, birth, np.datetime64("NaT"))
    age = np.where(individual, age, np.nan)

    # frequency profile and archetypes
    prospect = rng.random(n) < cfg.prospect_share
    profile = np.where(prospect, "prospect", _choice(rng, cfg.frequency_shares, n))
    buyer = ~prospect
    pc_rate = np.array([cfg.price_conscious_share_by_income[i] for i in income])
    price_conscious = buyer & (rng.random(n) < pc_rate)
    age_key = np.where(np.isnan(age), "unknown", np.where(np.nan_to_num(age, nan=99) < 35, "under_35", "35_and_over"))
    trend_seeker = buyer & (rng.random(n) < np.array([cfg.trend_seeker_share_by_age[k] for k in age_key]))
    bulk_buyer = buyer & (rng.random(n) < np.array([cfg.bulk_buyer_share_by_type[t] for t in ctype]))
    loyal_draw = buyer & np.isin(profile, ("regular", "lapsing")) & (rng.random(n) < cfg.brand_loyal_share)
    members = {
        "price_conscious": price_conscious, "brand_loyal": loyal_draw, "trend_seeker": trend_seeker,
        "bulk_buyer": bulk_buyer, "occasional": profile == "occasional", "lapsing": profile == "lapsing",
    }
    plan = pd.DataFrame({"customer_id": ids, "profile": profile, "ctype": ctype, "international": international})
    eligible = {
        "price_conscious": buyer, "brand_loyal": buyer & np.isin(profile, ("regular", "lapsing")),
        "trend_seeker": buyer, "bulk_buyer": buyer,
        "occasional": np.isin(profile, ("occasional", "regular")), "lapsing": np.isin(profile, ("lapsing", "regular")),
    }
    log_scale = {"bulk_buyer": True, "occasional": True}
    for arch in PARAMETRIC:
        # as many borderline non-members as borderline members (a rare archetype stays precise)
        elig = eligible[arch]
        rate = float(members[arch][elig].mean()) if elig.any() else 0.0
        p_border = np.where(members[arch], cfg.borderline_share,
                            cfg.borderline_share * rate / max(1.0 - rate, 1e-9))
        border = elig & (rng.random(n) < p_border)
        plan[arch] = members[arch]
        plan[f"{arch}_borderline"] = border
        plan[f"{arch}_param"] = archetype_parameter(rng, arch, members[arch], border, log_scale.get(arch, False))

    names, emails, phones, addresses, cities = _contacts(rng, n, country, ctype, gender, cfg, seed)
    country_given = _keep(rng.random(n) >= cfg.country_missing_share, country)
    # a customer without a country writes the phone in E.164 (otherwise it cannot be read)
    for i in map(int, np.flatnonzero(pd.isna(country_given))):
        if phones[i] is not None:
            phones[i] = phone_numbers(rng, str(country[i]), np.array([True]))[0]

    # consents: given / withdrawn / never / unknown per channel
    consent: dict[str, np.ndarray] = {}
    withdrawn = np.full(n, "", dtype=object)
    for ch in CONSENT_CHANNELS:
        granted = rng.random(n) < cfg.consent_rates[ch]
        wd = granted & (rng.random(n) < cfg.consent_withdrawn_share)
        unknown = rng.random(n) < cfg.consent_unknown_share
        col = (granted & ~wd).astype(object)
        col[unknown & ~wd] = None
        consent[ch] = col
        withdrawn = np.where(wd, withdrawn + np.where(withdrawn == "", "", ";") + ch, withdrawn)
    # preferred channel: one of the consented channels (90%), else any channel or none
    ok = np.column_stack([consent[ch] == True for ch in CONSENT_CHANNELS])  # noqa: E712
    pick = np.argmax(np.where(ok, rng.random(ok.shape), -1.0), axis=1)
    channels = np.array(CONSENT_CHANNELS, dtype=object)
    anyone = channels[rng.integers(0, len(channels), n)]
    u = rng.random(n)
    preferred = np.where(ok.any(axis=1) & (u < 0.9), channels[pick], _keep(u < 0.95, anyone))

    def given(share: float, values: np.ndarray, ok: np.ndarray) -> np.ndarray:
        return _keep(ok & (rng.random(n) < share), values)

    birth_series = pd.Series(pd.DatetimeIndex(birth)).dt.date.to_numpy()
    customers = pd.DataFrame({
        "customer_id": ids,
        "name": names,
        "email": emails,
        "phone": phones,
        "birth_date": given(cfg.birth_date_given_share, birth_series, individual),
        "gender": given(cfg.gender_given_share, gender, individual),
        "income_band": given(cfg.income_given_share, income, individual),
        "kind": _keep(rng.random(n) < cfg.kind_given_share, ctype),
        "country": country_given,
        "city": cities,
        "address": addresses,
        "language": [LOCALES[c].language for c in country],
        "timezone": [LOCALES[c].timezone for c in country],
        "preferred_channel": preferred,
        **{f"consent_{ch}": consent[ch] for ch in CONSENT_CHANNELS},
    })
    truth = pd.DataFrame({
        "customer_id": ids,
        "customer_type": ctype,
        "gender": gender,
        "birth_date": birth_series,
        "income_band": income,
        "country": country,
        "language": customers["language"].to_numpy(),
        "timezone": customers["timezone"].to_numpy(),
        "profile": profile,
        "prospect": prospect,
        "international": international,
        "consents_withdrawn": withdrawn,
    })
    plan["age"] = age
    return customers, truth, plan
