"""What every command shares: the settings, the store engine, the console, and exit codes."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from clientlens.config import Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

console = Console()
err_console = Console(stderr=True)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_REJECTED = 3
EXIT_UNUSABLE = 4


@dataclass
class AppContext:
    """Created once per command invocation by the root callback; passed to every command."""

    config_path: str | None = None
    db_option: str | None = None
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.config_path)

    @property
    def db_url(self) -> str:
        return self.db_option or self.env.get("CLIENTLENS_DB") or self.settings.store.url

    @cached_property
    def engine(self) -> Engine:
        from clientlens.store.db import make_engine

        return make_engine(self.db_url)

    def ready_engine(self) -> Engine:
        """The engine, with the schema created or upgraded if needed."""
        from clientlens.store.db import ensure_schema

        ensure_schema(self.engine)
        return self.engine


def app_context(ctx: typer.Context) -> AppContext:
    root = ctx.find_root()
    if not isinstance(root.obj, AppContext):
        root.obj = AppContext()
    return root.obj


ShopOption = typer.Option("default", "--shop", help="Shop whose data to use.")
