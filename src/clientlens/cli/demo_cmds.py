"""``clientlens demo``: a store with the real CDNOW log and a generated shop, analysed and served.

The demo store is ``./clientlens-demo.db``, recreated on each run; ``./clientlens.db`` is never touched.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from clientlens.cli.common import app_context, console

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from clientlens.config import Settings

DEMO_DB = "clientlens-demo.db"
SAMPLE_SHOP = "sample-shop"
CDNOW_SHOP = "cdnow"


def _fresh_store(path: Path) -> Engine:
    from clientlens.store.db import make_engine, upgrade

    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


class _Steps:
    """The demo's steps as rows of a Rich progress bar (or nothing without one)."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        task = self.progress.add_task(label, total=None) if self.progress is not None else None
        yield
        if self.progress is not None and task is not None:
            self.progress.update(task, total=1, completed=1)


def build_demo(engine: Engine, settings: Settings, *, customers: int = 5000, seed: int = 7,
               progress: Progress | None = None) -> dict[str, object]:
    """Load both demo shops into ``engine`` and run the pipeline on them. Returns what was done."""
    steps = _Steps(progress)
    report = _import_shops(engine, settings, steps, customers=customers, seed=seed)
    report.update(_analyse_shops(engine, settings, steps))
    return report


def _import_shops(engine: Engine, settings: Settings, steps: _Steps, *, customers: int,
                  seed: int) -> dict[str, object]:
    from clientlens.datasets.cdnow import data_path
    from clientlens.datasets.generator import generate_shop, write_shop
    from clientlens.ingest import import_file

    report: dict[str, object] = {}
    with steps.step("import CDNOW (real, 69,659 orders)"):
        report["cdnow"] = import_file(engine, CDNOW_SHOP, "orders", data_path("CDNOW_master.txt.gz"),
                                      settings=settings, options={"currency": "USD"})
    with steps.step(f"generate and import {SAMPLE_SHOP} ({customers:,} customers)"), \
            tempfile.TemporaryDirectory() as tmp:
        shop = generate_shop(customers, seed=seed)  # ends on a fixed date: the same demo everywhere
        files = write_shop(shop, Path(tmp), format="csv")
        for entity in ("products", "customers", "orders", "order-lines", "interactions", "feedback"):
            path = files[entity.replace("-", "_")]
            report[f"{SAMPLE_SHOP}:{entity}"] = import_file(engine, SAMPLE_SHOP, entity, path,
                                                            settings=settings)
    return report


def _analyse_shops(engine: Engine, settings: Settings, steps: _Steps) -> dict[str, object]:
    from clientlens.analysis.pipeline import run_analysis
    from clientlens.analysis.store_io import save_snapshot
    from clientlens.care.inbox import sync_conversations
    from clientlens.features.store_reader import load_store_frames
    from clientlens.store.db import session_scope

    report: dict[str, object] = {}
    for name in (CDNOW_SHOP, SAMPLE_SHOP):
        with steps.step(f"analyse {name}: features, labels, models"):
            snap = run_analysis(load_store_frames(engine, name, settings), shop=name, settings=settings)
            save_snapshot(engine, snap)
            report[f"analysis:{name}"] = snap.as_of
    with steps.step("build the service inbox (SLAs use the labels and scores)"), \
            session_scope(engine) as session:
        report["inbox"] = sync_conversations(session, SAMPLE_SHOP, settings)
    return report


def demo(
    ctx: typer.Context,
    serve: Annotated[bool, typer.Option(help="Serve the app when the store is ready.")] = True,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    customers: Annotated[int, typer.Option("--customers", help="Size of the generated sample shop.")] = 5000,
    db: Annotated[Path, typer.Option("--demo-db", help="Where to build the demo store.")] = Path(DEMO_DB),
) -> None:
    """Build ./clientlens-demo.db with the real CDNOW shop and a generated one, analyse, and serve."""
    from clientlens.service.auth import create_admin_with_random_password

    settings = app_context(ctx).settings
    engine = _fresh_store(db)
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        build_demo(engine, settings, customers=customers, progress=progress)
    console.print(f"demo store ready: sqlite:///{db}")
    console.print("data: shop 'cdnow' is the real CDNOW log (Fader, Hardie & Lee 2005); "
                  "shop 'sample-shop' is generated (clientlens.datasets.generator).")
    password = create_admin_with_random_password(engine)
    console.print(f"admin login: [bold]admin[/bold]  password: [bold]{password}[/bold] (shown once)")
    if serve:
        _serve(engine, settings, host, port)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def _serve(engine: Engine, settings: Settings, host: str, port: int) -> None:
    """Serve the demo store as ``clientlens serve`` would."""
    import uvicorn

    from clientlens.app import server_app
    from clientlens.cli.web_cmds import SERVER_OPTIONS

    engine.dispose()  # the server's own engine (pool sized for it, no pre-ping) replaces the CLI's
    app = server_app(settings, engine.url.render_as_string(hide_password=False))
    console.print(f"serving http://{host}:{port} (Ctrl+C to stop)")
    uvicorn.run(app, host=host, port=port, log_level="warning", **SERVER_OPTIONS)
