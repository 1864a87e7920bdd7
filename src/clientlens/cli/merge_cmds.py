"""``clientlens merges list|suggested|accept ID|undo ID|reject ID|separate A B``: identity resolution."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from clientlens.cli.common import DEFAULT_SHOP, Shop, add_commands, app_context, console, store_session

MergeId = Annotated[int, typer.Argument(metavar="ID")]
Format = Annotated[str, typer.Option("--format")]


def list_(ctx: typer.Context, shop: Shop = DEFAULT_SHOP, format: Format = "table") -> None:
    """Every merge and decision of the shop (accepted, undone, suggested, rejected, separated)."""
    _show(ctx, shop, None, format)


def suggested(ctx: typer.Context, shop: Shop = DEFAULT_SHOP, format: Format = "table",
              refresh: Annotated[bool, typer.Option(help="Look for new fuzzy matches first.")] = True,
              ) -> None:
    """Fuzzy name + address matches waiting for a decision."""
    if refresh:
        from clientlens.store.identity import suggest
        from clientlens.store.repository import get_shop

        with store_session(ctx) as session:
            suggest(session, get_shop(session, shop).id, app_context(ctx).settings.identity)
    _show(ctx, shop, "suggested", format)


def accept_(ctx: typer.Context, merge_id: MergeId, shop: Shop = DEFAULT_SHOP) -> None:
    """Carry out a suggested merge."""
    _decide(ctx, shop, merge_id, "accept")


def undo_(ctx: typer.Context, merge_id: MergeId, shop: Shop = DEFAULT_SHOP) -> None:
    """Undo an accepted merge: both profiles come back as they were, and are never merged again."""
    _decide(ctx, shop, merge_id, "undo")


def reject_(ctx: typer.Context, merge_id: MergeId, shop: Shop = DEFAULT_SHOP) -> None:
    """Mark a suggestion as not the same person."""
    _decide(ctx, shop, merge_id, "reject")


def separate_(ctx: typer.Context, first: Annotated[str, typer.Argument(metavar="A", help="A customer id.")],
              second: Annotated[str, typer.Argument(metavar="B", help="Another customer id.")],
              shop: Shop = DEFAULT_SHOP) -> None:
    """A and B are two people: undo a merge between them and never merge them again (any later import)."""
    from clientlens.service.merges import separate
    from clientlens.store.repository import get_shop

    with store_session(ctx) as session:
        rec = separate(session, get_shop(session, shop), first, second, actor="cli")
    console.print(f"{first} and {second} are two people (merge record {rec.id}: {rec.status})")


def register(app: typer.Typer) -> None:
    merges = typer.Typer(help="Identity resolution: merged and suggested duplicate profiles.",
                         no_args_is_help=True)
    app.add_typer(merges, name="merges")
    add_commands(merges, {"list": list_, "suggested": suggested, "accept": accept_, "undo": undo_,
                          "reject": reject_, "separate": separate_})


def _show(ctx: typer.Context, shop: str, status: str | None, format: str) -> None:
    from clientlens.store.identity import list_merges
    from clientlens.store.repository import get_shop

    with store_session(ctx) as session:
        rows = list_merges(session, get_shop(session, shop).id, status=status)
    if format == "json":
        typer.echo(json.dumps(rows, indent=2, default=str))
    else:
        console.print(_table(rows) if rows else "no merges")


def _table(rows: list[dict[str, Any]]) -> Table:
    table = Table("id", "status", "rule", "score", "survivor", "merged")
    for r in rows:
        score = f"{r['score']:.1f}" if r["score"] is not None else "-"
        survivor = f"{r['survivor']} {r['survivor_name'] or ''}"
        merged = f"{r['merged']} {r['merged_name'] or ''}"
        table.add_row(str(r["id"]), r["status"], r["rule"], score, survivor, merged)
    return table


def _decide(ctx: typer.Context, shop: str, merge_id: int, decision: str) -> None:
    """One decision through the service layer (the same as the API's and the web app's; audited)."""
    from clientlens.service.merges import decide
    from clientlens.store.repository import get_shop

    with store_session(ctx) as session:
        rec = decide(session, get_shop(session, shop), merge_id, decision, actor="cli")
    console.print(f"merge {rec.id} {rec.status}")
