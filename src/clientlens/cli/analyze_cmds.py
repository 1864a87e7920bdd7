"""``clientlens analyze | segments | flows | customer | export | evaluate``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from clientlens.cli.common import EXIT_REJECTED, ShopOption, app_context, console, err_console

STEP_TEXT = {"read": "reading the data", "features": "computing features", "scores": "scoring customers",
             "labels": "labelling customers", "summary": "summarising"}


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option) from exc


@contextmanager
def _progress(total: int) -> Iterator[Any]:
    """A Rich progress bar over the analysis steps; yields the step callback."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=err_console, transient=False) as bar:
        task = bar.add_task("starting", total=total)
        yield _step_callback(bar, task)
        bar.update(task, completed=total, description="done")


def _step_callback(bar: Progress, task: Any) -> Callable[[str], None]:
    """The analysis ``step`` callback: each new step finishes the previous one and names itself on ``task``."""
    seen: list[str] = []

    def on_step(name: str) -> None:
        if seen:
            bar.advance(task)
        seen.append(name)
        bar.update(task, description=STEP_TEXT.get(name, name))

    return on_step


def _print_frame(df: Any, fmt: str, title: str | None = None) -> None:
    if fmt == "json":
        typer.echo(df.to_json(orient="records", force_ascii=False, indent=2))
    elif fmt == "csv":
        from clientlens.analysis.export import safe_frame

        typer.echo(safe_frame(df).to_csv(index=False), nl=False)  # formula-safe (OWASP CSV injection)
    else:
        table = Table(*[str(c) for c in df.columns], title=title)
        for row in df.itertuples(index=False):
            table.add_row(*[_cell(v) for v in row])
        console.print(table)


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.4f}" if abs(v) < 1 else f"{v:,.2f}"
    if v is None:
        return "-"
    return str(v)


def _check_format(fmt: str, allowed: tuple[str, ...]) -> None:
    if fmt not in allowed:
        raise typer.BadParameter(f"{fmt!r}: use one of {', '.join(allowed)}", param_hint="--format")


#: Options several commands share, defined once.
AsOfSnapshotOption = typer.Option(None, "--as-of", help="Snapshot date (default: the latest).")
TaxonomyOption = typer.Option(None, "--taxonomy", help="Only this taxonomy.")
FormatOption = typer.Option("table", "--format", help="table, csv or json.")
EngineOption = typer.Option("duckdb", "--engine", help="duckdb or spark.")
SparkMasterOption = typer.Option(
    None, "--spark-master", metavar="URL",
    help="With --engine spark: local[N], spark://HOST:PORT, yarn or k8s://URL (default: \\[features] "
         "spark_master).")
SparkConfOption = typer.Option(
    None, "--spark-conf", metavar="KEY=VALUE",
    help="With --engine spark: a Spark setting for this run (repeat), over \\[features.spark].")


def _spark_settings(engine: str, master: str | None, conf: list[str] | None) -> dict[str, str]:
    """``--spark-conf KEY=VALUE`` pairs; both Spark options only go with ``--engine spark``."""
    if engine not in ("duckdb", "spark"):
        raise typer.BadParameter(f"{engine!r}: use duckdb or spark", param_hint="--engine")
    if engine != "spark" and (master or conf):
        raise typer.BadParameter("--spark-master and --spark-conf go with --engine spark",
                                 param_hint="--spark-master/--spark-conf")
    out: dict[str, str] = {}
    for item in conf or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip().startswith("spark."):
            raise typer.BadParameter(f"{item!r}: use spark.KEY=VALUE", param_hint="--spark-conf")
        out[key.strip()] = value.strip()
    return out


def _make_engine(engine: str, settings: Any, master: str | None, conf: list[str] | None) -> Any:
    from clientlens.features import make_engine

    spark_config = _spark_settings(engine, master, conf)
    with err_console.status(f"starting {engine}" + (f" on {master}" if master else "")):
        return make_engine(engine, settings, spark_master=master, spark_config=spark_config)


def _describe_engine(snap: Any, eng: Any) -> None:
    """Where a Spark run ran (master, executors, jobs), in ``run.json``."""
    describe = getattr(eng, "describe", None)
    if describe is not None:
        snap.run["spark"] = describe()


def analyze(
    ctx: typer.Context,
    shop: str = ShopOption,
    as_of: str = typer.Option(None, "--as-of", help="Analyse as of this date (default: the latest order)."),
    source: str = typer.Option(None, "--source",
                               help="Files mode: an orders file or a folder of files (or a URL the Spark "
                                    "cluster reads)."),
    engine: str = EngineOption,
    spark_master: str = SparkMasterOption,
    spark_conf: list[str] = SparkConfOption,
    out: str = typer.Option(None, "--out",
                            help="Files mode: folder for the Parquet snapshot (or a URL the Spark cluster "
                                 "writes)."),
    mapping: Path = typer.Option(None, "--mapping", help="Files mode: a column mapping file (TOML)."),
    no_scores: bool = typer.Option(False, "--no-scores", help="Skip the model scores."),
    validate: bool = typer.Option(True, "--validate/--no-validate",
                                  help="Files mode: validate rows like an import (default), or let the "
                                       "engine read the files directly (for very large bases)."),
) -> None:
    """Classify every customer and write a snapshot (to the store, or with --source/--out to Parquet)."""
    actx = app_context(ctx)
    settings = actx.settings
    _spark_settings(engine, spark_master, spark_conf)
    when = _date(as_of, "--as-of")
    if (source is None) != (out is None):
        raise typer.BadParameter("files mode needs both --source and --out", param_hint="--source/--out")
    eng = _make_engine(engine, settings, spark_master, spark_conf)
    try:
        if source is not None and out is not None:
            rejected = _analyze_files(eng, source, out, shop=shop, as_of=when, settings=settings,
                                      validate=validate, mapping=mapping, scores=not no_scores)
        else:
            rejected = _analyze_store(eng, actx, shop=shop, as_of=when, settings=settings,
                                      scores=not no_scores)
    finally:
        eng.close()
    if rejected:
        raise typer.Exit(EXIT_REJECTED)


def _analyze_files(eng: Any, source: str, out: str, *, shop: str, as_of: date | None, settings: Any,
                   validate: bool, mapping: Path | None, scores: bool) -> bool:
    """Files mode; True when rows were rejected (the quarantine files are named)."""
    from clientlens.analysis.files import read_source, write_snapshot
    from clientlens.analysis.pipeline import STEPS, run_analysis

    with console.status(f"reading {escape(source)}"):
        read = read_source(source, eng, settings=settings, shop=shop, validate=validate,
                           mapping=str(mapping) if mapping else None)
    with _progress(len(STEPS)) as on_step:
        snap = run_analysis(read.frames, shop=shop, as_of=as_of, settings=settings, engine=eng,
                            scores=scores, progress=on_step)
    snap.run["source"] = {"path": source, "validated": validate, "rows_read": read.read,
                          "rows_rejected": read.rejected, "quarantine": [str(p) for p in read.quarantine]}
    _describe_engine(snap, eng)
    written = write_snapshot(snap, out, eng)
    _report(snap)
    console.print(f"wrote {len(written)} files to {escape(out)}")
    if read.total_rejected:
        for path in read.quarantine:
            err_console.print(f"[yellow]rejected rows:[/yellow] see {escape(str(path))}")
        err_console.print(f"{read.total_rejected} row(s) rejected; the others were analysed")
        return True
    return False


def _analyze_store(eng: Any, actx: Any, *, shop: str, as_of: date | None, settings: Any, scores: bool) -> bool:
    """Store mode: read the shop, analyse it on ``eng``, save the snapshot in the store."""
    from clientlens.analysis.pipeline import STEPS, run_analysis
    from clientlens.analysis.store_io import save_snapshot
    from clientlens.features.store_reader import load_store_frames
    from clientlens.service.imports import after_analysis

    sa_engine = actx.ready_engine()
    frames = load_store_frames(sa_engine, shop, settings)
    with _progress(len(STEPS) + 1) as on_step:
        snap = run_analysis(frames, shop=shop, as_of=as_of, settings=settings, engine=eng, scores=scores,
                            progress=on_step)
        _describe_engine(snap, eng)
        on_step("saving the snapshot")
        save_snapshot(sa_engine, snap)
        after_analysis(sa_engine, settings, shop)  # open conversations get the new SLA targets
    _report(snap)
    console.print(f"snapshot of shop {escape(repr(shop))} as of {snap.as_of.isoformat()} saved to the store")
    return False


def segments(
    ctx: typer.Context,
    shop: str = ShopOption,
    as_of: str = AsOfSnapshotOption,
    taxonomy: str = TaxonomyOption,
    format: str = FormatOption,
) -> None:
    """Per label: customers, share of customers, revenue, share of revenue."""
    from clientlens.analysis.store_io import load_summary
    from clientlens.segments import TAXONOMIES

    _check_format(format, ("table", "csv", "json"))
    if taxonomy is not None and taxonomy not in TAXONOMIES:
        raise typer.BadParameter(f"unknown taxonomy {taxonomy!r}; one of {', '.join(TAXONOMIES)}",
                                 param_hint="--taxonomy")
    found, summary = load_summary(app_context(ctx).engine, shop, _date(as_of, "--as-of"))
    if taxonomy is not None:
        summary = summary[summary["taxonomy"] == taxonomy].reset_index(drop=True)
    _print_frame(summary, format, title=f"shop {shop}, as of {found.isoformat()}")


def flows(
    ctx: typer.Context,
    from_date: str = typer.Option(..., "--from", help="As-of date of the earlier snapshot."),
    to_date: str = typer.Option(..., "--to", help="As-of date of the later snapshot."),
    shop: str = ShopOption,
    taxonomy: str = TaxonomyOption,
    format: str = FormatOption,
) -> None:
    """Customers who moved between labels from one snapshot to another."""
    from clientlens.analysis.store_io import snapshot_flows

    _check_format(format, ("table", "csv", "json"))
    a, b = _date(from_date, "--from"), _date(to_date, "--to")
    assert a is not None and b is not None
    result = snapshot_flows(app_context(ctx).engine, shop, a, b, taxonomy=taxonomy)
    _print_frame(result, format, title=f"shop {shop}: {a.isoformat()} -> {b.isoformat()}")


def customer(
    ctx: typer.Context,
    customer_id: str = typer.Argument(..., help="The customer's id (as in your data)."),
    shop: str = ShopOption,
    as_of: str = AsOfSnapshotOption,
    format: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """One customer: loyalty, predictions and CLV rank, every label with its evidence, the latest events.

    The same read model as the API's and the web app's customer 360 (``service.customer360``); with
    ``--as-of`` the labels are those of that snapshot.
    """
    from clientlens.errors import NotFoundError
    from clientlens.service.config import web_settings
    from clientlens.service.customer360 import customer_360
    from clientlens.store.db import session_scope
    from clientlens.store.repository import get_shop

    _check_format(format, ("table", "json"))
    actx = app_context(ctx)
    doc = None
    with session_scope(actx.engine) as session:
        try:
            doc = customer_360(session, actx.settings, web_settings(actx.settings), get_shop(session, shop),
                               customer_id)
        except NotFoundError:  # a snapshot saved from files mode has labels of customers the store lacks
            if not _snapshot_has(actx.engine, shop):
                raise
    labels, found = _customer_labels(actx.engine, shop, customer_id, as_of, doc)
    if format == "json":
        body = doc.model_dump(mode="json") if doc is not None else {}
        body.update({"customer_id": doc.profile["customer_id"] if doc is not None else customer_id, "shop": shop,
                     "as_of": found.isoformat() if found else None, "labels": labels})
        typer.echo(json.dumps(body, indent=2, ensure_ascii=False))
        return
    _print_customer(doc, customer_id, labels, found)


def _snapshot_has(engine: Any, shop: str) -> bool:
    from clientlens.analysis.store_io import list_snapshots

    try:
        return bool(list_snapshots(engine, shop))
    except Exception:  # no such shop
        return False


def _customer_labels(engine: Any, shop: str, customer_id: str, as_of: str | None,
                     doc: Any) -> tuple[list[dict[str, Any]], date | None]:
    """The labels to show: those of the snapshot of ``--as-of``, else of the current snapshot."""
    from clientlens.analysis.store_io import load_labels
    from clientlens.errors import NotFoundError

    ext = doc.profile["customer_id"] if doc is not None else customer_id
    try:
        found, frame = load_labels(engine, shop, _date(as_of, "--as-of") if as_of else None, customer_id=ext)
    except NotFoundError:
        if doc is not None and not as_of:  # a profile of a shop not analysed yet
            return [], None
        raise
    if frame.empty and doc is None:
        raise NotFoundError(f"customer {customer_id!r} is not in the snapshot of shop {shop!r} as of {found.isoformat()}")
    return [{"taxonomy": r.taxonomy, "label": r.label, "rule_id": r.rule_id, "figures": json.loads(r.figures),
             "text": r.text} for r in frame.itertuples(index=False)], found


def _print_customer(doc: Any, customer_id: str, labels: list[dict[str, Any]], found: date | None) -> None:
    from clientlens.money import format_money

    table = Table("taxonomy", "label", "why", title=f"labels (as of {found.isoformat()})" if found else "labels")
    for lab in labels:
        table.add_row(lab["taxonomy"], lab["label"], escape(lab["text"] or ""))
    if doc is None:  # labels of a snapshot only: no profile in the store
        table.title = f"customer {escape(customer_id)} (as of {found.isoformat()})" if found else table.title
        console.print(table)
        return
    profile, loyalty, pred = doc.profile, doc.loyalty, doc.prediction
    title = f"customer {profile['customer_id']}" + (f" · {profile['name']}" if profile.get("name") else "")
    summary = Table(show_header=False, title=escape(title))
    if loyalty is not None:
        summary.add_row("loyalty", f"{loyalty.tier or '-'} · {loyalty.points:,} points · {loyalty.orders} orders · "
                                   f"{format_money(loyalty.spend, loyalty.currency)} spent")
    if pred is not None:
        clv = format_money(pred.clv, doc.currency) if pred.clv is not None and doc.currency else "-"
        rank = f" (higher than {1 - doc.clv_rank_share:.0%} of customers)" if doc.clv_rank_share is not None else ""
        summary.add_row("prediction", f"P(alive) {pred.p_alive if pred.p_alive is not None else float('nan'):.2f} · "
                                      f"CLV {clv}{rank}")
    if doc.next_best_action is not None:
        summary.add_row("next best action", escape(f"{doc.next_best_action.action}: {doc.next_best_action.reason}"))
    console.print(summary)
    console.print(table)
    events = Table("when", "what", title="latest events")
    for e in doc.timeline[:10]:
        events.add_row(e.at.strftime("%Y-%m-%d %H:%M"), escape(e.summary))
    console.print(events)


def export(
    ctx: typer.Context,
    label: list[str] = typer.Option(..., "--label", help="TAXONOMY=LABEL; repeat (same taxonomy: any of "
                                                        "them; different taxonomies: all of them)."),
    out: Path = typer.Option(..., "--out", help="File to write: .csv, .parquet or .xlsx."),
    shop: str = ShopOption,
    as_of: str = AsOfSnapshotOption,
) -> None:
    """Export the customers holding the given labels (CSV, Parquet or Excel by extension)."""
    from clientlens.analysis.export import export_customers, parse_label_filters

    filters = parse_label_filters(label)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet", ".xlsx"):
        raise typer.BadParameter(f"{out}: use a .csv, .parquet or .xlsx file", param_hint="--out")
    n = export_customers(app_context(ctx).engine, shop, filters, out, as_of=_date(as_of, "--as-of"))
    console.print(f"exported {n:,} customers to {escape(str(out))}")


def evaluate(
    ctx: typer.Context,
    customers: int = typer.Option(5000, "--customers", help="Size of the generated sample shop."),
    seed: int = typer.Option(42, "--seed", help="Seed of the generator."),
    engine: str = EngineOption,
    spark_master: str = SparkMasterOption,
    spark_conf: list[str] = SparkConfOption,
    format: str = FormatOption,
) -> None:
    """Precision and recall of each archetype label against the generator's ground truth."""
    from clientlens.analysis.evaluate import evaluate_sample_shop
    from clientlens.analysis.pipeline import STEPS

    _check_format(format, ("table", "csv", "json"))
    settings = app_context(ctx).settings
    eng = _make_engine(engine, settings, spark_master, spark_conf)
    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                      console=err_console) as bar:
            gen = bar.add_task("generating the sample shop", total=customers)
            steps = bar.add_task("classifying", total=len(STEPS))
            result = evaluate_sample_shop(customers=customers, seed=seed, settings=settings, engine=eng,
                                          generated=lambda n: bar.advance(gen, n), step=_step_callback(bar, steps))
            bar.update(steps, completed=len(STEPS), description="classified")
    finally:
        eng.close()
    if format == "table":
        shown = result.assign(label=result["taxonomy"] + " = " + result["label"])
        shown = shown[["archetype", "label", "members", "labelled", "precision", "recall"]]
        shown = shown.assign(precision=shown["precision"].map("{:.3f}".format),
                             recall=shown["recall"].map("{:.3f}".format))
        _print_frame(shown, format, title=f"sample shop: {customers:,} customers, seed {seed}")
    else:
        _print_frame(result, format, title=None)


COMMANDS: dict[str, Callable[..., None]] = {
    "analyze": analyze, "segments": segments, "flows": flows, "customer": customer, "export": export,
    "evaluate": evaluate,
}


def register(app: typer.Typer) -> None:
    for name, command in COMMANDS.items():
        app.command(name)(command)


def _report(snap: Any) -> None:
    stats = snap.pareto_stats
    console.print(f"shop {snap.shop!r} as of {snap.as_of.isoformat()} on {snap.engine}: "
                  f"{len(snap.features):,} customers, {len(snap.labels):,} labels; top 20% of buyers bring "
                  f"{stats['top20_revenue_share']:.1%} of revenue (Gini {stats['gini']:.3f})")

