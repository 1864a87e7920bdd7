"""What every command shares: the settings, the store engine, the console, exit codes, and the options
several commands take (``Annotated`` aliases defined once: ``shop: Shop = DEFAULT_SHOP``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from clientlens.config import Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

console = Console()
err_console = Console(stderr=True)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_REJECTED = 3
EXIT_UNUSABLE = 4  # the exit codes of docs/interfaces.md


@dataclass
class AppContext:
    """Created once per command invocation by the root callback; passed to every command."""

    config_path: str | None = None
    db_option: str | None = None
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    @cached_property
    def settings(self) -> Settings:
        """The configuration, with the store the command runs on (``--db``, else ``CLIENTLENS_DB``, else the
        configured one), so everything that finds files beside the store (the saved model choice) finds them."""
        loaded = load_settings(self.config_path)
        url = self.db_option or self.env.get("CLIENTLENS_DB")
        if url and url != loaded.store.url:
            loaded = loaded.model_copy(update={"store": loaded.store.model_copy(update={"url": url})})
        return loaded

    @property
    def db_url(self) -> str:
        return self.settings.store.url

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


DEFAULT_SHOP = "default"
#: The same as ``shop: Shop = DEFAULT_SHOP``, in the ``typer.Option`` default style.
ShopOption = typer.Option(DEFAULT_SHOP, "--shop", help="Shop whose data to use.")


def add_commands(group: typer.Typer, commands: dict[str, Callable[..., Any]]) -> None:
    """Register module-level command functions on ``group`` under their command names, in order."""
    for name, command in commands.items():
        group.command(name)(command)


@contextmanager
def store_session(ctx: typer.Context) -> Iterator[Session]:
    """A session on the command's store (schema created or upgraded first), committed when it ends."""
    from clientlens.store.db import session_scope

    with session_scope(app_context(ctx).ready_engine()) as session:
        yield session


#: ``--shop NAME`` of every command that works on one shop; write ``shop: Shop = DEFAULT_SHOP``.
Shop = Annotated[str, typer.Option("--shop", help="Shop whose data to use.")]
#: ``--format`` of the commands that print a table or the same data as JSON (default ``table``).
TableOrJson = Annotated[str, typer.Option("--format", help="table or json")]
#: The root's global options (also accepted after the command: ``clientlens status --db URL``).
DbUrl = Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL of the store (or CLIENTLENS_DB).")]
ConfigFile = Annotated[str | None,
                      typer.Option("--config", help="A clientlens.toml overriding the defaults.")]
