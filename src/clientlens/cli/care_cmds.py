"""Care commands: ``inbox``, ``sla``, ``nps``, ``actions``, ``audit``, ``campaign preview|send FILE``,
``unsubscribe``. Thin callers of :mod:`clientlens.care` (and of :mod:`clientlens.service` where the API
does the same)."""

from __future__ import annotations

import dataclasses
import json
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

ConversationId = Annotated[int, typer.Argument(metavar="ID")]
CampaignFile = Annotated[str, typer.Argument(metavar="FILE")]
Taxonomy = Annotated[str | None, typer.Option("--taxonomy")]
Customer = Annotated[str | None, typer.Option("--customer")]
Limit = Annotated[int, typer.Option("--limit")]


def _json(obj: Any) -> None:
    def plain(o: Any) -> Any:
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            return {k: plain(v) for k, v in dataclasses.asdict(o).items()}
        if hasattr(o, "model_dump"):  # the service's schemas
            return plain(o.model_dump())
        if isinstance(o, dict):
            return {str(k): plain(v) for k, v in o.items()}
        if isinstance(o, list | tuple):
            return [plain(v) for v in o]
        return o

    typer.echo(json.dumps(plain(obj), indent=2, default=str, ensure_ascii=False))


def _page(rows: list[Any]) -> None:
    _json({"data": rows, "count": len(rows)})


def _fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _percent(share: float | None) -> str:
    return _fmt(None if share is None else 100 * share, 1) + "%"


def _conv_row(c: Any) -> dict[str, Any]:
    return {"id": c.id, "customer_id": c.customer_id, "channel": c.channel, "status": c.status,
            "priority": c.priority, "assignee": c.assignee, "subject": c.subject, "opened_at": c.opened_at,
            "first_response_due": c.first_response_due, "first_response_at": c.first_response_at,
            "resolution_due": c.resolution_due, "resolved_at": c.resolved_at,
            "priority_reason": c.priority_reason}


def _senders(care: Any, outbox: str | None) -> dict[str, Any]:
    """The senders of ``--outbox DIR`` (messages written to files) or, without it, the configured ones."""
    from clientlens.care.senders import OutboxSender, build_senders

    if outbox:
        return {ch: OutboxSender(outbox, care.senders.smtp_from) for ch in ("email", "sms", "chat")}
    return build_senders(care)


def _close(senders: dict[str, Any]) -> None:
    for sender in senders.values():
        close = getattr(sender, "close", None)
        if close:
            close()


# -- inbox ------------------------------------------------------------------------------------------------

def inbox(ctx: typer.Context, shop: Shop = DEFAULT_SHOP,
          status: Annotated[str | None, typer.Option("--status")] = None,
          assignee: Annotated[str | None, typer.Option("--assignee")] = None,
          all_: Annotated[bool, typer.Option("--all", help="Include resolved.")] = False,
          limit: Limit = 50,
          sync: Annotated[bool, typer.Option("--sync/--no-sync",
                                             help="Group new interactions first.")] = True,
          format: TableOrJson = "table") -> None:
    """List conversations, highest priority and earliest due first (`inbox reply|assign|resolve` act)."""
    if ctx.invoked_subcommand is not None:
        return
    from clientlens.care import inbox as svc

    with store_session(ctx) as s:
        if sync:
            svc.sync_conversations(s, shop, app_context(ctx).settings)
        rows = [_conv_row(c) for c in svc.list_conversations(s, shop, status=status, assignee=assignee,
                                                             include_resolved=all_, limit=limit)]
    if format == "json":
        _page(rows)
        return
    table = Table("id", "channel", "status", "prio", "assignee", "subject", "first response due",
                  "resolution due")
    for r in rows:
        table.add_row(str(r["id"]), r["channel"], r["status"], str(r["priority"]), r["assignee"] or "-",
                      (r["subject"] or "")[:40], str(r["first_response_due"] or "-")[:16],
                      str(r["resolution_due"] or "-")[:16])
    console.print(table)


def inbox_reply(ctx: typer.Context, conversation: ConversationId,
                body: Annotated[str, typer.Argument(metavar="TEXT")],
                agent: Annotated[str, typer.Option("--agent")], shop: Shop = DEFAULT_SHOP) -> None:
    """Answer a conversation (an outbound message on its channel), then send it (care.outbound)."""
    from clientlens.care import inbox as svc
    from clientlens.care import outbound
    from clientlens.care.config import care_settings

    settings = app_context(ctx).settings
    with store_session(ctx) as s:
        inter = svc.reply(s, shop, conversation, body, agent=agent, settings=settings)
        s.commit()
        console.print(f"replied to conversation {conversation} (interaction {inter.external_id})")
        delivery = outbound.delivery_of(s, inter.id)
        if care_settings(settings).outbound.send_on_reply and delivery.state == "queued":
            outbound.send_now(s, settings, [delivery.id])
            s.refresh(delivery)
        reason = f": {delivery.reason}" if delivery.reason and delivery.state != "sent" else ""
        console.print(f"delivery {delivery.state}{reason}")


def inbox_assign(ctx: typer.Context, conversation: ConversationId,
                 agent: Annotated[str, typer.Argument(metavar="AGENT")], shop: Shop = DEFAULT_SHOP) -> None:
    """Give a conversation to an agent."""
    from clientlens.care import inbox as svc

    with store_session(ctx) as s:
        svc.assign(s, shop, conversation, agent)
    console.print(f"conversation {conversation} assigned to {agent}")


def inbox_resolve(ctx: typer.Context, conversation: ConversationId, shop: Shop = DEFAULT_SHOP) -> None:
    """Resolve a conversation (queues a satisfaction survey, at most one per customer per N days)."""
    from clientlens.care import inbox as svc

    with store_session(ctx) as s:
        _, survey = svc.resolve(s, shop, conversation, settings=app_context(ctx).settings)
    queued = f"; {survey.kind} survey queued" if survey else ""
    console.print(f"conversation {conversation} resolved{queued}")


def inbox_surveys(ctx: typer.Context, shop: Shop = DEFAULT_SHOP,
                  outbox: Annotated[str | None, typer.Option(
                      "--outbox", help="Write the surveys to this folder instead.")] = None) -> None:
    """Record numeric replies to surveys already sent, then send the queued surveys."""
    from clientlens.care.config import care_settings
    from clientlens.care.surveys import process_survey_replies, send_queued_surveys

    actx = app_context(ctx)
    care = care_settings(actx.settings)
    with store_session(ctx) as s:
        answers = process_survey_replies(s, shop, actx.settings)
    senders = _senders(care, outbox)
    report = send_queued_surveys(actx.ready_engine(), shop, actx.settings, senders)
    console.print(f"{len(answers)} survey answers recorded; {report.sent} surveys sent, "
                  f"{report.not_sent} waiting (no consent, quiet hours or capping)")


# -- reports ----------------------------------------------------------------------------------------------

def sla(ctx: typer.Context, shop: Shop = DEFAULT_SHOP,
        by: Annotated[str, typer.Option("--by", help="channel, agent or label")] = "channel",
        taxonomy: Annotated[str | None, typer.Option(
            "--taxonomy", help="Taxonomy for --by label ([care] metrics_taxonomy).")] = None,
        format: TableOrJson = "table") -> None:
    """SLA metrics (median / p90 business hours, attainment) and the breaches and near-breaches."""
    from clientlens.care import inbox as svc
    from clientlens.care import sla as sla_svc
    from clientlens.care.config import care_settings
    from clientlens.store.repository import get_shop, utcnow

    settings, now = app_context(ctx).settings, utcnow()
    with store_session(ctx) as s:
        svc.sync_conversations(s, shop, settings, now=now)
        shop_id = get_shop(s, shop).id
        care, shop_settings = care_settings(settings), settings.shop(shop)
        metrics = sla_svc.sla_metrics(s, shop_id, shop_settings, care, now, by=by, taxonomy=taxonomy)
        items = sla_svc.sla_items(s, shop_id, shop_settings, care, now)
    if format == "json":
        _json({"metrics": metrics, "breaches": [i for i in items if i.state == "breached"],
               "near_breaches": [i for i in items if i.state == "near_breach"]})
        return
    console.print(_sla_table(by, metrics))
    _print_sla_items(items)


def _sla_table(by: str, metrics: list[Any]) -> Table:
    table = Table(by, "conversations", "1st resp. median h", "1st resp. p90 h", "resolution median h",
                  "resolution p90 h", "1st resp. SLA met", "resolution SLA met")
    for r in metrics:
        table.add_row(r.group, str(r.conversations), _fmt(r.first_response_median),
                      _fmt(r.first_response_p90), _fmt(r.resolution_median), _fmt(r.resolution_p90),
                      _percent(r.first_response_attainment), _percent(r.resolution_attainment))
    return table


def _print_sla_items(items: list[Any]) -> None:
    open_items = sorted(items, key=lambda i: (i.state != "near_breach", -i.due.timestamp()))  # newest first
    console.print(f"{sum(i.state == 'breached' for i in items)} breached clocks, "
                  f"{sum(i.state == 'near_breach' for i in items)} near breach")
    for i in open_items[:20]:
        console.print(f"  #{i.conversation_id} {i.channel} {i.kind} {i.state}: due {i.due:%Y-%m-%d %H:%M}, "
                      f"{i.elapsed_hours:.1f} of {i.target_hours:.1f} business hours")


def nps(ctx: typer.Context, shop: Shop = DEFAULT_SHOP,
        by: Annotated[str, typer.Option("--by", help="label, channel or month")] = "label",
        taxonomy: Taxonomy = None, format: TableOrJson = "table") -> None:
    """Net Promoter Score (% promoters - % detractors) by label, channel or month."""
    from clientlens.care.feedback import nps_report
    from clientlens.store.repository import get_shop

    with store_session(ctx) as s:
        rows = nps_report(s, get_shop(s, shop).id, app_context(ctx).settings, by=by, taxonomy=taxonomy)
    if format == "json":
        _page(rows)
        return
    table = Table(by, "responses", "promoters", "passives", "detractors", "NPS")
    for r in rows:
        table.add_row(r.group, str(r.responses), str(r.promoters), str(r.passives), str(r.detractors),
                      _fmt(r.nps, 1))
    console.print(table)


def actions(ctx: typer.Context, shop: Shop = DEFAULT_SHOP, customer: Customer = None, limit: Limit = 50,
            format: TableOrJson = "table") -> None:
    """The next best action per customer from the playbook, with its reason."""
    rows = _customer_actions(ctx, shop, customer) if customer else _top_actions(ctx, shop, limit)
    if format == "json":
        _page(rows)
        return
    table = Table("customer", "action", "rule", "reason")
    for a in rows:
        table.add_row(a.customer_id, a.action, a.rule_id, a.reason)
    console.print(table)
    if customer and not rows:
        console.print(f"no playbook rule applies to customer {customer}")


def _customer_actions(ctx: typer.Context, shop: str, customer: str) -> list[Any]:
    """Every action the playbook gives one customer, first the one to do."""
    from clientlens.care.playbooks import next_best_actions

    with store_session(ctx) as s:
        acts = next_best_actions(s, shop, app_context(ctx).settings, customer_ids=[customer])
    return acts.get(customer, [])


def _top_actions(ctx: typer.Context, shop: str, limit: int) -> list[Any]:
    """The first action of each customer, highest priority first (the API's ``/actions``)."""
    from clientlens.service.customer360 import actions as service_actions
    from clientlens.store.repository import get_shop

    with store_session(ctx) as s:
        page = service_actions(s, app_context(ctx).settings, get_shop(s, shop), limit=limit, offset=0)
    return list(page.data)


def audit(ctx: typer.Context, shop: Shop = DEFAULT_SHOP,
          customer: Annotated[str | None, typer.Option(
              "--customer", help="Show this customer's timeline instead.")] = None,
          format: TableOrJson = "table") -> None:
    """Customers whose relationship worsened since the previous snapshot, with what changed."""
    if customer:
        _timeline(ctx, shop, customer, format)
        return
    from clientlens.care import inbox as svc
    from clientlens.care.audit import relationship_audit

    settings = app_context(ctx).settings
    with store_session(ctx) as s:
        svc.sync_conversations(s, shop, settings)
        res = relationship_audit(s, shop, settings)
    if format == "json":
        _json(res)
        return
    console.print(f"snapshots: previous {res.previous_as_of or '-'}, latest {res.latest_as_of or '-'}; "
                  f"{len(res.findings)} relationships worsened")
    table = Table("customer", "name", "what changed")
    for f in res.findings:
        table.add_row(f.customer_id, f.name or "", "; ".join(c.text for c in f.changes))
    console.print(table)


def _timeline(ctx: typer.Context, shop: str, customer: str, format: str) -> None:
    from clientlens.care.timeline import customer_timeline

    with store_session(ctx) as s:
        events = customer_timeline(s, shop, customer)
        if format == "json":
            _page(events)
            return
        table = Table("when (UTC)", "what", "summary")
        for e in events:
            table.add_row(f"{e.at:%Y-%m-%d %H:%M}", e.kind, e.summary)
    console.print(table)


# -- campaigns and consent --------------------------------------------------------------------------------

def campaign_preview(ctx: typer.Context, file: CampaignFile, shop: Shop = DEFAULT_SHOP,
                     format: TableOrJson = "table") -> None:
    """Dry run: how many customers, on which channels and languages, and one sample per language."""
    from clientlens.care.audience import load_campaign
    from clientlens.care.campaigns import preview_campaign

    spec = load_campaign(file)
    with store_session(ctx) as s:
        pv = preview_campaign(s, shop, spec, app_context(ctx).settings)
    if format == "json":
        _json(pv)
        return
    console.print(f"campaign {spec.name}: {pv.counts['audience']} in the audience, "
                  f"{pv.counts['messages']} messages; by channel {pv.counts['by_channel']}; "
                  f"by language {pv.counts['by_language']}; skipped {pv.counts['skipped']}")
    for lang, r in pv.samples.items():
        console.rule(f"{lang}: {r.subject}")
        console.print(r.body, highlight=False, markup=False)


def campaign_send(ctx: typer.Context, file: CampaignFile, shop: Shop = DEFAULT_SHOP,
                  outbox: Annotated[str | None, typer.Option(
                      "--outbox", help="Write messages to this folder instead of sending.")] = None) -> None:
    """Send a campaign; resumable: run it again after a failure, nothing sent goes twice."""
    from rich.progress import Progress

    from clientlens.care.audience import load_campaign
    from clientlens.care.campaigns import send_campaign
    from clientlens.care.config import care_settings

    actx = app_context(ctx)
    spec = load_campaign(file)
    senders = _senders(care_settings(actx.settings), outbox)
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(f"sending {spec.name}", total=None)

        def step(i: int, n: int) -> None:
            bar.update(task, completed=i, total=n)

        report = send_campaign(actx.ready_engine(), shop, spec, actx.settings, senders, progress=step)
    _close(senders)
    console.print(f"campaign {spec.name}: {report.sent} sent ({len(report.resent_in_flight)} resent after an "
                  f"interruption), {report.already_sent} already sent before, {report.deferred_quiet_hours} "
                  f"deferred (quiet hours), skipped {dict(report.skipped)}, {len(report.failed)} failed")
    if report.failed:
        raise typer.Exit(1)


def unsubscribe(ctx: typer.Context,
                customer: Annotated[str | None, typer.Argument(metavar="CUSTOMER")] = None,
                channel: Annotated[str | None, typer.Option(
                    "--channel", help="email, sms, phone, post, chat or social")] = None,
                shop: Shop = DEFAULT_SHOP,
                from_file: Annotated[str | None, typer.Option(
                    "--from-file", help="CSV with customer_id,channel columns.")] = None,
                from_replies: Annotated[bool, typer.Option(
                    "--from-replies", help="Apply STOP-style replies.")] = False) -> None:
    """Withdraw consent at once (one customer and channel, a CSV of them, or STOP replies)."""
    from clientlens.care import consent
    from clientlens.care.config import care_settings
    from clientlens.store.repository import get_shop

    if not (customer and channel) and not from_file and not from_replies:
        raise typer.BadParameter("give CUSTOMER --channel C, --from-file CSV or --from-replies")
    with store_session(ctx) as s:
        shop_id = get_shop(s, shop).id
        events = []
        if customer:
            if not channel:
                raise typer.BadParameter("--channel is required with CUSTOMER")
            events.append(consent.unsubscribe(s, shop_id, customer, channel.lower(), source="cli"))
        if from_file:
            events += consent.import_unsubscribes(s, shop_id, from_file)
        if from_replies:
            events += consent.process_reply_unsubscribes(s, shop_id, care_settings(app_context(ctx).settings))
    console.print(f"consent withdrawn: {len(events)} customer-channel pair(s)")


def register(app: typer.Typer) -> None:
    """Add the care commands to the root app."""
    inbox_app = typer.Typer(help="The service inbox: conversations, replies, assignment, resolution.",
                            invoke_without_command=True)
    app.add_typer(inbox_app, name="inbox")
    inbox_app.callback()(inbox)
    add_commands(inbox_app, {"reply": inbox_reply, "assign": inbox_assign, "resolve": inbox_resolve,
                             "surveys": inbox_surveys})
    add_commands(app, {"sla": sla, "nps": nps, "actions": actions, "audit": audit})
    campaign_app = typer.Typer(help="Campaigns defined in TOML files: preview (dry run) and send.",
                               no_args_is_help=True)
    app.add_typer(campaign_app, name="campaign")
    add_commands(campaign_app, {"preview": campaign_preview, "send": campaign_send})
    add_commands(app, {"unsubscribe": unsubscribe})
