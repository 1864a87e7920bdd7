"""Care commands: ``inbox``, ``sla``, ``nps``, ``actions``, ``audit``, ``campaign preview|send FILE``,
``unsubscribe``. Thin callers of :mod:`clientlens.care`."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import typer
from rich.table import Table

from clientlens.cli.common import ShopOption, app_context, console

FormatOption = typer.Option("table", "--format", help="table or json")


def _json(obj: Any) -> None:
    def plain(o: Any) -> Any:
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            return {k: plain(v) for k, v in dataclasses.asdict(o).items()}
        if isinstance(o, dict):
            return {str(k): plain(v) for k, v in o.items()}
        if isinstance(o, list | tuple):
            return [plain(v) for v in o]
        return o

    typer.echo(json.dumps(plain(obj), indent=2, default=str, ensure_ascii=False))


def _fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _conv_row(c: Any) -> dict[str, Any]:
    return {"id": c.id, "customer_id": c.customer_id, "channel": c.channel, "status": c.status,
            "priority": c.priority, "assignee": c.assignee, "subject": c.subject, "opened_at": c.opened_at,
            "first_response_due": c.first_response_due, "first_response_at": c.first_response_at,
            "resolution_due": c.resolution_due, "resolved_at": c.resolved_at, "priority_reason": c.priority_reason}


def _senders(care: Any, outbox: str | None) -> dict[str, Any]:
    """The senders of ``--outbox DIR`` (messages written to files) or, without it, the configured ones."""
    from clientlens.care.senders import OutboxSender, build_senders

    if outbox:
        return {ch: OutboxSender(outbox, care.senders.smtp_from) for ch in ("email", "sms", "chat")}
    return build_senders(care)


def _register_inbox(app: typer.Typer) -> None:
    inbox_app = typer.Typer(help="The service inbox: conversations, replies, assignment, resolution.",
                            invoke_without_command=True)
    app.add_typer(inbox_app, name="inbox")

    @inbox_app.callback()
    def inbox(ctx: typer.Context, shop: str = ShopOption, status: str = typer.Option(None, "--status"),
              assignee: str = typer.Option(None, "--assignee"), all_: bool = typer.Option(False, "--all", help="Include resolved."),
              limit: int = typer.Option(50, "--limit"), sync: bool = typer.Option(True, "--sync/--no-sync",
                                                                                 help="Group new interactions first."),
              format: str = FormatOption) -> None:
        """List conversations, highest priority and earliest due first (`inbox reply|assign|resolve` act)."""
        if ctx.invoked_subcommand is not None:
            return
        from clientlens.care import inbox as svc
        from clientlens.store.db import session_scope

        actx = app_context(ctx)
        with session_scope(actx.ready_engine()) as s:
            if sync:
                svc.sync_conversations(s, shop, actx.settings)
            rows = [_conv_row(c) for c in svc.list_conversations(s, shop, status=status, assignee=assignee,
                                                                 include_resolved=all_, limit=limit)]
        if format == "json":
            _json({"data": rows, "count": len(rows)})
            return
        table = Table("id", "channel", "status", "prio", "assignee", "subject", "first response due", "resolution due")
        for r in rows:
            table.add_row(str(r["id"]), r["channel"], r["status"], str(r["priority"]), r["assignee"] or "-",
                          (r["subject"] or "")[:40], str(r["first_response_due"] or "-")[:16],
                          str(r["resolution_due"] or "-")[:16])
        console.print(table)

    @inbox_app.command("reply")
    def reply(ctx: typer.Context, conversation: int = typer.Argument(..., metavar="ID"),
              body: str = typer.Argument(..., metavar="TEXT"), agent: str = typer.Option(..., "--agent"),
              shop: str = ShopOption) -> None:
        """Answer a conversation (an outbound message on its channel)."""
        from clientlens.care import inbox as svc
        from clientlens.store.db import session_scope

        actx = app_context(ctx)
        with session_scope(actx.ready_engine()) as s:
            inter = svc.reply(s, shop, conversation, body, agent=agent, settings=actx.settings)
            console.print(f"replied to conversation {conversation} (interaction {inter.external_id})")

    @inbox_app.command("assign")
    def assign(ctx: typer.Context, conversation: int = typer.Argument(..., metavar="ID"),
               agent: str = typer.Argument(..., metavar="AGENT"), shop: str = ShopOption) -> None:
        """Give a conversation to an agent."""
        from clientlens.care import inbox as svc
        from clientlens.store.db import session_scope

        with session_scope(app_context(ctx).ready_engine()) as s:
            svc.assign(s, shop, conversation, agent)
        console.print(f"conversation {conversation} assigned to {agent}")

    @inbox_app.command("resolve")
    def resolve(ctx: typer.Context, conversation: int = typer.Argument(..., metavar="ID"), shop: str = ShopOption) -> None:
        """Resolve a conversation (queues a satisfaction survey, at most one per customer per N days)."""
        from clientlens.care import inbox as svc
        from clientlens.store.db import session_scope

        actx = app_context(ctx)
        with session_scope(actx.ready_engine()) as s:
            _, survey = svc.resolve(s, shop, conversation, settings=actx.settings)
        console.print(f"conversation {conversation} resolved" + (f"; {survey.kind} survey queued" if survey else ""))


    @inbox_app.command("surveys")
    def surveys(ctx: typer.Context, shop: str = ShopOption,
                outbox: str = typer.Option(None, "--outbox", help="Write the surveys to this folder instead.")) -> None:
        """Record numeric replies to surveys already sent, then send the queued surveys."""
        from clientlens.care.config import care_settings
        from clientlens.care.surveys import process_survey_replies, send_queued_surveys
        from clientlens.store.db import session_scope

        actx = app_context(ctx)
        engine = actx.ready_engine()
        care = care_settings(actx.settings)
        with session_scope(engine) as s:
            answers = process_survey_replies(s, shop, actx.settings)
        senders = _senders(care, outbox)
        report = send_queued_surveys(engine, shop, actx.settings, senders)
        console.print(f"{len(answers)} survey answers recorded; {report.sent} surveys sent, "
                      f"{report.not_sent} waiting (no consent, quiet hours or capping)")


def register(app: typer.Typer) -> None:
    """Add the care commands to the root app."""
    _register_inbox(app)

    @app.command("sla")
    def sla(ctx: typer.Context, shop: str = ShopOption,
            by: str = typer.Option("channel", "--by", help="channel, agent or label"),
            taxonomy: str = typer.Option(None, "--taxonomy", help="Taxonomy for --by label ([care] metrics_taxonomy)."),
            format: str = FormatOption) -> None:
        """SLA metrics (median / p90 business hours, attainment) and the breaches and near-breaches."""
        from clientlens.care import inbox as svc
        from clientlens.care import sla as sla_svc
        from clientlens.care.config import care_settings
        from clientlens.store.db import session_scope
        from clientlens.store.repository import get_shop, utcnow

        actx = app_context(ctx)
        now = utcnow()
        with session_scope(actx.ready_engine()) as s:
            svc.sync_conversations(s, shop, actx.settings, now=now)
            shop_id = get_shop(s, shop).id
            care, shop_settings = care_settings(actx.settings), actx.settings.shop(shop)
            metrics = sla_svc.sla_metrics(s, shop_id, shop_settings, care, now, by=by, taxonomy=taxonomy)
            items = sla_svc.sla_items(s, shop_id, shop_settings, care, now)
        if format == "json":
            _json({"metrics": metrics, "breaches": [i for i in items if i.state == "breached"],
                   "near_breaches": [i for i in items if i.state == "near_breach"]})
            return
        table = Table(by, "conversations", "1st resp. median h", "1st resp. p90 h", "resolution median h",
                      "resolution p90 h", "1st resp. SLA met", "resolution SLA met")
        for r in metrics:
            table.add_row(r.group, str(r.conversations), _fmt(r.first_response_median), _fmt(r.first_response_p90),
                          _fmt(r.resolution_median), _fmt(r.resolution_p90),
                          _fmt(None if r.first_response_attainment is None else 100 * r.first_response_attainment, 1) + "%",
                          _fmt(None if r.resolution_attainment is None else 100 * r.resolution_attainment, 1) + "%")
        console.print(table)
        open_items = sorted(items, key=lambda i: (i.state != "near_breach", -i.due.timestamp()))  # newest first
        console.print(f"{sum(i.state == 'breached' for i in items)} breached clocks, "
                      f"{sum(i.state == 'near_breach' for i in items)} near breach")
        for i in open_items[:20]:
            console.print(f"  #{i.conversation_id} {i.channel} {i.kind} {i.state}: due {i.due:%Y-%m-%d %H:%M}, "
                          f"{i.elapsed_hours:.1f} of {i.target_hours:.1f} business hours")

    @app.command("nps")
    def nps(ctx: typer.Context, shop: str = ShopOption,
            by: str = typer.Option("label", "--by", help="label, channel or month"),
            taxonomy: str = typer.Option(None, "--taxonomy"), format: str = FormatOption) -> None:
        """Net Promoter Score (% promoters - % detractors) by label, channel or month."""
        from clientlens.care.feedback import nps_report
        from clientlens.store.db import session_scope
        from clientlens.store.repository import get_shop

        actx = app_context(ctx)
        with session_scope(actx.ready_engine()) as s:
            rows = nps_report(s, get_shop(s, shop).id, actx.settings, by=by, taxonomy=taxonomy)
        if format == "json":
            _json({"data": rows, "count": len(rows)})
            return
        table = Table(by, "responses", "promoters", "passives", "detractors", "NPS")
        for r in rows:
            table.add_row(r.group, str(r.responses), str(r.promoters), str(r.passives), str(r.detractors), _fmt(r.nps, 1))
        console.print(table)

    @app.command("actions")
    def actions(ctx: typer.Context, shop: str = ShopOption, customer: str = typer.Option(None, "--customer"),
                limit: int = typer.Option(50, "--limit"), format: str = FormatOption) -> None:
        """The next best action per customer from the playbook, with its reason."""
        from clientlens.care.playbooks import next_best_actions
        from clientlens.store.db import session_scope

        actx = app_context(ctx)
        with session_scope(actx.ready_engine()) as s:
            acts = next_best_actions(s, shop, actx.settings, customer_ids=[customer] if customer else None)
        if customer:
            rows = acts.get(customer, [])
        else:
            rows = sorted((a[0] for a in acts.values()), key=lambda a: (-a.priority, a.customer_id))[:limit]
        if format == "json":
            _json({"data": rows, "count": len(rows)})
            return
        table = Table("customer", "action", "rule", "reason")
        for a in rows:
            table.add_row(a.customer_id, a.action, a.rule_id, a.reason)
        console.print(table)
        if customer and not rows:
            console.print(f"no playbook rule applies to customer {customer}")

    @app.command("audit")
    def audit(ctx: typer.Context, shop: str = ShopOption,
              customer: str = typer.Option(None, "--customer", help="Show this customer's timeline instead."),
              format: str = FormatOption) -> None:
        """Customers whose relationship worsened since the previous snapshot, with what changed."""
        from clientlens.care import inbox as svc
        from clientlens.care.audit import relationship_audit
        from clientlens.care.timeline import customer_timeline
        from clientlens.store.db import session_scope

        actx = app_context(ctx)
        with session_scope(actx.ready_engine()) as s:
            if customer:
                events = customer_timeline(s, shop, customer)
                if format == "json":
                    _json({"data": events, "count": len(events)})
                    return
                table = Table("when (UTC)", "what", "summary")
                for e in events:
                    table.add_row(f"{e.at:%Y-%m-%d %H:%M}", e.kind, e.summary)
                console.print(table)
                return
            svc.sync_conversations(s, shop, actx.settings)
            res = relationship_audit(s, shop, actx.settings)
        if format == "json":
            _json(res)
            return
        console.print(f"snapshots: previous {res.previous_as_of or '-'}, latest {res.latest_as_of or '-'}; "
                      f"{len(res.findings)} relationships worsened")
        table = Table("customer", "name", "what changed")
        for f in res.findings:
            table.add_row(f.customer_id, f.name or "", "; ".join(c.text for c in f.changes))
        console.print(table)

    _register_campaigns(app)


def _register_campaigns(app: typer.Typer) -> None:
    campaign_app = typer.Typer(help="Campaigns defined in TOML files: preview (dry run) and send.",
                               no_args_is_help=True)
    app.add_typer(campaign_app, name="campaign")

    @campaign_app.command("preview")
    def preview(ctx: typer.Context, file: str = typer.Argument(..., metavar="FILE"), shop: str = ShopOption,
                format: str = FormatOption) -> None:
        """Dry run: how many customers, on which channels and languages, and one sample per language."""
        from clientlens.care.audience import load_campaign
        from clientlens.care.campaigns import preview_campaign
        from clientlens.store.db import session_scope

        actx = app_context(ctx)
        spec = load_campaign(file)
        with session_scope(actx.ready_engine()) as s:
            pv = preview_campaign(s, shop, spec, actx.settings)
        if format == "json":
            _json(pv)
            return
        console.print(f"campaign {spec.name}: {pv.counts['audience']} in the audience, "
                      f"{pv.counts['messages']} messages; by channel {pv.counts['by_channel']}; "
                      f"by language {pv.counts['by_language']}; skipped {pv.counts['skipped']}")
        for lang, r in pv.samples.items():
            console.rule(f"{lang}: {r.subject}")
            console.print(r.body, highlight=False, markup=False)

    @campaign_app.command("send")
    def send(ctx: typer.Context, file: str = typer.Argument(..., metavar="FILE"), shop: str = ShopOption,
             outbox: str = typer.Option(None, "--outbox", help="Write messages to this folder instead of sending.")) -> None:
        """Send a campaign; resumable: run it again after a failure, nothing sent goes twice."""
        from rich.progress import Progress

        from clientlens.care.audience import load_campaign
        from clientlens.care.campaigns import send_campaign
        from clientlens.care.config import care_settings

        actx = app_context(ctx)
        spec = load_campaign(file)
        care = care_settings(actx.settings)
        senders = _senders(care, outbox)
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task(f"sending {spec.name}", total=None)

            def step(i: int, n: int) -> None:
                bar.update(task, completed=i, total=n)

            report = send_campaign(actx.ready_engine(), shop, spec, actx.settings, senders, progress=step)
        for s in senders.values():
            close = getattr(s, "close", None)
            if close:
                close()
        console.print(f"campaign {spec.name}: {report.sent} sent ({len(report.resent_in_flight)} resent after an "
                      f"interruption), {report.already_sent} already sent before, {report.deferred_quiet_hours} "
                      f"deferred (quiet hours), skipped {dict(report.skipped)}, {len(report.failed)} failed")
        if report.failed:
            raise typer.Exit(1)

    @app.command("unsubscribe")
    def unsubscribe(ctx: typer.Context, customer: str = typer.Argument(None, metavar="CUSTOMER"),
                    channel: str = typer.Option(None, "--channel", help="email, sms, phone, post, chat or social"),
                    shop: str = ShopOption,
                    from_file: str = typer.Option(None, "--from-file", help="CSV with customer_id,channel columns."),
                    from_replies: bool = typer.Option(False, "--from-replies", help="Apply STOP-style replies.")) -> None:
        """Withdraw consent at once (one customer and channel, a CSV of them, or STOP replies)."""
        from clientlens.care import consent
        from clientlens.care.config import care_settings
        from clientlens.store.db import session_scope
        from clientlens.store.repository import get_shop

        actx = app_context(ctx)
        if not (customer and channel) and not from_file and not from_replies:
            raise typer.BadParameter("give CUSTOMER --channel C, --from-file CSV or --from-replies")
        with session_scope(actx.ready_engine()) as s:
            shop_id = get_shop(s, shop).id
            events = []
            if customer:
                if not channel:
                    raise typer.BadParameter("--channel is required with CUSTOMER")
                events.append(consent.unsubscribe(s, shop_id, customer, channel.lower(), source="cli"))
            if from_file:
                events += consent.import_unsubscribes(s, shop_id, from_file)
            if from_replies:
                events += consent.process_reply_unsubscribes(s, shop_id, care_settings(actx.settings))
        console.print(f"consent withdrawn: {len(events)} customer-channel pair(s)")
