"""Locale data of the sample shop: people's, companies' and public bodies' names, phones, e-mails,
addresses, cities and time zones for Vietnam, Poland, Great Britain and France.

People's names come from Faker's per-locale name lists (so they carry the real diacritics);
street addresses from a per-locale Faker pool seeded from the shop's seed; cities are real ones.
Everything is drawn with a NumPy ``Generator`` so that a block of customers is reproducible.
"""

from __future__ import annotations

import importlib
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import phonenumbers


@dataclass(frozen=True)
class LocaleInfo:
    """Consistent facts about customers of one country."""

    country: str
    faker_locale: str
    language: str
    timezone: str
    calling_code: str
    #: mobile prefixes (national significant number starts), the remaining digits are random
    mobile_prefixes: tuple[str, ...]
    nsn_length: int
    email_domains: tuple[str, ...]
    company_domain: str
    cities: tuple[str, ...]


LOCALES: dict[str, LocaleInfo] = {
    "GB": LocaleInfo(
        "GB", "en_GB", "en", "Europe/London", "44", ("74", "75", "77", "78", "79"), 10,
        ("gmail.com", "outlook.com", "btinternet.com", "yahoo.co.uk", "hotmail.co.uk", "icloud.com"), "co.uk",
        ("London", "Manchester", "Birmingham", "Leeds", "Glasgow", "Edinburgh", "Bristol", "Liverpool",
         "Cardiff", "Belfast", "Sheffield", "Newcastle upon Tyne", "Nottingham", "Leicester", "Brighton",
         "Oxford", "Cambridge", "York", "Southampton", "Norwich")),
    "FR": LocaleInfo(
        "FR", "fr_FR", "fr", "Europe/Paris", "33", ("6", "73", "74", "75", "76", "77", "78"), 9,
        ("orange.fr", "free.fr", "gmail.com", "laposte.net", "sfr.fr", "wanadoo.fr"), "fr",
        ("Paris", "Marseille", "Lyon", "Toulouse", "Nice", "Nantes", "Strasbourg", "Montpellier", "Bordeaux",
         "Lille", "Rennes", "Reims", "Le Havre", "Saint-Étienne", "Toulon", "Grenoble", "Dijon", "Angers",
         "Nîmes", "Besançon")),
    "PL": LocaleInfo(
        "PL", "pl_PL", "pl", "Europe/Warsaw", "48", ("50", "51", "53", "57", "60", "66", "69", "72", "73", "78",
                                                      "79", "88"), 9,
        ("wp.pl", "onet.pl", "o2.pl", "gmail.com", "interia.pl"), "pl",
        ("Warszawa", "Kraków", "Łódź", "Wrocław", "Poznań", "Gdańsk", "Szczecin", "Bydgoszcz", "Lublin",
         "Białystok", "Katowice", "Gdynia", "Częstochowa", "Radom", "Toruń", "Rzeszów", "Kielce", "Olsztyn",
         "Opole", "Zielona Góra")),
    "VN": LocaleInfo(
        "VN", "vi_VN", "vi", "Asia/Ho_Chi_Minh", "84", ("90", "91", "93", "94", "96", "97", "98", "32", "33",
                                                         "35", "37", "39", "70", "77", "81", "83", "85"), 9,
        ("gmail.com", "yahoo.com.vn", "outlook.com", "fpt.vn"), "vn",
        ("Hà Nội", "Thành phố Hồ Chí Minh", "Đà Nẵng", "Hải Phòng", "Cần Thơ", "Huế", "Nha Trang", "Biên Hòa",
         "Vũng Tàu", "Buôn Ma Thuột", "Quy Nhơn", "Đà Lạt", "Hạ Long", "Vinh", "Thái Nguyên")),
}

_EXTRA_VI_LAST = ("Hoàng", "Huỳnh", "Phan", "Võ", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Trương", "Đinh")
_EXTRA_VI_FEMALE = ("Hằng", "Trang", "Yến", "Phương", "Nhung", "Thủy", "Hà", "Ánh", "Quỳnh", "Dung")
_VI_MIDDLE = ("Văn", "Đức", "Quang", "Minh", "Hữu")
_EXTRA_VI_MALE = ("Dũng", "Tuấn", "Quân", "Thắng", "Khánh", "Đạt", "Hiếu", "Sơn", "Long", "Huy")

# Legal forms of companies, by country; some German forms appear on British subsidiaries.
LEGAL_FORMS: dict[str, tuple[str, ...]] = {
    "GB": ("Ltd", "Limited", "PLC", "LLP", "LLC", "Inc", "GmbH"),
    "FR": ("SARL", "SAS", "S.A.", "EURL", "SASU"),
    "PL": ("Sp. z o.o.", "S.A.", "Sp.j.", "Sp. k."),
    "VN": ("Công ty TNHH", "Công ty Cổ phần", "Doanh nghiệp tư nhân"),
}
TRADES: dict[str, tuple[str, ...]] = {
    "GB": ("Trading", "Supplies", "Consulting", "Logistics", "Interiors", "Catering", "Print", "Retail",
           "Engineering", "Events"),
    "FR": ("Distribution", "Conseil", "Services", "Bâtiment", "Restauration", "Imprimerie", "Négoce",
           "Équipements"),
    "PL": ("Handel", "Usługi", "Dystrybucja", "Budownictwo", "Gastronomia", "Drukarnia", "Technika", "Meble"),
    "VN": ("Thương mại", "Dịch vụ", "Xây dựng", "Vận tải", "Thiết bị", "Công nghệ", "Nội thất", "In ấn"),
}
# Public bodies; {city}, {n}, {person} are filled in.
PUBLIC_BODIES: dict[str, tuple[str, ...]] = {
    "GB": ("University of {city}", "{city} City Council", "{city} General Hospital", "Ministry of Defence",
           "St {person} Primary School", "NHS {city} Foundation Trust", "{city} College",
           "{city} Public Library", "Department for Education", "{city} Academy"),
    "FR": ("Mairie de {city}", "Hôpital {person}", "Université de {city}", "Lycée {person}",
           "École primaire {person}", "Centre hospitalier de {city}", "Ministère de la Culture",
           "Conseil départemental", "Médiathèque de {city}"),
    "PL": ("Urząd Miasta {city}", "Szkoła Podstawowa nr {n}", "Szpital Wojewódzki nr {n}", "Uniwersytet {city}",
           "Ministerstwo Zdrowia", "Urząd Gminy {city}", "Liceum Ogólnokształcące nr {n}",
           "Biblioteka Publiczna {city}", "Politechnika {city}"),
    "VN": ("Trường Đại học {city}", "Bệnh viện Đa khoa {city}", "Trường THPT {person}", "Ủy ban nhân dân {city}",
           "Bộ Y tế", "Trường Tiểu học {person}", "Sở Giáo dục {city}", "Bệnh viện {person}"),
}


def _as_tuple(values: object) -> tuple[str, ...]:
    return tuple(values.keys() if isinstance(values, dict) else values)  # type: ignore[arg-type]


@cache
def name_lists(country: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(female first names, male first names, family names, female family names) for a country."""
    info = LOCALES[country]
    provider = importlib.import_module(f"faker.providers.person.{info.faker_locale}").Provider
    female = _as_tuple(provider.first_names_female)
    male = _as_tuple(provider.first_names_male)
    if country == "PL":
        male_last = _as_tuple(provider.male_last_names)
        unisex = _as_tuple(provider.unisex_last_names)[:400]
        last = male_last + unisex
        female_last = tuple(_polish_feminine(n) for n in male_last) + unisex
        return female, male, last, female_last
    last = _as_tuple(provider.last_names)
    if country == "VN":
        female, male, last = female + _EXTRA_VI_FEMALE, male + _EXTRA_VI_MALE, last + _EXTRA_VI_LAST
    return female, male, last, last


def _polish_feminine(name: str) -> str:
    for suffix in ("ski", "cki", "dzki"):
        if name.endswith(suffix):
            return name[:-1] + "a"
    return name


@cache
def ascii_slug(text: str, sep: str = ".") -> str:
    """Lower-case ASCII form of a name for e-mail addresses: 'Łukasz Wójcik' -> 'lukasz.wojcik'."""
    text = text.replace("Ł", "L").replace("ł", "l").replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = ["".join(ch for ch in w if ch.isalnum()) for w in kept.lower().split()]
    return sep.join(w for w in words if w)


@cache
def _name_arrays(country: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return tuple(np.array(x, dtype=object) for x in name_lists(country))  # type: ignore[return-value]


def person_names(rng: np.random.Generator, country: str, female: np.ndarray) -> tuple[list[str], list[str]]:
    """(full names, e-mail slugs) of people of one country; family name first in Vietnam."""
    fem, mal, last, fem_last = _name_arrays(country)
    k = len(female)
    given = np.where(female, fem[rng.integers(0, len(fem), k)], mal[rng.integers(0, len(mal), k)])
    family = np.where(female, fem_last[rng.integers(0, len(fem_last), k)], last[rng.integers(0, len(last), k)])
    if country == "VN":
        middle = np.where(female, "Thị", np.array(_VI_MIDDLE, dtype=object)[rng.integers(0, len(_VI_MIDDLE), k)])
        names = [f"{f} {m} {g}" for f, m, g in zip(family, middle, given, strict=True)]
        slugs = [f"{ascii_slug(g)}.{ascii_slug(f)}" for f, g in zip(family, given, strict=True)]
        return names, slugs
    names = [f"{g} {f}" for g, f in zip(given, family, strict=True)]
    slugs = [f"{ascii_slug(g)}.{ascii_slug(f)}" for g, f in zip(given, family, strict=True)]
    return names, slugs


def company_name(rng: np.random.Generator, country: str, marked: bool) -> str:
    """A company's name with a legal form (``marked``) or a bare trade name."""
    _, _, last, _ = name_lists(country)
    family = last[int(rng.integers(0, len(last)))]
    trades = TRADES[country]
    trade = trades[int(rng.integers(0, len(trades)))]
    if not marked:
        return f"{family} {trade}" if country != "VN" else f"{trade} {family}"
    forms = LEGAL_FORMS[country]
    form = forms[int(rng.integers(0, len(forms)))]
    if country == "VN":
        return f"{form} {trade} {family}"
    if form == "GmbH":
        return f"{family} Technik GmbH"
    if form in ("SAS", "SASU") and rng.random() < 0.5:
        return f"{form} {family} {trade}"
    return f"{family} {trade} {form}"


def public_body_name(rng: np.random.Generator, country: str, city: str) -> str:
    """A school, hospital, university, council, ministry... of the country."""
    fem, mal, last, _ = name_lists(country)
    templates = PUBLIC_BODIES[country]
    template = templates[int(rng.integers(0, len(templates)))]
    first = (mal + fem)[int(rng.integers(0, len(mal) + len(fem)))]
    family = last[int(rng.integers(0, len(last)))]
    person = {"VN": f"{family} {first}", "FR": f"{first} {family}"}.get(country, first)
    return template.format(city=city, n=int(rng.integers(1, 60)), person=person)


@cache
def _valid_prefixes(country: str) -> np.ndarray:
    """Mobile prefixes (two or three digits longer than the configured ones) that are valid numbers of the
    country itself (some British ranges belong to Guernsey, Jersey or the Isle of Man)."""
    info = LOCALES[country]
    out = []
    width = 3 if country == "GB" else 2  # the British dependencies' ranges have five-digit prefixes
    for base in info.mobile_prefixes:
        for ext in range(10**width):
            prefix = f"{base}{ext:0{width}d}"
            rest = info.nsn_length - len(prefix)
            ok = True
            for fill in ("0", "5", "9"):
                parsed = phonenumbers.parse(f"+{info.calling_code}{prefix}{fill * rest}")
                if not (phonenumbers.is_valid_number(parsed) and phonenumbers.region_code_for_number(parsed) == country):
                    ok = False
                    break
            if ok:
                out.append(prefix)
    return np.array(out, dtype=object)


def _written(country: str, nsn: str, international: bool) -> str:
    info = LOCALES[country]
    if international:
        return f"+{info.calling_code}{nsn}"
    national = "0" + nsn
    if country == "GB":
        return f"{national[:5]} {national[5:]}"
    if country == "FR":
        return " ".join(national[i:i + 2] for i in range(0, 10, 2))
    if country == "PL":
        return f"{nsn[:3]} {nsn[3:6]} {nsn[6:]}"
    return f"{national[:3]} {national[3:6]} {national[6:]}"


def phone_numbers(rng: np.random.Generator, country: str, international: np.ndarray) -> list[str]:
    """Valid mobile numbers of the country, as E.164 or in the national written style."""
    info = LOCALES[country]
    prefixes = _valid_prefixes(country)
    k = len(international)
    pre = prefixes[rng.integers(0, len(prefixes), k)]
    size = info.nsn_length
    digits = rng.integers(0, 10**size, k)  # padded, then cut to the country's length after the prefix
    return [_written(country, f"{p}{d:0{size}d}"[:size], bool(i)) for p, d, i in zip(pre, digits, international, strict=True)]


def person_emails(rng: np.random.Generator, country: str, slugs: list[str]) -> list[str]:
    """E-mail addresses from people's name slugs (some with underscores or numbers)."""
    info = LOCALES[country]
    k = len(slugs)
    style = rng.integers(0, 4, k)
    number = rng.integers(1, 1000, k)
    domains = np.array(info.email_domains, dtype=object)[rng.integers(0, len(info.email_domains), k)]
    out = []
    for slug, st, num, dom in zip(slugs, style, number, domains, strict=True):
        box = slug.replace(".", "_") if st == 1 else (f"{slug}{num}" if st >= 2 else slug)
        out.append(f"{box}@{dom}")
    return out


def org_email(rng: np.random.Generator, country: str, display: str) -> str:
    """The buyer's own mailbox at an organisation."""
    info = LOCALES[country]
    fem, mal, last, _ = name_lists(country)
    first = (fem + mal)[int(rng.integers(0, len(fem) + len(mal)))]
    box = ascii_slug(f"{first} {last[int(rng.integers(0, len(last)))]}")
    return f"{box}@{ascii_slug(display, sep='')[:24] or 'contact'}.{info.company_domain}"


@lru_cache(maxsize=16)
def address_pool(country: str, seed: int, size: int = 400) -> tuple[str, ...]:
    """Street addresses with postcode from Faker, seeded from the shop's seed (same pool every block)."""
    from faker import Faker

    fake = Faker(LOCALES[country].faker_locale)
    fake.seed_instance(seed * 101 + sum(map(ord, country)))
    return tuple(f"{fake.street_address()}, {fake.postcode()}".replace("\n", ", ") for _ in range(size))
