"""The ``[web]`` section of the settings, validated into a typed frozen model."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from clientlens.config import Settings


class WebSettings(BaseModel):
    """Thresholds of the web app and API; each is documented in ``defaults.toml`` ``[web]``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default_language: str = "en"
    languages: tuple[str, ...] = ("en", "vi", "pl", "fr")
    session_hours: int = 12
    secure_cookies: Literal["auto", "always", "never"] = "auto"
    login_max_failures: int = 5
    login_window_minutes: int = 15
    login_max_failures_per_address: int = 50
    trusted_proxies: tuple[str, ...] = ()
    page_size: int = 50
    max_page_size: int = 500
    timeline_limit: int = 50
    upload_max_bytes: int = 200_000_000
    upload_dir: str = "uploads"
    count_cache_seconds: float = 60.0
    search_count_limit: int = 10_000


def web_settings(settings: Settings) -> WebSettings:
    """The ``[web]`` section of ``settings`` as a :class:`WebSettings`."""
    return WebSettings.model_validate(settings.web)
