"""``clientlens serve``, ``clientlens users add|list|role`` and ``clientlens tokens create|list|revoke``."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from clientlens.cli.common import AppContext, add_commands, app_context, console, store_session
from clientlens.errors import ConfigError

ROLE_HELP = "admin, analyst or agent (see docs/api.md for what each may do)"
_WORKER_DB, _WORKER_CONFIG = "CLIENTLENS_SERVE_DB", "CLIENTLENS_SERVE_CONFIG"

# No access log (its lines hold query strings, which may carry e-mails or names) and no
# X-Forwarded-For rewriting by uvicorn: the app believes that header only from [web] trusted_proxies.
SERVER_OPTIONS: dict[str, Any] = {"access_log": False, "proxy_headers": False}

Role = Annotated[str, typer.Option("--role", help=ROLE_HELP)]


def worker_app() -> Any:
    """The app of one ``clientlens serve --workers N`` process (uvicorn calls this in each worker)."""
    from clientlens.app import server_app
    from clientlens.config import load_settings

    return server_app(load_settings(os.environ.get(_WORKER_CONFIG) or None), os.environ[_WORKER_DB])


def serve(ctx: typer.Context,
          host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
          workers: Annotated[int, typer.Option("--workers",
                                               help="Worker processes (PostgreSQL stores).")] = 1,
          log_level: Annotated[str, typer.Option("--log-level")] = "info") -> None:
    """Run the web app and the REST API (uvicorn)."""
    import uvicorn

    from clientlens.app import server_app

    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, not {workers}")
    actx = app_context(ctx)
    actx.ready_engine()  # create or upgrade the schema first
    console.print(f"clientlens on http://{host}:{port}  (API: /api/v1, OpenAPI: /api/v1/openapi.json)"
                  + (f", {workers} worker processes" if workers > 1 else ""))
    if workers > 1:
        _serve_workers(actx, host, port, workers, log_level)
        return
    uvicorn.run(server_app(actx.settings, actx.db_url), host=host, port=port, log_level=log_level,
                **SERVER_OPTIONS)


def _serve_workers(actx: AppContext, host: str, port: int, workers: int, log_level: str) -> None:
    """Each worker process builds its own app and engine from the same config and store."""
    import uvicorn

    if actx.db_url.startswith("sqlite"):
        console.print("[yellow]several workers on a SQLite store take turns to write; "
                      "PostgreSQL is the store for them[/yellow]")
    os.environ[_WORKER_DB] = actx.db_url
    if actx.config_path:
        os.environ[_WORKER_CONFIG] = str(Path(actx.config_path).resolve())
    uvicorn.run(f"{__name__}:worker_app", factory=True, workers=workers, host=host, port=port,
                log_level=log_level, **SERVER_OPTIONS)


def users_add(ctx: typer.Context, name: Annotated[str, typer.Argument(help="User name.")], role: Role,
              password_stdin: Annotated[bool, typer.Option(
                  "--password-stdin", help="Read the password from standard input.")] = False) -> None:
    """Create a user (or reset the password and role of an existing one)."""
    from clientlens.service.auth import add_user, check_role

    check_role(role)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise ConfigError("empty password (give it on standard input with --password-stdin)")
    with store_session(ctx) as s:
        add_user(s, name, role, password, actor="cli")
    console.print(f"user {name} ({role}) saved")


def users_list(ctx: typer.Context) -> None:
    """List users and their roles."""
    from clientlens.service import auth

    table = Table("name", "role", "active", "last login")
    with store_session(ctx) as s:
        for u in auth.list_users(s):
            table.add_row(u.name, u.role, "yes" if u.active else "no", str(u.last_login_at or "-"))
    console.print(table)


def users_role(ctx: typer.Context, name: Annotated[str, typer.Argument()], role: Role) -> None:
    """Change a user's role (audited)."""
    from clientlens.service.auth import set_role

    with store_session(ctx) as s:
        set_role(s, name, role, actor="cli")
    console.print(f"user {name} is now {role}")


def tokens_create(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Name of the integration.")],
                  role: Role) -> None:
    """Create a bearer token; it is printed once and stored only as a hash."""
    from clientlens.service.auth import create_token

    with store_session(ctx) as s:
        token = create_token(s, name, role, actor="cli")
    console.print(f"token for {name} ({role}); shown only now:", highlight=False)
    typer.echo(token)


def tokens_list(ctx: typer.Context) -> None:
    """List tokens (never their secrets)."""
    from clientlens.service import auth

    table = Table("id", "name", "role", "prefix", "created", "revoked")
    with store_session(ctx) as s:
        for t in auth.list_tokens(s):
            table.add_row(str(t.id), t.name, t.role, t.prefix + "…", str(t.created_at),
                          str(t.revoked_at or "-"))
    console.print(table)


def tokens_revoke(ctx: typer.Context, token_id: Annotated[int, typer.Argument()]) -> None:
    """Revoke a token by its id."""
    from clientlens.service.auth import revoke_token

    with store_session(ctx) as s:
        revoke_token(s, token_id, actor="cli")
    console.print(f"token {token_id} revoked")


def register(app: typer.Typer) -> None:
    """Add serve, users and tokens to the root app."""
    app.command("serve")(serve)
    users = typer.Typer(help="Users of the web app.", no_args_is_help=True)
    tokens = typer.Typer(help="API tokens for integrations.", no_args_is_help=True)
    app.add_typer(users, name="users")
    app.add_typer(tokens, name="tokens")
    add_commands(users, {"add": users_add, "list": users_list, "role": users_role})
    add_commands(tokens, {"create": tokens_create, "list": tokens_list, "revoke": tokens_revoke})
