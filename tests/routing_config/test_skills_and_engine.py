"""Agents' skills (replace, roles, active staff only) and the engine's configuration built from the tables."""

from __future__ import annotations

import pytest

from kefu.core.errors import NotFound
from kefu.routing import config_service as svc
from kefu.routing.types import AgentSpec, QueueSpec
from kefu.staff import auth as staff_auth
from kefu.staff import service as staff_service
from tests.factories import make_staff
from tests.routing_config.helpers import audit_actions, fails, queue


async def test_set_replaces_the_whole_set(rt):
    agent = await make_staff(rt, roles=["agent"])
    async with rt.db.transaction() as s:
        assert await svc.skills_of(s, agent.id) == {}
        await svc.set_skills(s, actor=None, staff_id=agent.id, skills={"general": 6, "savings": 8})
    async with rt.db.transaction() as s:
        assert await svc.skills_of(s, agent.id) == {"general": 6, "savings": 8}
        await svc.set_skills(s, actor=None, staff_id=agent.id, skills={"loans": 3})
    async with rt.db.transaction() as s:
        assert await svc.skills_of(s, agent.id) == {"loans": 3}
        await svc.set_skills(s, actor=None, staff_id=agent.id, skills={"loans": 3})  # same: no entry
        await svc.set_skills(s, actor=None, staff_id=agent.id, skills={})
    async with rt.db.transaction() as s:
        assert await svc.skills_of(s, agent.id) == {}
    sid = str(agent.id)
    assert await audit_actions(rt) == [("routing.skills.set", sid)] * 3


async def test_team_leads_hold_skills_other_roles_do_not(rt):
    lead = await make_staff(rt, roles=["team_lead"])
    planner = await make_staff(rt, roles=["wfm_planner", "supervisor"])
    async with rt.db.transaction() as s:
        assert await svc.set_skills(s, actor=None, staff_id=lead.id, skills={"general": 9}) == {"general": 9}
    assert await fails(rt, svc.set_skills, staff_id=planner.id, skills={"general": 5}) == ["staff_id"]
    with pytest.raises(NotFound):
        async with rt.db.transaction() as s:
            await svc.set_skills(s, actor=None, staff_id=999_999, skills={"general": 5})


@pytest.mark.parametrize(
    ("skills", "fields"),
    [
        ({"mortgages": 5}, ["skills.mortgages"]),
        ({"general": 0}, ["skills.general"]),
        ({"general": 11}, ["skills.general"]),
        ({"general": 5, "vip": True, "english": 7.5}, ["skills.vip", "skills.english"]),
    ],
)
async def test_skill_rules(rt, skills, fields):
    agent = await make_staff(rt, roles=["agent"])
    assert await fails(rt, svc.set_skills, staff_id=agent.id, skills=skills) == fields
    async with rt.db.transaction() as s:
        assert await svc.skills_of(s, agent.id) == {}


async def test_all_agent_skills_lists_active_agents_only(rt):
    a = await make_staff(rt, roles=["agent"])
    b = await make_staff(rt, roles=["agent"])
    gone = await make_staff(rt, roles=["agent"])
    idle = await make_staff(rt, roles=["agent"])  # no skills
    admin = staff_auth.principal_for(await make_staff(rt, roles=["admin"]), kind="cli")
    async with rt.db.transaction() as s:
        for staff, skills in ((a, {"general": 5}), (b, {"general": 7, "vip": 8}), (gone, {"general": 9})):
            await svc.set_skills(s, actor=None, staff_id=staff.id, skills=skills)
        await staff_service.set_status(s, actor=admin, staff_id=gone.id, status="suspended", reason="test")
    async with rt.db.transaction() as s:
        assert await svc.all_agent_skills(s) == {a.id: {"general": 5}, b.id: {"general": 7, "vip": 8}}
    assert idle.id not in (await _agents(rt))


async def _agents(rt):
    async with rt.db.transaction() as s:
        return {spec.agent_id for spec in (await svc.engine_config(s))[1]}


async def test_engine_config(rt):
    await queue(rt, "general", name="综合业务")
    await queue(rt, "vip", ["vip", "general"], name="贵宾", min_proficiency=7, base_priority=100, acceleration=1.5,
                widen_after_s=20, overflow_after_s=45, overflow_queue="general")  # fmt: skip
    await queue(rt, "card_backoffice", ["cards"], name="卡部后台", is_department=True)
    await queue(rt, "closed")
    a = await make_staff(rt, roles=["agent"])
    lead = await make_staff(rt, roles=["team_lead", "agent"])
    async with rt.db.transaction() as s:
        await svc.deactivate_queue(s, actor=None, code="closed")
        await svc.set_skills(s, actor=None, staff_id=lead.id, skills={"general": 9, "cards": 8})
        await svc.set_skills(s, actor=None, staff_id=a.id, skills={"general": 5})
    async with rt.db.transaction() as s:
        queues, agents = await svc.engine_config(s)
    assert queues == [
        QueueSpec(code="card_backoffice", name="卡部后台", skills=("cards",)),
        QueueSpec(code="general", name="综合业务", skills=("general",)),
        QueueSpec(code="vip", name="贵宾", skills=("general", "vip"), min_proficiency=7, base_priority=100.0,
                  acceleration=1.5, widen_after_s=20.0, overflow_after_s=45.0, overflow_queue="general"),
    ]  # fmt: skip
    assert all(isinstance(q.widen_after_s, float) for q in queues if q.widen_after_s is not None)
    assert isinstance(queues[0].base_priority, float)
    assert isinstance(queues[0].skills, tuple)
    assert agents == sorted(
        [
            AgentSpec(agent_id=a.id, skills={"general": 5}),
            AgentSpec(agent_id=lead.id, skills={"cards": 8, "general": 9}),
        ],
        key=lambda x: x.agent_id,
    )


async def test_engine_config_is_empty_on_a_fresh_center(rt):
    async with rt.db.transaction() as s:
        assert await svc.engine_config(s) == ([], [])
