"""A committed configuration change reaches the live engine (through kefu.routing.service.reconfigure)."""

from __future__ import annotations

import pytest

from kefu.core.errors import ValidationFailed
from kefu.routing import config_service as svc
from tests.factories import make_staff


async def test_changes_reload_the_running_engine_after_commit(rt):
    from kefu.routing import service as routing_service

    engine = await routing_service.get_engine(rt)
    assert await engine.queues() == []
    agent = await make_staff(rt, roles=["agent"])
    async with rt.db.transaction() as s:
        await svc.create_queue(s, actor=None, code="general", name="综合", skills=["general"])
        await svc.set_skills(s, actor=None, staff_id=agent.id, skills={"general": 6})
        assert await engine.queues() == []  # not before the commit
    assert [q.code for q in await engine.queues()] == ["general"]
    view = await engine.agent(agent.id)
    assert view is not None
    assert view.skills == {"general": 6}

    async def good_then_bad() -> None:
        async with rt.db.transaction() as s:
            await svc.update_queue(s, actor=None, code="general", min_proficiency=5)
            await svc.update_queue(s, actor=None, code="general", min_proficiency=50)

    with pytest.raises(ValidationFailed):
        await good_then_bad()
    assert (await engine.queues())[0].min_proficiency == 1  # a rollback reloads nothing
    async with rt.db.transaction() as s:
        await svc.update_queue(s, actor=None, code="general", min_proficiency=5)
    assert (await engine.queues())[0].min_proficiency == 5
