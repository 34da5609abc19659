"""IVR routes: the longest prefix in whole choices wins, the exact number beats '*' at equal length,
routes to inactive queues are skipped; creation rules name their field."""

from __future__ import annotations

import pytest

from kefu.core.errors import Conflict, NotFound
from kefu.routing import config_service as svc
from tests.routing_config.helpers import audit_actions, fails, queue

HOTLINE = "400-000-0000"


async def _route(rt, **kw):
    async with rt.db.transaction() as s:
        return svc.ivr_view(await svc.create_ivr_route(s, actor=None, **kw))


async def _for(rt, number, choices):
    async with rt.db.transaction() as s:
        r = await svc.route_for(s, dialled_number=number, ivr_choices=choices)
        return None if r is None else (r.dialled_number, r.ivr_prefix, r.queue_code)


@pytest.fixture
async def menu(rt):
    for code in ("general", "cards", "savings", "credit_cards", "english", "lost", "short"):
        await queue(rt, code)
    await _route(rt, queue_code="general")  # '*' and '': every call
    await _route(rt, dialled_number=HOTLINE, ivr_prefix="", queue_code="savings")
    await _route(rt, dialled_number=HOTLINE, ivr_prefix="1", queue_code="cards", priority_bonus=200, label="挂失")
    await _route(rt, dialled_number=HOTLINE, ivr_prefix="1,2", queue_code="lost")
    await _route(rt, ivr_prefix="1", queue_code="credit_cards")  # any number, choice 1
    await _route(rt, ivr_prefix="1,2,3", queue_code="short")  # any number, longer
    await _route(rt, ivr_prefix="9", queue_code="english")


async def test_longest_prefix_on_whole_choices(rt, menu):
    assert await _for(rt, HOTLINE, ["1"]) == ("4000000000", "1", "cards")
    assert await _for(rt, HOTLINE, ["1", "2"]) == ("4000000000", "1,2", "lost")
    assert await _for(rt, HOTLINE, ["1", "2", "7"]) == ("4000000000", "1,2", "lost")
    # "1" matches the choices "1,2" but not the single choice "12"
    assert await _for(rt, HOTLINE, ["12"]) == ("4000000000", "", "savings")
    assert await _for(rt, HOTLINE, ["1", "23"]) == ("4000000000", "1", "cards")
    # a longer '*' prefix beats a shorter one for the exact number
    assert await _for(rt, HOTLINE, ["1", "2", "3"]) == ("*", "1,2,3", "short")


async def test_exact_number_beats_any_number_at_equal_length(rt, menu):
    assert await _for(rt, "4000000000", ["1"]) == ("4000000000", "1", "cards")
    assert await _for(rt, "400 000 0000", []) == ("4000000000", "", "savings")
    assert await _for(rt, "95500", ["1"]) == ("*", "1", "credit_cards")
    assert await _for(rt, None, ["1"]) == ("*", "1", "credit_cards")
    assert await _for(rt, "", []) == ("*", "", "general")
    assert await _for(rt, "not a number", ["9"]) == ("*", "9", "english")
    assert await _for(rt, "95500", ["7", "1"]) == ("*", "", "general")


async def test_routes_to_inactive_queues_are_skipped(rt, menu):
    async with rt.db.transaction() as s:
        await svc.deactivate_queue(s, actor=None, code="lost")
        await svc.deactivate_queue(s, actor=None, code="cards")
    assert await _for(rt, HOTLINE, ["1", "2"]) == ("*", "1", "credit_cards")
    async with rt.db.transaction() as s:
        await svc.deactivate_queue(s, actor=None, code="general")
    assert await _for(rt, "95500", ["4"]) is None


async def test_no_routes_no_answer(rt):
    assert await _for(rt, HOTLINE, ["1"]) is None


async def test_choices_that_are_not_choices_stop_the_match(rt, menu):
    assert await _for(rt, HOTLINE, ["1", "2,3"]) == ("4000000000", "1", "cards")
    assert await _for(rt, HOTLINE, [" 1 ", "2"]) == ("4000000000", "1,2", "lost")


async def test_create_normalises_and_lists_and_deletes(rt, menu):
    r = await _route(rt, dialled_number=" 400-000-0001 ", ivr_prefix=" 3 , 1 ", queue_code="general", label=" x ")
    assert (r["dialled_number"], r["ivr_prefix"], r["label"]) == ("4000000001", "3,1", "x")
    async with rt.db.transaction() as s:
        listed = [(x.dialled_number, x.ivr_prefix) for x in await svc.list_ivr_routes(s)]
        assert ("4000000001", "3,1") in listed
        assert len(listed) == 8
        await svc.delete_ivr_route(s, actor=None, route_id=r["id"])
    async with rt.db.transaction() as s:
        assert len(await svc.list_ivr_routes(s)) == 7
    with pytest.raises(NotFound):
        async with rt.db.transaction() as s:
            await svc.delete_ivr_route(s, actor=None, route_id=r["id"])
    actions = await audit_actions(rt, "routing.ivr_route")
    assert actions[-2:] == [("routing.ivr_route.create", str(r["id"])), ("routing.ivr_route.delete", str(r["id"]))]


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"dialled_number": "12"}, "dialled_number"),
        ({"dialled_number": "abc"}, "dialled_number"),
        ({"dialled_number": ""}, "dialled_number"),
        ({"ivr_prefix": "1,,2"}, "ivr_prefix"),
        ({"ivr_prefix": "a"}, "ivr_prefix"),
        ({"ivr_prefix": ",".join(["1234"] * 8)}, "ivr_prefix"),  # 39 characters
        ({"queue_code": "nowhere"}, "queue_code"),
        ({"queue_code": "closed"}, "queue_code"),
        ({"queue_code": "backoffice"}, "queue_code"),
        ({"priority_bonus": float("nan")}, "priority_bonus"),
        ({"label": "x" * 81}, "label"),
    ],
)
async def test_each_rule_names_its_field(rt, kw, field):
    await queue(rt, "general")
    await queue(rt, "closed")
    await queue(rt, "backoffice", is_department=True)
    async with rt.db.transaction() as s:
        await svc.deactivate_queue(s, actor=None, code="closed")
    assert await fails(rt, svc.create_ivr_route, **({"queue_code": "general"} | kw)) == [field]


async def test_one_route_per_number_and_prefix(rt):
    await queue(rt, "general")
    await _route(rt, dialled_number=HOTLINE, ivr_prefix="1", queue_code="general")
    with pytest.raises(Conflict):
        await _route(rt, dialled_number="4000000000", ivr_prefix="1", queue_code="general")
