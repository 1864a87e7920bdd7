"""Login: the attempt limit holds under concurrency, per client and account; X-Forwarded-For only from
trusted proxies; unknown users cost as much as known ones; password resets and (de)activation end
sessions; the last admin stays; security headers on every response, 500s included. SQLite and PostgreSQL."""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from clientlens.app import SECURITY_HEADERS, create_app
from clientlens.config import load_settings
from clientlens.errors import ConfigError
from clientlens.service import auth
from clientlens.service.config import web_settings
from clientlens.store import auth_models as am
from clientlens.store.db import session_scope

PASSWORD = "right-password-1"


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Cheaper argon2id parameters (the same for real and dummy hashes): what is compared is the
    path a login takes, not the hash's cost, and 30 logins at full cost on a shared machine take long."""
    from argon2 import PasswordHasher

    from clientlens.service import security

    monkeypatch.setattr(security, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))
    auth._dummy_hash.cache_clear()
    yield
    auth._dummy_hash.cache_clear()


@pytest.fixture
def users(store_engine):  # type: ignore[no-untyped-def]
    with session_scope(store_engine) as s:
        auth.add_user(s, "admin", "admin", PASSWORD)
        auth.add_user(s, "ann", "analyst", PASSWORD)
    return store_engine


def _cfg(**over: Any) -> Any:
    return web_settings(load_settings(search_cwd=False, overrides={"web": over}))


def _failures(engine, name: str) -> int:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(am.LoginAttempt).where(
            am.LoginAttempt.username == name, am.LoginAttempt.success.is_(False))) or 0


def test_concurrent_wrong_attempts_record_exactly_the_limit(users) -> None:  # type: ignore[no-untyped-def]
    cfg = _cfg()
    results: list[str] = []
    barrier = threading.Barrier(30)

    def attempt() -> None:
        barrier.wait()
        try:
            results.append("ok" if auth.login(users, cfg, "admin", "wrong-password", "198.51.100.9") else "no")
        except auth.ThrottledError:
            results.append("throttled")

    threads = [threading.Thread(target=attempt) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _failures(users, "admin") == cfg.login_max_failures
    assert results.count("no") == cfg.login_max_failures and results.count("throttled") == 30 - cfg.login_max_failures
    with pytest.raises(auth.ThrottledError):  # the locked-out client stays locked out, right password or not
        auth.login(users, cfg, "admin", PASSWORD, "198.51.100.9")
    # ...but a stranger cannot lock the admin out: from her own address the right password works
    assert auth.login(users, cfg, "admin", PASSWORD, "203.0.113.1") is not None


def test_forwarded_for_only_from_trusted_proxies() -> None:
    assert auth.client_address("127.0.0.1", "6.6.6.6", []) == "127.0.0.1"
    assert auth.client_address("127.0.0.1", "6.6.6.6", ["127.0.0.1"]) == "6.6.6.6"
    assert auth.client_address("10.1.2.3", "6.6.6.6, 10.0.0.9", ["10.0.0.0/8"]) == "6.6.6.6"
    assert auth.client_address("192.0.2.1", "6.6.6.6", ["10.0.0.0/8"]) == "192.0.2.1"


def test_web_login_ignores_forwarded_for_from_an_untrusted_peer(users, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(search_cwd=False, overrides={"web": {"upload_dir": str(tmp_path / "u")}})
    client = TestClient(create_app(settings, users))  # the test client's peer is "testclient"
    for n in range(7):
        page = client.get("/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        resp = client.post("/login", data={"username": "ann", "password": "nope-nope", "csrf_token": token},
                           headers={"X-Forwarded-For": f"192.0.2.{n}"}, follow_redirects=False)
    assert resp.status_code == 429  # the spoofed addresses did not give fresh limits
    with session_scope(users) as s:
        assert set(s.scalars(select(am.LoginAttempt.ip).distinct())) == {"testclient"}


def test_unknown_and_known_users_take_as_long(users) -> None:  # type: ignore[no-untyped-def]
    cfg = _cfg(login_max_failures=10_000, login_max_failures_per_address=10_000)
    auth.login(users, cfg, "nobody", "x-wrong-x", "192.0.2.50")  # warm the dummy hash up

    times: dict[str, list[float]] = {"admin": [], "nobody-at-all": []}
    for _ in range(25):  # interleaved, so the machine's load weighs on both alike
        for name, seen in times.items():
            start = time.perf_counter()
            auth.login(users, cfg, name, "x-wrong-x", "192.0.2.50")
            seen.append(time.perf_counter() - start)
    known, unknown = statistics.median(times["admin"]), statistics.median(times["nobody-at-all"])
    assert abs(unknown - known) <= 0.2 * known, (known, unknown)


def _session_count(engine, name: str) -> int:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(am.WebSession).join(am.User).where(
            am.User.name == name)) or 0


def test_reset_and_deactivation_end_sessions(users) -> None:  # type: ignore[no-untyped-def]
    cfg = _cfg()
    first = auth.login(users, cfg, "ann", PASSWORD, "192.0.2.7")
    second = auth.login(users, cfg, "ann", PASSWORD, "192.0.2.8")
    assert first and second and _session_count(users, "ann") == 2
    with session_scope(users) as s:  # a change by the user: the session doing it stays
        auth.set_password(s, "ann", "new-password-2", actor="user:ann", keep_cookie=second[0])
    with session_scope(users) as s:
        assert auth.principal_from_session(s, first[0]) is None
        assert auth.principal_from_session(s, second[0]) is not None
    with session_scope(users) as s:  # a reset by an admin (or `clientlens users add`): all of them end
        auth.add_user(s, "ann", "analyst", "third-password-3", actor="user:admin")
    assert _session_count(users, "ann") == 0
    third = auth.login(users, cfg, "ann", "third-password-3", "192.0.2.7")
    assert third is not None
    with session_scope(users) as s:
        auth.set_active(s, "ann", False, actor="user:admin")
    with session_scope(users) as s:
        auth.set_active(s, "ann", True, actor="user:admin")
    with session_scope(users) as s:  # re-activation does not revive the old session
        assert auth.principal_from_session(s, third[0]) is None


def test_the_last_admin_stays(users) -> None:  # type: ignore[no-untyped-def]
    with session_scope(users) as s, pytest.raises(ConfigError, match="last active admin"):
        auth.set_active(s, "admin", False, actor="user:admin")
    with session_scope(users) as s, pytest.raises(ConfigError, match="last active admin"):
        auth.set_role(s, "admin", "analyst", actor="user:admin")
    with session_scope(users) as s:
        auth.set_role(s, "ann", "admin", actor="user:admin")
    with session_scope(users) as s:  # with a second admin, the first may step down
        auth.set_role(s, "admin", "analyst", actor="user:admin")


def test_security_headers_on_a_server_error(users, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(search_cwd=False, overrides={"web": {"upload_dir": str(tmp_path / "u")}})
    app: FastAPI = create_app(settings, users)

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    client = TestClient(app, raise_server_exceptions=False)
    resp = client.get("/api/v1/boom")
    assert resp.status_code == 500
    assert resp.json()["error"]["code"] == "server_error" and "boom" not in resp.text
    for key, value in SECURITY_HEADERS:
        assert resp.headers[key.decode()] == value.decode()
    ok = client.get("/login")
    assert all(key.decode() in ok.headers for key, _ in SECURITY_HEADERS)


def test_serve_writes_no_access_log_and_ignores_forwarded_headers() -> None:
    """``clientlens serve``: no access log (its lines carry query strings: e-mails, names) and uvicorn
    does not rewrite the client address from X-Forwarded-For (the app decides, from trusted proxies)."""
    from clientlens.cli.web_cmds import SERVER_OPTIONS

    assert SERVER_OPTIONS == {"access_log": False, "proxy_headers": False}
