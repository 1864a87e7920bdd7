"""Typed, immutable settings: packaged defaults (``defaults.toml``) + a user's ``clientlens.toml``.

Every threshold and band used by clientlens is documented in ``defaults.toml``; a user's file (or
``--config``) overrides any key. Settings are read once, by the CLI / app / library entry point, and
passed down; nothing deep inside reads the environment.

>>> s = load_settings()
>>> s.ingest.max_amount
1000000000.0
"""

from __future__ import annotations

import tomllib
from datetime import time
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from clientlens.errors import ConfigError

DEFAULT_DB_URL = "sqlite:///clientlens.db"
USER_CONFIG_NAME = "clientlens.toml"


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StoreSettings(_Section):
    url: str = DEFAULT_DB_URL


class IngestSettings(_Section):
    batch_size: int = 50_000
    max_amount: float = 1e9
    max_field_bytes: int = 1_000_000
    max_quantity: float = 1e6
    default_currency: str = "USD"
    quarantine_preview: int = 5
    min_year: int = 1900
    max_year: int = 2200
    binary_control_share: float = 0.05
    read_block_bytes: int = 1 << 20
    lock_wait_seconds: float = 600.0


class ShopSettings(_Section):
    home_country: str | None = None
    currency: str | None = None
    timezone: str = "UTC"
    business_hours_start: time = time(9, 0)
    business_hours_end: time = time(17, 0)
    business_days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0


class IdentitySettings(_Section):
    default_region: str = "US"
    suggest_name_score: float = 90.0
    suggest_address_score: float = 85.0
    max_block_size: int = 200


class FeatureSettings(_Section):
    time_unit: str = "W"
    trend_window_days: int = 90
    spark_shuffle_partitions: int = 8
    spark_master: str = "local[2]"
    # Spark settings passed through to the session as they are (``spark.executor.memory`` ...).
    spark: dict[str, str] = Field(default_factory=dict)

    @field_validator("spark", mode="before")
    @classmethod
    def _spark_settings(cls, value: Any) -> dict[str, str]:
        """``[features.spark]``: quoted ``"spark.x.y" = v`` keys or nested tables, flattened to ``spark.x.y``."""
        if not isinstance(value, dict):
            raise ValueError("[features.spark] must be a table of Spark settings")
        flat: dict[str, str] = {}

        def walk(prefix: str, node: dict[str, Any]) -> None:
            for key, item in node.items():
                name = f"{prefix}.{key}" if prefix else str(key)
                if isinstance(item, dict):
                    walk(name, item)
                else:
                    flat[name] = str(item).lower() if isinstance(item, bool) else str(item)

        walk("", value)
        named = {k if k.startswith("spark.") else f"spark.{k}": v for k, v in flat.items()}
        return named


class Settings(_Section):
    """The whole configuration, one typed section per layer."""

    store: StoreSettings = StoreSettings()
    ingest: IngestSettings = IngestSettings()
    identity: IdentitySettings = IdentitySettings()
    features: FeatureSettings = FeatureSettings()
    shop_defaults: ShopSettings = ShopSettings()
    shops: dict[str, ShopSettings] = Field(default_factory=dict)
    # Sections owned by the higher layers; each layer validates its own section into a typed
    # model (segments.rules.SegmentRules, models.config, care.config, web.config).
    segments: dict[str, Any] = Field(default_factory=dict)
    models: dict[str, Any] = Field(default_factory=dict)
    care: dict[str, Any] = Field(default_factory=dict)
    web: dict[str, Any] = Field(default_factory=dict)
    privacy: dict[str, Any] = Field(default_factory=dict)  # store.erasure.PrivacySettings

    def shop(self, name: str) -> ShopSettings:
        """Settings of one shop: ``[shop_defaults]`` overridden by ``[shops.NAME]``."""
        return self.shops.get(name, self.shop_defaults)


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def default_config_dict() -> dict[str, Any]:
    """The packaged defaults as a plain dict."""
    text = resources.files("clientlens").joinpath("defaults.toml").read_text("utf-8")
    return tomllib.loads(text)


def load_settings(path: str | Path | None = None, *, overrides: dict[str, Any] | None = None,
                  search_cwd: bool = True) -> Settings:
    """Read the defaults, then ``path`` (or ``./clientlens.toml`` if present), then ``overrides``."""
    data = default_config_dict()
    user_path = Path(path) if path else (Path(USER_CONFIG_NAME) if search_cwd else None)
    if path and not Path(path).exists():
        raise ConfigError(f"config file {path} does not exist")
    if user_path is not None and user_path.exists():
        try:
            data = _deep_merge(data, tomllib.loads(user_path.read_text("utf-8")))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{user_path}: not valid TOML: {exc}") from exc
    if overrides:
        data = _deep_merge(data, overrides)
    defaults = data.get("shop_defaults", {})
    data["shops"] = {name: _deep_merge(defaults, shop) for name, shop in data.get("shops", {}).items()}
    try:
        return Settings.model_validate(data)
    except Exception as exc:  # pydantic's error names the key
        raise ConfigError(f"invalid configuration: {exc}") from exc


def get_settings(path: str | Path | None = None) -> Settings:
    """Entry points call this once and pass the result down."""
    return load_settings(path)
