"""Helpers of the routing configuration tests (generated staff only)."""

from __future__ import annotations

from typing import Any

import pytest

from kefu.core import runtime
from kefu.core.errors import ValidationFailed
from kefu.routing import config_service as svc
from tests.factories import raw_rows

BASE = "/api/v1/routing"


async def queue(rt: runtime.Runtime, code: str, skills: list[str] | None = None, **kw: Any) -> dict[str, Any]:
    async with rt.db.transaction() as s:
        q = await svc.create_queue(s, actor=None, code=code, name=kw.pop("name", code), skills=skills or ["general"],
                                   **kw)  # fmt: skip
        return svc.queue_view(q)


async def fails(rt: runtime.Runtime, coro_fn: Any, **kw: Any) -> list[str]:
    """Run ``coro_fn(session, actor=None, **kw)``; it must fail validation. Returns the named fields."""
    with pytest.raises(ValidationFailed) as info:
        async with rt.db.transaction() as s:
            await coro_fn(s, actor=None, **kw)
    errors = info.value.extra["errors"]
    assert errors
    assert all(e["message"] for e in errors), errors
    return [e["field"] for e in errors]


async def audit_actions(rt: runtime.Runtime, prefix: str = "routing.") -> list[tuple[str, str]]:
    rows = await raw_rows(
        rt, "SELECT action, object_id FROM audit_log WHERE action LIKE :p ORDER BY seq", p=prefix + "%"
    )
    return [(r.action, r.object_id) for r in rows]
