"""Helpers shared by the ingest tests: run the CLI, count rows, read the quarantine file."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text
from typer.testing import CliRunner

DATA = Path(__file__).resolve().parent.parent / "data"
BAD = DATA / "bad"
VALID = DATA / "valid"


@dataclass
class CliResult:
    code: int
    out: str  # stdout + stderr, whitespace collapsed (Rich wraps long lines)


def run_cli(url: str, *args: str) -> CliResult:
    from clientlens.cli.main import build_app

    result = CliRunner().invoke(build_app(), ["--db", url, *args], env={"COLUMNS": "200"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    text_out = result.output + (result.stderr if result.stderr_bytes is not None else "")
    text_out = re.sub("[\u2500-\u257f]", " ", text_out)  # table borders
    return CliResult(result.exit_code, " ".join(text_out.split()))


def count(engine: Engine, table: str, where: str = "") -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT COUNT(*) FROM {table} {where}")).scalar_one())


def rows(engine: Engine, sql: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql)).all()]


def quarantine(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def nothing_written(engine: Engine) -> bool:
    return all(count(engine, t) == 0 for t in ("shops", "customers", "orders", "order_lines", "import_runs"))
