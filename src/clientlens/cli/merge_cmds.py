"""``clientlens merges list|suggested|accept ID|undo ID|reject ID``: identity resolution."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.table import Table

from clientlens.cli.common import DEFAULT_SHOP, Shop, add_commands, app_context, console, store_session

MergeId = Annotated[int, typer.Argument(metavar="ID")]
Format = Annotated[str, typer.Option("--format")]


def list_(ctx: typer.Context, shop: Shop = DEFAULT_SHOP, format: Format = "table") -> None:
    """Every merge of the shop (accepted, undone, suggested, rejected)."""
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
    from clientlens.store.identity import accept

    _decide(ctx, accept, merge_id, "accepted")


def undo_(ctx: typer.Context, merge_id: MergeId, shop: Shop = DEFAULT_SHOP) -> None:
    """Undo an accepted merge: both profiles come back as they were."""
    from clientlens.store.identity import undo

    _decide(ctx, undo, merge_id, "undone")


def reject_(ctx: typer.Context, merge_id: MergeId, shop: Shop = DEFAULT_SHOP) -> None:
    """Mark a suggestion as not the same person."""
    from clientlens.store.identity import reject

    _decide(ctx, reject, merge_id, "rejected")


def register(app: typer.Typer) -> None:
    merges = typer.Typer(help="Identity resolution: merged and suggested duplicate profiles.",
                         no_args_is_help=True)
    app.add_typer(merges, name="merges")
    add_commands(merges, {"list": list_, "suggested": suggested, "accept": accept_, "undo": undo_,
                          "reject": reject_})


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


def _decide(ctx: typer.Context, action: Callable[..., Any], merge_id: int, verb: str) -> None:
    with store_session(ctx) as session:
        rec = action(session, merge_id)
        console.print(f"merge {rec.id} {verb}")
