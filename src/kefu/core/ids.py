"""Identifiers and random tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid


def request_id() -> str:
    return uuid.uuid4().hex


def new_token(prefix: str) -> str:
    """An opaque bearer secret: ``prefix_`` + 256 bits."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_digest(token: str, secret: bytes) -> str:
    """Tokens are stored only as a keyed hash; KEFU_SECRET_KEY is the key."""
    return hmac.new(secret, token.encode(), hashlib.sha256).hexdigest()
