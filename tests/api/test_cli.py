"""``clientlens users add ... --password-stdin`` and ``clientlens tokens create``."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from clientlens.app import create_app
from clientlens.cli.main import build_app
from clientlens.config import load_settings
from clientlens.store.db import make_engine
from tests.api.conftest import login


def test_users_add_and_tokens_create(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    app = build_app()
    res = runner.invoke(app, ["--db", db, "users", "add", "maria", "--role", "agent", "--password-stdin"],
                        input="a-long-password\n")
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["--db", db, "users", "add", "x", "--role", "boss", "--password-stdin"], input="pw\n")
    assert res.exit_code != 0
    res = runner.invoke(app, ["--db", db, "tokens", "create", "crm", "--role", "analyst"])
    assert res.exit_code == 0, res.output
    token = res.output.strip().splitlines()[-1]
    assert token.startswith("cl_")
    engine = make_engine(db)
    web = create_app(load_settings(search_cwd=False), engine)
    assert TestClient(web, headers={"Authorization": f"Bearer {token}"}).get("/api/v1/me").json()["role"] == "analyst"
    client = TestClient(web)
    login(client, "maria", "a-long-password")
    assert client.get("/api/v1/me").json()["role"] == "agent"
    engine.dispose()
