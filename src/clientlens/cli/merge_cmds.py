"""``clientlens merges list|suggested|accept ID|undo ID|reject ID``: identity resolution."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from clientlens.cli.common import ShopOption, app_context, console


def _table(rows: list[dict]) -> Table:  # type: ignore[type-arg]
    table = Table("id", "status", "rule", "score", "survivor", "merged")
    for r in rows:
        table.add_row(str(r["id"]), r["status"], r["rule"], f"{r['score']:.1f}" if r["score"] is not None else "-",
                      f"{r['survivor']} {r['survivor_name'] or ''}", f"{r['merged']} {r['merged_name'] or ''}")
    return table


def register(app: typer.Typer) -> None:
    merges = typer.Typer(help="Identity resolution: merged and suggested duplicate profiles.", no_args_is_help=True)
    app.add_typer(merges, name="merges")

    @merges.command("list")
    def list_(ctx: typer.Context, shop: str = ShopOption, format: str = typer.Option("table", "--format")) -> None:
        """Every merge of the shop (accepted, undone, suggested, rejected)."""
        _show(ctx, shop, None, format)

    @merges.command("suggested")
    def suggested(ctx: typer.Context, shop: str = ShopOption, format: str = typer.Option("table", "--format"),
                  refresh: bool = typer.Option(True, help="Look for new fuzzy matches first.")) -> None:
        """Fuzzy name + address matches waiting for a decision."""
        if refresh:
            from clientlens.store.db import session_scope
            from clientlens.store.identity import suggest
            from clientlens.store.repository import get_shop

            actx = app_context(ctx)
            with session_scope(actx.ready_engine()) as session:
                suggest(session, get_shop(session, shop).id, actx.settings.identity)
        _show(ctx, shop, "suggested", format)

    @merges.command("accept")
    def accept_(ctx: typer.Context, merge_id: int = typer.Argument(..., metavar="ID"), shop: str = ShopOption) -> None:
        """Carry out a suggested merge."""
        from clientlens.store.identity import accept

        _decide(ctx, accept, merge_id, "accepted")

    @merges.command("undo")
    def undo_(ctx: typer.Context, merge_id: int = typer.Argument(..., metavar="ID"), shop: str = ShopOption) -> None:
        """Undo an accepted merge: both profiles come back as they were."""
        from clientlens.store.identity import undo

        _decide(ctx, undo, merge_id, "undone")

    @merges.command("reject")
    def reject_(ctx: typer.Context, merge_id: int = typer.Argument(..., metavar="ID"), shop: str = ShopOption) -> None:
        """Mark a suggestion as not the same person."""
        from clientlens.store.identity import reject

        _decide(ctx, reject, merge_id, "rejected")


def _show(ctx: typer.Context, shop: str, status: str | None, format: str) -> None:
    from clientlens.store.db import session_scope
    from clientlens.store.identity import list_merges
    from clientlens.store.repository import get_shop

    with session_scope(app_context(ctx).ready_engine()) as session:
        rows = list_merges(session, get_shop(session, shop).id, status=status)
    if format == "json":
        typer.echo(json.dumps(rows, indent=2, default=str))
    else:
        console.print(_table(rows) if rows else "no merges")


def _decide(ctx: typer.Context, action, merge_id: int, verb: str) -> None:  # type: ignore[no-untyped-def]
    from clientlens.store.db import session_scope

    with session_scope(app_context(ctx).ready_engine()) as session:
        rec = action(session, merge_id)
        console.print(f"merge {rec.id} {verb}")
