"""Contacts fixtures: the app with every contacts router, and helpers that drive contacts through the
service functions the routing glue calls (generated data only)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kefu.contacts import service
from kefu.contacts.models import Contact
from kefu.core import clock, runtime
from kefu.core.auth import iter_routes

T0 = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai


@pytest.fixture
async def app(rt: runtime.Runtime) -> Any:
    """The application, with the follow-up and category routers even before main.py includes them."""
    from kefu.contacts import router_categories, router_followups
    from kefu.main import create_app

    application = create_app(rt=rt)
    paths = {getattr(r, "path", "") for r in iter_routes(application)}
    for mod in (router_followups, router_categories):
        if mod.router.prefix not in paths:
            application.include_router(mod.router)
            application.state.route_paths.update(
                {id(r.original_route): r.path for r in iter_routes(application) if getattr(r, "path", None)}
            )
    return application


async def open_contact(rt: runtime.Runtime, **kw: Any) -> Contact:
    kw.setdefault("channel", "phone")
    kw.setdefault("direction", "inbound")
    kw.setdefault("queue_code", "general")
    kw.setdefault("arrived_at", clock.now())
    async with rt.db.transaction() as s:
        return await service.open_contact(s, **kw)


async def record(
    rt: runtime.Runtime, contact_id: int, kind: str, at: dt.datetime, agent_id: int | None = None, **data: Any
) -> Contact:
    async with rt.db.transaction() as s:
        return await service.record(s, contact_id=contact_id, kind=kind, at=at, agent_id=agent_id,
                                    settings=rt.settings, **data)  # fmt: skip


async def handled(
    rt: runtime.Runtime,
    agent_id: int,
    *,
    arrived: dt.datetime | None = None,
    wait: float = 6.0,
    talk: float = 120.0,
    end: bool = True,
    **kw: Any,
) -> Contact:
    """A phone contact answered by ``agent_id`` after ``wait`` seconds, and ended after ``talk``."""
    arrived = arrived or clock.now() - dt.timedelta(seconds=wait + talk + 1)
    c = await open_contact(rt, arrived_at=arrived, **kw)
    await record(rt, c.id, "offered", arrived + dt.timedelta(seconds=max(wait - 1, 0)), agent_id)
    answered = arrived + dt.timedelta(seconds=wait)
    c = await record(rt, c.id, "answered", answered, agent_id, waited_s=wait)
    if end:
        c = await record(rt, c.id, "ended", answered + dt.timedelta(seconds=talk), agent_id)
    return c
