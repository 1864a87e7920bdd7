"""Finding people by name, accent- and case-insensitively, through an index instead of a scan.

Each word of a customer's name is folded (diacritics removed, ``ł`` -> ``l``, ``đ`` -> ``d``, ``ß`` -> ``ss``,
lower case) and kept in ``customer_search_terms`` (shop, term, customer). A query matches the customers
having, for every word of the query, a term that starts with it: "ngoc" finds "Nguyễn Thị Ngọc",
"zielinska" finds "Zielińska", "anna kow" finds "Anna Kowalska". Each word is an index range scan
(terms compare bytewise: SQLite's default collation, "C" on PostgreSQL), so it stays fast at 1M customers.

>>> fold("Nguyễn Thị Ngọc"), fold("ZIELIŃSKA-Łukasik"), fold("Straße Øster")
('nguyen thi ngoc', 'zielinska lukasik', 'strasse oster')
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, exists, func, insert, select

from clientlens.store import models as m

# Letters that Unicode does not decompose into a base letter and a mark.
_SPECIAL = str.maketrans({"ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "ø": "o", "Ø": "o", "ß": "ss", "æ": "ae",
                          "Æ": "ae", "œ": "oe", "Œ": "oe", "ı": "i", "þ": "th", "ð": "d"})
_NOT_WORD = re.compile(r"[^0-9a-z]+")
#: Longest term kept (longer words are cut; a query word is cut the same way).
TERM_LENGTH = 40
#: Above every character a folded term holds ([0-9a-z]): the upper end of a prefix range.
_ABOVE = "{"
TERMS = cast(Table, m.CustomerSearchTerm.__table__)


def fold(text: str | None) -> str:
    """``text`` lower-cased, without diacritics, words separated by single spaces."""
    if not text:
        return ""
    plain = unicodedata.normalize("NFKD", str(text).translate(_SPECIAL))
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch)).lower()
    return " ".join(_NOT_WORD.sub(" ", plain).split())


def terms(text: str | None) -> set[str]:
    """The distinct folded words of ``text`` (cut to ``TERM_LENGTH``)."""
    return {w[:TERM_LENGTH] for w in fold(text).split()}


def index_names(conn: Connection, shop_id: int, names: Iterable[tuple[int, str | None]]) -> int:
    """(Re)write the search terms of the customers ``(customer id, name)``; returns how many terms."""
    rows = list(names)
    if not rows:
        return 0
    ids = [cid for cid, _ in rows]
    for i in range(0, len(ids), 900):
        conn.execute(delete(TERMS).where(TERMS.c.customer_id.in_(ids[i:i + 900])))
    values = [{"shop_id": shop_id, "term": t, "customer_id": cid} for cid, name in rows for t in sorted(terms(name))]
    for i in range(0, len(values), 20_000):
        conn.execute(insert(TERMS), values[i:i + 20_000])
    return len(values)


def query_words(query: str | None) -> list[str]:
    """The folded words of a search (each matched as a prefix), longest first: the longest word is the
    most selective, so its matches are the candidates the other words are checked against."""
    return sorted((w[:TERM_LENGTH] for w in fold(query).split()), key=lambda w: (-len(w), w))


#: A word matching more customers than this is as unselective as any other such word.
PROBE_LIMIT = 1000


def most_selective_first(conn: Connection, shop_name: str, words: list[str]) -> list[str]:
    """``words`` ordered by how many customers of the shop each matches (counted up to ``PROBE_LIMIT``, each
    an index range scan of at most that many rows), so the candidates are those of the rarest word."""
    if len(words) < 2:
        return words
    shops = m.Shop.__table__
    counts = {}
    for w in set(words):
        probe = (select(TERMS.c.customer_id).join(shops, shops.c.id == TERMS.c.shop_id)
                 .where(shops.c.name == shop_name, TERMS.c.term >= w, TERMS.c.term < w + _ABOVE)
                 .limit(PROBE_LIMIT + 1).subquery())
        counts[w] = conn.execute(select(func.count()).select_from(probe)).scalar_one()
    return sorted(words, key=lambda w: (counts[w], -len(w), w))


def name_matches(shop_id: Any, words: list[Any]) -> Any:
    """The ids of the customers having, for each of ``words`` (bound values, the most selective first), a term
    starting with it: an index range scan for the first word, then an index lookup per candidate for the others."""
    first = TERMS.alias("term_0")
    query = select(first.c.customer_id).where(first.c.shop_id == shop_id, first.c.term >= words[0],
                                              first.c.term < words[0] + _ABOVE)
    for i, w in enumerate(words[1:], start=1):
        other = TERMS.alias(f"term_{i}")
        query = query.where(exists(select(other.c.customer_id).where(
            other.c.customer_id == first.c.customer_id, other.c.term >= w, other.c.term < w + _ABOVE)))
    return query
