"""The demo routing configuration: complete, consistent with the rules, and loaded once."""

from __future__ import annotations

from kefu.routing import config_service as svc
from kefu.routing import demo
from kefu.staff import demo as staff_demo
from kefu.staff import repository as staff_repo
from tests.routing_config.helpers import audit_actions


async def test_seed_is_idempotent_and_routes_the_hotline(rt):
    async with rt.db.transaction() as s:
        await staff_demo.load(s)
        first = await demo.seed(s)
    assert first == {"queues": 13, "ivr_routes": 11, "agents": 20}
    entries = len(await audit_actions(rt))
    async with rt.db.transaction() as s:
        assert await demo.seed(s) == {"queues": 0, "ivr_routes": 0, "agents": 0}
    assert len(await audit_actions(rt)) == entries  # the second run changed nothing

    async with rt.db.transaction() as s:
        queues, agents = await svc.engine_config(s)
        by_code = {q.code: q for q in queues}
        assert set(by_code) == {q[0] for q in demo.QUEUES} | {d[0] for d in demo.DEPARTMENTS}
        assert (by_code["vip"].min_proficiency, by_code["vip"].widen_after_s, by_code["vip"].overflow_after_s,
                by_code["vip"].overflow_queue) == (7, 20.0, 45.0, "general")  # fmt: skip
        assert by_code["credit_cards"].overflow_queue == "general"
        assert by_code["credit_cards"].overflow_after_s == 60
        assert by_code["cards"].base_priority > by_code["general"].base_priority
        assert by_code["complaints"].acceleration > by_code["general"].acceleration
        assert len(agents) == 20
        assert all("general" in a.skills and 2 <= len(a.skills) <= 4 for a in agents)
        # every queue and department has at least one agent qualified at its full proficiency
        for q in queues:
            assert any(all(a.skills.get(k, 0) >= q.min_proficiency for k in q.skills) for a in agents), q.code
        lost = await svc.route_for(s, dialled_number="400-000-0000", ivr_choices=["1"])
        assert lost is not None
        assert (lost.queue_code, lost.priority_bonus) == ("cards", 200)
        for choice, code in (("2", "savings"), ("3", "credit_cards"), ("4", "loans"), ("5", "ebanking"),
                             ("6", "forex"), ("8", "complaints"), ("9", "english"), ("0", "general"),
                             ("7", "general")):  # fmt: skip
            r = await svc.route_for(s, dialled_number="4000000000", ivr_choices=[choice])
            assert r is not None, choice
            assert r.queue_code == code, choice
        r = await svc.route_for(s, dialled_number="4000000000", ivr_choices=[])
        assert r is not None
        assert r.queue_code == "general"
        r = await svc.route_for(s, dialled_number="021-00000000", ivr_choices=["1"])
        assert r is not None
        assert (r.dialled_number, r.queue_code) == ("*", "general")
        lead = await staff_repo.get_staff_by_no(s, "L1002")
        assert lead is not None
        assert (await svc.skills_of(s, lead.id))["cards"] >= 7


async def test_seed_keeps_hand_made_changes_and_fills_gaps(rt):
    async with rt.db.transaction() as s:
        await demo.seed(s)  # no demo staff yet: queues and routes only
        agent = await staff_repo.get_staff_by_no(s, "10001")
        assert agent is None
    async with rt.db.transaction() as s:
        await svc.update_queue(s, actor=None, code="vip", min_proficiency=9)
        routes = await svc.list_ivr_routes(s)
        await svc.delete_ivr_route(s, actor=None, route_id=next(r.id for r in routes if r.ivr_prefix == "9"))
        await staff_demo.load(s)
    async with rt.db.transaction() as s:
        assert await demo.seed(s) == {"queues": 0, "ivr_routes": 1, "agents": 20}
        assert (await svc.get_queue(s, "vip")).min_proficiency == 9
