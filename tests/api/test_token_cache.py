"""Bearer tokens are cached per process for a few seconds; revocations through the API apply at once."""

from __future__ import annotations

from sqlalchemy import select

from clientlens.service import auth
from clientlens.store import auth_models as am
from clientlens.store.db import session_scope
from clientlens.store.repository import utcnow


def test_cached_token_lookups_and_revocation(engine, api, tokens) -> None:  # type: ignore[no-untyped-def]
    tok = tokens["analyst"]
    assert api["analyst"].get("/api/v1/me").json()["role"] == "analyst"  # looked up and cached
    with session_scope(engine) as s:
        assert auth.cached_principal(s, tok) == auth.Principal(name="test-analyst", role="analyst", kind="token")
        assert auth.cached_principal(s, "cl_not-a-token") is auth.NOT_CACHED
        # Revoked by another process (the CLI): this process learns it when the entry expires.
        s.scalar(select(am.ApiToken).where(am.ApiToken.name == "test-analyst")).revoked_at = utcnow()  # type: ignore[union-attr]
    with session_scope(engine) as s:
        assert auth.principal_from_token(s, tok, cache_seconds=600) is not None  # still cached
        assert auth.principal_from_token(s, tok, cache_seconds=0) is None  # expired: asks the store
    # Revoked through the API: refused at once.
    agent = tokens["agent"]
    assert api["agent"].get("/api/v1/me").status_code == 200
    listed = api["admin"].get("/api/v1/tokens").json()
    tid = next(t["id"] for t in listed if t["name"] == "test-agent")
    assert api["admin"].delete(f"/api/v1/tokens/{tid}").status_code == 200
    assert api["agent"].get("/api/v1/me").status_code == 401
    with session_scope(engine) as s:
        assert auth.cached_principal(s, agent) in (None, auth.NOT_CACHED)
