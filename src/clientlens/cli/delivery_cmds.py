"""``clientlens deliveries``: the delivery of agent replies (care.outbound): send what is due, retry."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from clientlens.cli.common import (
    DEFAULT_SHOP,
    Shop,
    TableOrJson,
    add_commands,
    app_context,
    console,
    store_session,
)


def deliveries_retry(ctx: typer.Context, shop: Shop = DEFAULT_SHOP,
                     failed: Annotated[bool, typer.Option(
                         "--failed", help="Also queue again the deliveries failed for good (after fixing the cause).")]
                     = False,
                     outbox: Annotated[str | None, typer.Option(
                         "--outbox", help="Write the replies to this folder instead of the configured senders.")]
                     = None) -> None:
    """Send the queued replies and retry the failed ones whose next attempt is due."""
    from clientlens.care import outbound
    from clientlens.care.config import care_settings
    from clientlens.care.senders import OutboxSender, Sender
    from clientlens.store.repository import get_shop

    settings = app_context(ctx).settings
    if outbox:
        box = OutboxSender(outbox, care_settings(settings).senders.smtp_from)
        senders: dict[str, Sender] = {ch: box for ch in ("email", "sms", "chat", "social")}
    else:
        senders = outbound.reply_senders(settings)
    with store_session(ctx) as s:
        shop_id = get_shop(s, shop).id
        requeued = outbound.requeue_failed(s, shop_id=shop_id) if failed else 0
        try:
            report = outbound.deliver_pending(s, settings, senders, shop_id=shop_id)
        finally:
            outbound.close_senders(senders)
    again = f"{requeued} failed queued again; " if failed else ""
    console.print(f"{again}{len(report.sent)} replies sent, {len(report.retrying)} to retry later, "
                  f"{len(report.failed)} failed (see `clientlens deliveries list`)")


def deliveries_list(ctx: typer.Context, shop: Shop = DEFAULT_SHOP,
                    state: Annotated[str | None, typer.Option(
                        "--state", help="queued, sending, sent, retrying or failed")] = None,
                    limit: Annotated[int, typer.Option("--limit", min=1)] = 50,
                    format: TableOrJson = "table") -> None:
    """The latest deliveries of replies with their state, attempts and reason."""
    import json

    from rich.table import Table
    from sqlalchemy import select

    from clientlens.errors import InputError
    from clientlens.store.delivery_models import DELIVERY_STATES, OutboundDelivery
    from clientlens.store.repository import get_shop

    if state is not None and state not in DELIVERY_STATES:
        raise InputError(f"--state: {state!r} is not one of {', '.join(DELIVERY_STATES)}")
    with store_session(ctx) as s:
        q = select(OutboundDelivery).where(OutboundDelivery.shop_id == get_shop(s, shop).id)
        if state:
            q = q.where(OutboundDelivery.state == state)
        rows: list[dict[str, Any]] = [{"conversation": d.conversation_id, "message_id": d.message_id, "channel": d.channel,
                 "state": d.state, "attempts": d.attempts, "reason": d.reason,
                 "next_attempt_at": d.next_attempt_at.isoformat() if d.next_attempt_at else None,
                 "sent_at": d.sent_at.isoformat() if d.sent_at else None}
                for d in s.scalars(q.order_by(OutboundDelivery.id.desc()).limit(limit))]
    if format == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    table = Table("conversation", "channel", "state", "attempts", "next attempt", "reason")
    for r in rows:
        table.add_row(str(r["conversation"]), str(r["channel"]), str(r["state"]), str(r["attempts"]),
                      str(r["next_attempt_at"] or "-")[:16], str(r["reason"] or "")[:60])
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``deliveries retry|list`` to the root app."""
    group = typer.Typer(help="Delivery of agent replies: send what is due, retry failures, list states.",
                        no_args_is_help=True)
    app.add_typer(group, name="deliveries")
    add_commands(group, {"retry": deliveries_retry, "list": deliveries_list})
