"""Message templates (Jinja2), one file per template and language: ``templates/<lang>/<name>.txt.j2``.

The rendered text's first paragraph is the subject, the rest the body. English, Vietnamese, Polish
and French ship with the package; a campaign may add a folder of its own (searched first). The
customer's language is tried first, then ``[care] language_fallback`` in order.

>>> r = TemplateRenderer(("en",))
>>> r.render("promotion", "fr-FR", {"first_name": "Zoé", "shop": "Boutique", "discount": 10,
...          "unsubscribe_url": "u", "offer_valid_until": None}).subject
'Une petite attention pour votre prochaine commande'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateNotFound,
    pass_context,
)
from jinja2.runtime import Context

from clientlens.errors import CareError

SHIPPED_LANGUAGES = ("en", "vi", "pl", "fr")


def primary_language(language: str | None) -> str | None:
    """``pl-PL`` / ``fr_FR`` / ``VI`` -> ``pl`` / ``fr`` / ``vi``."""
    if not language:
        return None
    return language.replace("_", "-").split("-")[0].strip().lower() or None


def long_date(value: date | datetime | None, language: str | None) -> str:
    """``value`` as the language writes a date in full ("2 décembre 2026"); "" for None."""
    if value is None:
        return ""
    from babel.dates import format_date

    return str(format_date(value.date() if isinstance(value, datetime) else value, format="long",
                           locale=language or "en"))


@pass_context
def _longdate(ctx: Context, value: date | None) -> str:
    return long_date(value, ctx.get("language"))


@dataclass(frozen=True)
class Rendered:
    template: str
    language: str
    subject: str
    body: str


class TemplateRenderer:
    """Render message templates per language with a fallback order."""

    def __init__(self, fallback: tuple[str, ...] | list[str] = ("en",), extra_dir: str | Path | None = None):
        self.fallback = tuple(fallback)
        self.extra_dir = extra_dir
        loaders: list[Any] = []
        if extra_dir is not None:
            loaders.append(FileSystemLoader(str(extra_dir)))
        loaders.append(PackageLoader("clientlens.care", "templates"))
        self._env = Environment(loader=ChoiceLoader(loaders), undefined=StrictUndefined,
                                autoescape=False, keep_trailing_newline=False)
        self._env.filters["longdate"] = _longdate

    def languages_for(self, language: str | None) -> list[str]:
        """The customer's language, then the fallback order, without repeats."""
        out: list[str] = []
        for lang in (primary_language(language), *self.fallback):
            if lang and lang not in out:
                out.append(lang)
        return out

    def resolve_language(self, name: str, language: str | None) -> str:
        """The first language of the fallback chain that has template ``name``."""
        for lang in self.languages_for(language):
            try:
                self._env.get_template(f"{lang}/{name}.txt.j2")
                return lang
            except TemplateNotFound:
                continue
        raise CareError(f"template {name!r} exists in none of {self.languages_for(language)} "
                        f"(looked in {self.extra_dir or ''} and the packaged templates)")

    def render(self, name: str, language: str | None, context: dict[str, Any]) -> Rendered:
        """Render template ``name`` in the customer's language (or the first fallback that has it)."""
        lang = self.resolve_language(name, language)
        try:
            text = self._env.get_template(f"{lang}/{name}.txt.j2").render({**context, "language": lang})
        except Exception as exc:
            raise CareError(f"template {lang}/{name}.txt.j2 failed to render: {exc}") from exc
        subject, _, body = text.strip().partition("\n\n")
        return Rendered(name, lang, subject.strip(), body.strip() + "\n")
