"""Roles, the permission matrix, password hashing and token helpers.

The matrix (documented in docs/api.md and checked endpoint by endpoint in tests/api/test_authz.py):

================== ===== ======= =====
permission         admin analyst agent
================== ===== ======= =====
shops.read           x      x      x
customers.read       x      x      x     (list, 360, orders, interactions, feedback, predictions, actions)
conversations.write  x             x     (reply, assign, resolve)
analytics.read       x      x            (dashboard, segments, flows, snapshots)
segments.export      x      x            (bulk export of a segment)
campaigns.read       x      x
campaigns.write      x      x
imports.write        x      x
merges.read          x      x
merges.write         x      x
privacy              x                   (export everything on one customer, erase a customer)
snapshots.delete     x                   (remove an analysis)
users.admin          x                   (users, roles, API tokens)
audit.read           x
================== ===== ======= =====
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES: tuple[str, ...] = ("admin", "analyst", "agent")

PERMISSIONS: dict[str, frozenset[str]] = {
    "shops.read": frozenset(ROLES),
    "customers.read": frozenset(ROLES),
    "conversations.write": frozenset({"admin", "agent"}),
    "analytics.read": frozenset({"admin", "analyst"}),
    "segments.export": frozenset({"admin", "analyst"}),
    "campaigns.read": frozenset({"admin", "analyst"}),
    "campaigns.write": frozenset({"admin", "analyst"}),
    "imports.write": frozenset({"admin", "analyst"}),
    "merges.read": frozenset({"admin", "analyst"}),
    "merges.write": frozenset({"admin", "analyst"}),
    "privacy": frozenset({"admin"}),
    "snapshots.delete": frozenset({"admin"}),
    "users.admin": frozenset({"admin"}),
    "audit.read": frozenset({"admin"}),
}

_HASHER = PasswordHasher()


@dataclass(frozen=True)
class Principal:
    """Who is calling: a logged-in user (browser session) or an API token."""

    name: str
    role: str
    kind: str  # "user" | "token"
    user_id: int | None = None
    csrf_token: str | None = None
    language: str | None = None

    def can(self, permission: str) -> bool:
        """Whether this principal's role grants ``permission``."""
        return self.role in PERMISSIONS[permission]

    @property
    def actor(self) -> str:
        """How the audit log names this principal."""
        return f"{self.kind}:{self.name}"


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash`` (never raises on a wrong password)."""
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token(prefix: str = "") -> str:
    """A random URL-safe secret."""
    return prefix + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """SHA-256 hex digest of a token (what the store keeps)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two secrets."""
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode(), b.encode())


def sign(secret: str, message: str) -> str:
    """HMAC-SHA256 of ``message`` (hex, shortened) for links such as unsubscribe."""
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()[:32]
