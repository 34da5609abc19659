"""Queues: every validation rule names its field; changes are audited and reload the live engine."""

from __future__ import annotations

import json

import pytest

from kefu.core.errors import Conflict, NotFound, ValidationFailed
from kefu.routing import config_service as svc
from tests.routing_config.helpers import audit_actions, fails, queue


async def test_create_list_update_deactivate(rt):
    await queue(rt, "general", name="综合业务")
    q = await queue(rt, "vip", ["vip", "general"], min_proficiency=7, base_priority=100, acceleration=1.5,
                    widen_after_s=20, overflow_after_s=45, overflow_queue="general")  # fmt: skip
    assert q["skills"] == ["general", "vip"]  # kept in the order of SKILLS, once each
    assert (q["min_proficiency"], q["base_priority"], q["overflow_queue"]) == (7, 100.0, "general")
    async with rt.db.transaction() as s:
        assert [x.code for x in await svc.list_queues(s)] == ["general", "vip"]
        u = await svc.update_queue(s, actor=None, code="vip", widen_after_s=None, name="贵宾专线")
        assert (u.widen_after_s, u.name, u.overflow_after_s) == (None, "贵宾专线", 45)
        # clearing the overflow takes both fields
        u = await svc.update_queue(s, actor=None, code="vip", overflow_queue=None, overflow_after_s=None)
        assert u.overflow_queue is None
        await svc.deactivate_queue(s, actor=None, code="vip")
        assert [x.code for x in await svc.list_queues(s)] == ["general"]
        assert [x.code for x in await svc.list_queues(s, include_inactive=True)] == ["general", "vip"]
        u = await svc.update_queue(s, actor=None, code="vip", active=True)
        assert u.active
    assert await audit_actions(rt) == [
        ("routing.queue.create", "general"), ("routing.queue.create", "vip"), ("routing.queue.update", "vip"),
        ("routing.queue.update", "vip"), ("routing.queue.deactivate", "vip"), ("routing.queue.update", "vip"),
    ]  # fmt: skip


async def test_an_update_that_changes_nothing_writes_no_audit_entry(rt):
    await queue(rt, "general")
    async with rt.db.transaction() as s:
        await svc.update_queue(s, actor=None, code="general", skills=["general"], min_proficiency=1)
        await svc.deactivate_queue(s, actor=None, code="general")
        await svc.deactivate_queue(s, actor=None, code="general")  # already inactive: nothing to do
    assert await audit_actions(rt) == [("routing.queue.create", "general"), ("routing.queue.deactivate", "general")]


@pytest.mark.parametrize("code", ["A", "g", "1general", "gen-eral", "gen eral", "综合", "a" * 41, ""])
async def test_code_pattern(rt, code):
    assert await fails(rt, svc.create_queue, code=code, name="x", skills=["general"]) == ["code"]


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"skills": []}, "skills"),
        ({"skills": ["general", "mortgages"]}, "skills"),
        ({"min_proficiency": 0}, "min_proficiency"),
        ({"min_proficiency": 11}, "min_proficiency"),
        ({"min_proficiency": 2.5}, "min_proficiency"),
        ({"acceleration": -0.1}, "acceleration"),
        ({"acceleration": float("nan")}, "acceleration"),
        ({"base_priority": float("inf")}, "base_priority"),
        ({"widen_after_s": 0}, "widen_after_s"),
        ({"overflow_after_s": 90_000, "overflow_queue": "general"}, "overflow_after_s"),
        ({"overflow_queue": "general"}, "overflow_after_s"),
        ({"overflow_after_s": 60}, "overflow_queue"),
        ({"overflow_queue": "nowhere", "overflow_after_s": 60}, "overflow_queue"),
        ({"overflow_queue": "closed", "overflow_after_s": 60}, "overflow_queue"),
        ({"overflow_queue": "savings", "overflow_after_s": 60}, "overflow_queue"),  # itself
        ({"widen_after_s": 60, "overflow_after_s": 60, "overflow_queue": "general"}, "widen_after_s"),
        ({"widen_after_s": 90, "overflow_after_s": 60, "overflow_queue": "general"}, "widen_after_s"),
    ],
)
async def test_each_rule_names_its_field(rt, kw, field):
    await queue(rt, "general")
    await queue(rt, "closed")
    async with rt.db.transaction() as s:
        await svc.deactivate_queue(s, actor=None, code="closed")
    args = {"code": "savings", "name": "储蓄", "skills": ["savings"]} | kw
    assert await fails(rt, svc.create_queue, **args) == [field]
    async with rt.db.transaction() as s:
        assert [q.code for q in await svc.list_queues(s, include_inactive=True)] == ["closed", "general"]


async def test_several_mistakes_are_reported_together(rt):
    fields = await fails(rt, svc.create_queue, code="savings", name="", skills=["nope"], min_proficiency=12,
                         acceleration=-1)  # fmt: skip
    assert fields == ["name", "skills", "min_proficiency", "acceleration"]


async def test_widen_before_overflow_is_fine_and_values_are_stored(rt):
    await queue(rt, "general")
    q = await queue(rt, "cards", ["cards"], widen_after_s=10, overflow_after_s=30, overflow_queue="general",
                    base_priority=300, acceleration=0)  # fmt: skip
    assert (q["widen_after_s"], q["overflow_after_s"], q["acceleration"]) == (10, 30, 0.0)


async def test_overflow_cycles_are_refused(rt):
    await queue(rt, "general")
    await queue(rt, "a_queue", overflow_after_s=60, overflow_queue="general")
    await queue(rt, "b_queue", overflow_after_s=60, overflow_queue="a_queue")
    fields = await fails(rt, svc.update_queue, code="general", overflow_queue="b_queue", overflow_after_s=60)
    assert fields == ["overflow_queue"]
    with pytest.raises(ValidationFailed) as info:
        async with rt.db.transaction() as s:
            await svc.update_queue(s, actor=None, code="general", overflow_queue="b_queue", overflow_after_s=60)
    assert "general → b_queue → a_queue → general" in str(info.value)


async def test_duplicate_code_unknown_queue_and_unknown_field(rt):
    await queue(rt, "general")
    with pytest.raises(Conflict) as info:
        await queue(rt, "general")
    assert info.value.extra["errors"][0]["field"] == "code"
    with pytest.raises(NotFound):
        async with rt.db.transaction() as s:
            await svc.update_queue(s, actor=None, code="nowhere", name="x")
    with pytest.raises(NotFound):
        async with rt.db.transaction() as s:
            await svc.deactivate_queue(s, actor=None, code="nowhere")
    assert await fails(rt, svc.update_queue, code="general", code_name="x") == ["code_name"]


async def test_a_queue_others_overflow_to_cannot_be_deactivated(rt):
    await queue(rt, "general")
    await queue(rt, "vip", ["vip"], overflow_after_s=45, overflow_queue="general")
    with pytest.raises(Conflict) as info:
        async with rt.db.transaction() as s:
            await svc.deactivate_queue(s, actor=None, code="general")
    assert info.value.extra["overflowing_queues"] == ["vip"]
    assert "vip" in info.value.detail
    with pytest.raises(Conflict):  # PATCH active=false takes the same road
        async with rt.db.transaction() as s:
            await svc.update_queue(s, actor=None, code="general", active=False)


async def test_reactivation_checks_the_overflow_target_again(rt):
    await queue(rt, "general")
    await queue(rt, "backup")
    await queue(rt, "vip", ["vip"], overflow_after_s=45, overflow_queue="backup")
    async with rt.db.transaction() as s:
        await svc.deactivate_queue(s, actor=None, code="vip")
        await svc.deactivate_queue(s, actor=None, code="backup")  # nothing active overflows to it now
    assert await fails(rt, svc.update_queue, code="vip", active=True) == ["overflow_queue"]
    async with rt.db.transaction() as s:
        q = await svc.update_queue(s, actor=None, code="vip", active=True, overflow_queue="general")
        assert q.active
        assert q.overflow_queue == "general"


async def test_a_queue_fed_by_the_ivr_cannot_become_a_department(rt):
    await queue(rt, "general")
    async with rt.db.transaction() as s:
        await svc.create_ivr_route(s, actor=None, queue_code="general")
    assert await fails(rt, svc.update_queue, code="general", is_department=True) == ["is_department"]


async def test_every_change_queues_one_engine_reload_after_commit(rt):
    async with rt.db.transaction() as s:
        await svc.create_queue(s, actor=None, code="general", name="综合", skills=["general"])
        await svc.create_queue(s, actor=None, code="savings", name="储蓄", skills=["savings"])
        hooks = list(s.info.get("after_commit", []))
    assert hooks.count(svc._reconfigure_engine) == 1
    async with rt.db.transaction() as s:
        await svc.list_queues(s)
        assert svc._reconfigure_engine not in s.info.get("after_commit", [])  # reading changes nothing


async def test_skills_are_stored_as_json(rt):
    await queue(rt, "general", ["english", "general"])
    from tests.factories import raw_rows

    rows = await raw_rows(rt, "SELECT skills FROM routing_queues WHERE code = 'general'")
    assert json.loads(rows[0].skills) == ["general", "english"]
