"""Canned replies and what is built on them: ``canned list|add|edit|delete``, ``suggest ID`` (the
suggested reply of a conversation) and ``csat`` (the CSAT report). Thin callers of
:mod:`clientlens.service.canned`, as the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from clientlens.cli.common import (
    DEFAULT_SHOP,
    Shop,
    TableOrJson,
    add_commands,
    app_context,
    console,
    store_session,
)

ReplyId = Annotated[int, typer.Argument(metavar="ID")]
Language = Annotated[str | None, typer.Option("--language", help="en, vi, pl, fr ...")]
Topic = Annotated[str | None, typer.Option("--topic", help="a triage topic (order_status, complaint ...)")]
Name = Annotated[str | None, typer.Option("--name")]
Body = Annotated[str | None, typer.Option("--body", help="the reply (a Jinja2 template)")]
BodyFile = Annotated[Path | None, typer.Option("--body-file", help="read the body from this file (UTF-8)")]
Priority = Annotated[int | None, typer.Option("--priority", help="the highest active one is suggested")]


def _shop(s, name: str):  # type: ignore[no-untyped-def]
    from clientlens.store.repository import get_shop

    return get_shop(s, name)


def _body(body: str | None, body_file: Path | None) -> str | None:
    if body_file is not None:
        try:
            return body_file.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise typer.BadParameter(f"--body-file {body_file}: {exc}") from exc
    return body


def _print_json(rows: list) -> None:  # type: ignore[type-arg]
    console.print_json(json.dumps([r.model_dump(mode="json") for r in rows], ensure_ascii=False))


def canned_list(ctx: typer.Context, shop: Shop = DEFAULT_SHOP, language: Language = None, topic: Topic = None,
                own_only: Annotated[bool, typer.Option("--own", help="the shop's own replies only")] = False,
                format: TableOrJson = "table") -> None:
    """The shop's canned replies (and the packaged defaults of the pairs it has none for)."""
    from clientlens.service import canned

    with store_session(ctx) as s:
        rows = canned.list_replies(s, _shop(s, shop), language=language, topic=topic, include_defaults=not own_only)
    if format == "json":
        _print_json(rows)
        return
    table = Table("id", "language", "topic", "name", "priority", "active", "start of the body")
    for r in rows:
        table.add_row("default" if r.id is None else str(r.id), r.language, r.topic, r.name, str(r.priority),
                      "yes" if r.active else "no", r.body.strip().replace("\n", " ")[:50])
    console.print(table)


def canned_add(ctx: typer.Context, shop: Shop = DEFAULT_SHOP, language: Language = None, topic: Topic = None,
               name: Name = None, body: Body = None, body_file: BodyFile = None, priority: Priority = None) -> None:
    """Add a canned reply for a language and topic."""
    from clientlens.service import canned

    text = _body(body, body_file)
    if not (language and topic and name and text):
        raise typer.BadParameter("--language, --topic, --name and --body (or --body-file) are required")
    req = canned.CannedReplyCreate(language=language, topic=topic, name=name, body=text,  # type: ignore[arg-type]
                                   priority=priority or 0)
    with store_session(ctx) as s:
        out = canned.create_reply(s, _shop(s, shop), req, actor="cli")
    console.print(f"canned reply {out.id} added ({out.language} / {out.topic}: {out.name})")


def canned_edit(ctx: typer.Context, reply_id: ReplyId, shop: Shop = DEFAULT_SHOP, language: Language = None,
                topic: Topic = None, name: Name = None, body: Body = None, body_file: BodyFile = None,
                priority: Priority = None,
                active: Annotated[bool | None, typer.Option("--active/--inactive")] = None) -> None:
    """Change a canned reply."""
    from clientlens.service import canned

    fields: dict[str, Any] = {k: v for k, v in {"language": language, "topic": topic, "name": name, "body": _body(body, body_file),
                                "priority": priority, "active": active}.items() if v is not None}
    with store_session(ctx) as s:
        out = canned.update_reply(s, _shop(s, shop), reply_id, canned.CannedReplyUpdate(**fields), actor="cli")
    console.print(f"canned reply {out.id} updated")


def canned_delete(ctx: typer.Context, reply_id: ReplyId, shop: Shop = DEFAULT_SHOP) -> None:
    """Delete a canned reply (the packaged default of its pair applies again when it was the last one)."""
    from clientlens.service import canned

    with store_session(ctx) as s:
        canned.delete_reply(s, _shop(s, shop), reply_id, actor="cli")
    console.print(f"canned reply {reply_id} deleted")


def suggest(ctx: typer.Context, conversation_id: ReplyId, shop: Shop = DEFAULT_SHOP,
            agent: Annotated[str, typer.Option("--agent", help="the name the reply is signed with")] = "agent",
            format: TableOrJson = "table") -> None:
    """The suggested reply of a conversation, personalised for its customer."""
    from clientlens.service import canned

    with store_session(ctx) as s:
        r = canned.suggested(s, app_context(ctx).settings, _shop(s, shop), conversation_id, agent=agent)
    if format == "json":
        console.print_json(json.dumps(r.model_dump(mode="json"), ensure_ascii=False))
        return
    console.print(f"[bold]{r.name}[/] ({r.language} / {r.topic}; order {r.order_id or '-'}, "
                  f"offer {r.offer_action or '-'})", highlight=False)
    console.print(r.body, markup=False, highlight=False)


def csat(ctx: typer.Context, shop: Shop = DEFAULT_SHOP,
         by: Annotated[str, typer.Option("--by", help="agent, channel, topic, segment or month")] = "month",
         taxonomy: Annotated[str | None, typer.Option("--taxonomy")] = None, format: TableOrJson = "table") -> None:
    """CSAT (1-5): responses, mean, % satisfied (4-5) and unhappy answers by agent, channel, topic, segment
    or month."""
    from clientlens.service import canned

    with store_session(ctx) as s:
        rows = canned.csat(s, app_context(ctx).settings, _shop(s, shop), by=by, taxonomy=taxonomy)
    if format == "json":
        _print_json(rows)
        return
    table = Table(by, "responses", "mean", "CSAT %", "unhappy")
    for r in rows:
        table.add_row(r.group, str(r.responses), "-" if r.mean is None else f"{r.mean:.2f}",
                      "-" if r.csat is None else f"{r.csat:.1f}", str(r.unhappy))
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``canned``, ``suggest`` and ``csat`` to the root app."""
    canned_app = typer.Typer(help="Canned replies per language and topic.", no_args_is_help=True)
    app.add_typer(canned_app, name="canned")
    add_commands(canned_app, {"list": canned_list, "add": canned_add, "edit": canned_edit, "delete": canned_delete})
    add_commands(app, {"suggest": suggest, "csat": csat})
