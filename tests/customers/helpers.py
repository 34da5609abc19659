"""Helpers of the customers tests: generated people only (fictitious names, phones and ID numbers)."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient

from kefu.core import runtime
from tests.factories import auth_headers, make_staff, raw_rows

BASE = "/api/v1/customers"
WORDS = "您同意本行为服务联系目的保存并使用您提供的联系方式吗？客户回答：同意。"


def consent(group: str, channel: str = "phone", **kw: Any) -> dict[str, Any]:
    return {"field_group": group, "channel": channel, "words_shown": WORDS, **kw}


async def agent(rt: runtime.Runtime, client: AsyncClient, roles: list[str] | None = None) -> tuple[Any, dict[str, str]]:
    staff = await make_staff(rt, roles=roles or ["agent"])
    return staff, await auth_headers(client, staff)


async def create(client: AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    r = await client.post(BASE, headers=headers, json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def sms_bodies(rt: runtime.Runtime) -> list[str]:
    """Decrypted bodies of the SMS outbox, oldest first (the test reads the code back from here)."""
    from sqlalchemy import select

    from kefu.channels.models import OutboundMessage

    async with rt.db.transaction() as s:
        rows = (await s.execute(select(OutboundMessage).order_by(OutboundMessage.id))).scalars().all()
        return [m.body for m in rows]


async def audit_rows(rt: runtime.Runtime, action_prefix: str) -> list[Any]:
    return await raw_rows(
        rt,
        "SELECT action, outcome, object_type, object_id, purpose, before, after, actor FROM audit_log "
        "WHERE action LIKE :p ORDER BY seq",
        p=action_prefix + "%",
    )
