"""Snapshots, segments (sizes and revenue per taxonomy), flows between snapshots, export, dashboard data."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import Response

from clientlens.http.deps import Analyst, DbDep, Exporter, SettingsDep, ShopDep, SnapshotAdmin, WebSettingsDep
from clientlens.service import analytics, segments
from clientlens.service import schemas as s
from clientlens.service.auth import audit

router = APIRouter(prefix="/shops/{shop}", tags=["segments"])

Taxonomy = Annotated[str, Query(min_length=1, max_length=50)]


@router.delete("/snapshots/{as_of}", response_model=s.Message)
def delete_snapshot(db: DbDep, shop: ShopDep, as_of: date, who: SnapshotAdmin) -> s.Message:
    """Remove one snapshot (admins); the current snapshot is then the newest one left whose as-of is not in
    the future."""
    return segments.delete_snapshot(db, shop, as_of, actor=who.actor)


@router.get("/snapshots", response_model=list[s.SnapshotRead])
def list_snapshots(db: DbDep, shop: ShopDep, _: Analyst) -> list[s.SnapshotRead]:
    """Analysis runs of the shop, newest first."""
    return segments.snapshots(db, shop)


@router.get("/segments", response_model=list[s.SegmentRead])
def list_segments(db: DbDep, shop: ShopDep, _: Analyst, as_of: date | None = None,
                  taxonomy: Annotated[str | None, Query(max_length=50)] = None) -> list[s.SegmentRead]:
    """Customers, revenue and their shares per label, for every taxonomy (or one)."""
    return segments.summary(db, shop, as_of=as_of, taxonomy=taxonomy)


@router.get("/flows", response_model=list[s.FlowRead])
def list_flows(db: DbDep, shop: ShopDep, _: Analyst, taxonomy: Taxonomy, from_as_of: date,
               to_as_of: date) -> list[s.FlowRead]:
    """Customers moving from each label to each label between two snapshots."""
    return segments.flows(db, shop, taxonomy, from_as_of, to_as_of)


@router.get("/segments/export", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "CSV of the segment's customers"}})
def export_segment(db: DbDep, shop: ShopDep, who: Exporter, taxonomy: Taxonomy,
                   label: Annotated[str, Query(min_length=1, max_length=50)], as_of: date | None = None) -> Response:
    """The customers of one segment as CSV (audited)."""
    body, n = segments.export_csv(db, shop, taxonomy, label, as_of)
    audit(db, who.actor, "segment_exported", target=f"{taxonomy}={label}", shop=shop.name, detail={"customers": n})
    name = f"{shop.name}-{taxonomy}-{label}.csv".replace("/", "_")
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
    return Response(body, media_type="text/csv", headers={"Content-Disposition": disposition})


@router.get("/dashboard")
def dashboard(db: DbDep, settings: SettingsDep, cfg: WebSettingsDep, shop: ShopDep, _: Analyst,
              taxonomy: Annotated[str, Query(min_length=1, max_length=50)] = "rfm_segment") -> dict[str, Any]:
    """KPIs and the data of every dashboard chart (each list empty when there is no data yet)."""
    return analytics.dashboard(db, settings, cfg, shop, taxonomy)
