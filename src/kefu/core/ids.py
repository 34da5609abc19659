"""Identifiers and random tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from typing import Annotated

from fastapi import Path

#: Largest row id accepted from outside; beyond it a number is a 422, never a database error.
MAX_ROW_ID = 2**62

#: A row id in a URL path.
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


def request_id() -> str:
    return uuid.uuid4().hex


def new_token(prefix: str) -> str:
    """An opaque bearer secret: ``prefix_`` + 256 bits."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_digest(token: str, secret: bytes) -> str:
    """Tokens are stored only as a keyed hash; KEFU_SECRET_KEY is the key."""
    return hmac.new(secret, token.encode(), hashlib.sha256).hexdigest()
