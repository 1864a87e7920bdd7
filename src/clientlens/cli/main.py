"""Root of the ``clientlens`` command: global options, error handling, and the command groups."""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Annotated

import typer
from rich.markup import escape
from typer.core import TyperGroup

from clientlens import __version__
from clientlens.cli.common import EXIT_ERROR, AppContext, ConfigFile, DbUrl, err_console
from clientlens.errors import ClientlensError

# One module per command group; each defines ``register(app)``.
COMMAND_MODULES = (
    "clientlens.cli.store_cmds",   # init, status
    "clientlens.cli.merge_cmds",   # merges list|suggested|accept|undo|reject|separate
    "clientlens.cli.ingest_cmds",  # import
    "clientlens.cli.data_cmds",    # generate
    "clientlens.cli.demo_cmds",    # demo
    "clientlens.cli.analyze_cmds",  # analyze, segments, flows, customer, export, evaluate
    "clientlens.cli.model_cmds",   # validate
    "clientlens.cli.snapshot_cmds",  # snapshots list|delete
    "clientlens.cli.care_cmds",    # inbox, sla, nps, actions, audit, campaign, unsubscribe
    "clientlens.cli.canned_cmds",  # canned list|add|edit|delete, suggest, csat
    "clientlens.cli.delivery_cmds",  # deliveries retry|list
    "clientlens.cli.web_cmds",     # serve, users, tokens
)


#: Options of the root that may also be written after the command (``clientlens status --db URL``).
GLOBAL_OPTIONS = ("--db", "--config")


class _GlobalOptionsGroup(TyperGroup):
    """A root group that accepts its global options anywhere on the line, as users write them."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        front: list[str] = []
        rest: list[str] = []
        i = 0
        while i < len(args):
            arg = args[i]
            if arg == "--":
                rest.extend(args[i:])
                break
            name = arg.split("=", 1)[0]
            if name in GLOBAL_OPTIONS:
                if "=" in arg:
                    front.append(arg)
                else:
                    front.extend(args[i:i + 2])
                    i += 1
            else:
                rest.append(arg)
            i += 1
        return super().parse_args(ctx, front + rest)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"clientlens {__version__}")
        raise typer.Exit()


# The global options, read once per invocation into the AppContext every command uses. No docstring:
# a callback's docstring would replace the help of the root app.
def root(
    ctx: typer.Context,
    db: DbUrl = None,
    config: ConfigFile = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True)] = False,
) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = AppContext(config_path=config, db_option=db)


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="clientlens",
        help="Know and look after your customers: import, classify, predict, care.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        cls=_GlobalOptionsGroup,
    )
    app.callback()(root)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)
    return app


def run() -> None:
    """Console-script entry point: map clientlens errors to their exit codes (docs/interfaces.md)."""
    app = build_app()
    try:
        app()
    except ClientlensError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)  # "[spark]" kept
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(EXIT_ERROR)
