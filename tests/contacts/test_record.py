"""The contact record: opening (and identifying the caller), and the effect of each event the routing
glue records, including rings and the service-level target computed from the settings."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from kefu.contacts import repository as repo
from kefu.contacts import service
from kefu.core import clock
from kefu.core.errors import Conflict, NotFound, ValidationFailed
from tests.contacts.conftest import T0, handled, open_contact, record
from tests.factories import make_customer, make_staff, make_team, raw_rows

PHONE = "13800135678"


async def _events(rt, contact_id: int) -> list[tuple[str, int | None, dict]]:
    async with rt.db.transaction() as s:
        return [(e.kind, e.agent_id, json.loads(e.data)) for e in await repo.events_of(s, contact_id)]


async def test_open_contact_identifies_the_caller_by_phone(rt):
    customer = await make_customer(rt, phone=PHONE)
    c = await open_contact(rt, caller_number="+86 138 0013 5678", dialled_number="95588", ivr_choices=["1", "2"],
                           external_ref="call-1", priority_bonus=5.0, arrived_at=T0)  # fmt: skip
    assert c.customer_id == customer.id
    assert c.status == "queued"
    assert c.queued_at == T0
    assert c.ivr_choices == "1,2"
    assert [k for k, _, _ in await _events(rt, c.id)] == ["arrived", "queued"]
    # the number is stored encrypted, found by its blind index, and nobody else's number matches
    rows = await raw_rows(rt, "SELECT caller_number, caller_number_bidx FROM contacts WHERE id = :i", i=c.id)
    assert PHONE not in str(rows)
    async with rt.db.transaction() as s:
        assert (await service.contact_by_ref(s, channel="phone", external_ref="call-1")).id == c.id
        assert await service.contact_by_ref(s, channel="chat", external_ref="call-1") is None
        assert [x.id for x in await repo.contacts_by_caller(s, number="138-0013-5678")] == [c.id]
    unknown = await open_contact(rt, caller_number="13900000001")
    assert unknown.customer_id is None
    not_identified = await open_contact(rt, caller_number=PHONE, identify=False)
    assert not_identified.customer_id is None


async def test_two_customers_on_one_number_are_not_guessed(rt):
    await make_customer(rt, phone="13700001111")
    await make_customer(rt, phone="13700001111")
    c = await open_contact(rt, caller_number="13700001111")
    assert c.customer_id is None


async def test_open_contact_refuses_bad_input_and_duplicates(rt):
    await open_contact(rt, external_ref="dup")
    with pytest.raises(Conflict) as exc:
        await open_contact(rt, external_ref="dup")
    assert "contact_id" in exc.value.extra
    for kw in (
        {"channel": "fax"},
        {"direction": "sideways"},
        {"queue_code": ""},
        {"customer_id": 999999},
        {"arrived_at": dt.datetime(2026, 11, 23, 9, 0)},  # noqa: DTZ001
        {"ivr_choices": ["1", ""]},
    ):
        with pytest.raises(ValidationFailed):
            await open_contact(rt, **kw)


async def test_scheduled_callback(rt):
    agent = await make_staff(rt, roles=["agent"])
    first = await handled(rt, agent.id)
    due = clock.now() + dt.timedelta(hours=3)
    cb = await open_contact(rt, direction="outbound", scheduled_for=due, callback_of=first.id, owner_id=agent.id,
                            caller_number=PHONE)  # fmt: skip
    assert cb.status == "scheduled"
    assert cb.queued_at is None
    assert [k for k, _, _ in await _events(rt, cb.id)] == ["arrived", "scheduled"]
    async with rt.db.transaction() as s:
        assert cb.id in [c.id for c in await service.unfinished(s)]
    cb = await record(rt, cb.id, "callback_due", due)
    assert (cb.status, cb.queued_at) == ("queued", due)


@pytest.mark.parametrize(("rings_target", "wait", "rings", "within"), [
    (3, 0.0, 1, True), (3, 5.0, 1, True), (3, 5.2, 2, True), (3, 15.0, 3, True), (3, 15.4, 4, False),
    (2, 10.0, 2, True), (2, 10.5, 3, False), (2, 14.0, 3, False),
])  # fmt: skip
async def test_rings_and_target_follow_the_settings(rt, rings_target, wait, rings, within):
    rt.settings = rt.settings.model_copy(update={"answer_within_rings": rings_target, "ring_seconds": 5.0})
    team = await make_team(rt)
    agent = await make_staff(rt, roles=["agent"], team_id=team)
    c = await handled(rt, agent.id, wait=wait, end=False)
    assert (c.rings, c.within_target, c.wait_seconds) == (rings, within, wait)
    assert (c.status, c.agent_id, c.owner_id, c.team_id) == ("connected", agent.id, agent.id, team)


async def test_event_effects_through_a_whole_call(rt):
    team = await make_team(rt)
    a1 = await make_staff(rt, roles=["agent"], team_id=team)
    a2 = await make_staff(rt, roles=["agent"])
    c = await open_contact(rt, arrived_at=T0, queue_code="cards")
    at = lambda s: T0 + dt.timedelta(seconds=s)  # noqa: E731
    c = await record(rt, c.id, "offered", at(2), a1.id)
    assert (c.status, c.offers, c.first_offered_at, c.agent_id) == ("offered", 1, at(2), a1.id)
    c = await record(rt, c.id, "ring_out", at(17), a1.id)
    assert c.status == "queued"
    c = await record(rt, c.id, "overflowed", at(20), from_queue="cards", to_queue="general")
    assert c.queue_code == "general"
    await record(rt, c.id, "widened", at(21), queue="general")
    c = await record(rt, c.id, "offered", at(22), a1.id)
    assert (c.offers, c.first_offered_at) == (2, at(2))
    c = await record(rt, c.id, "answered", at(25), a1.id, waited_s=25.0, owner_id=a1.id)
    assert (c.status, c.answered_at, c.rings, c.within_target) == ("connected", at(25), 5, False)
    c = await record(rt, c.id, "held", at(30), a1.id)
    c = await record(rt, c.id, "held", at(35), a1.id)  # a repeated hold does not restart the clock
    c = await record(rt, c.id, "resumed", at(40), a1.id)
    assert c.hold_seconds == 10.0
    await record(rt, c.id, "held", at(50), a1.id)
    # consult transfer: the first agent stays connected while the target is offered, then hands over
    c = await record(rt, c.id, "transfer_requested", at(55), a1.id, mode="consult", queue=None, target_agent=a2.id)
    assert (c.status, c.transfers) == ("connected", 1)
    c = await record(rt, c.id, "offered", at(56), a2.id)
    assert (c.status, c.agent_id, c.offers) == ("connected", a1.id, 3)
    c = await record(rt, c.id, "answered", at(60), a2.id, waited_s=4.0)
    assert (c.agent_id, c.wait_seconds, c.rings, c.owner_id) == (a2.id, 25.0, 5, a1.id), "first answer's figures stay"
    c = await record(rt, c.id, "transferred", at(61), a2.id, from_agent=a1.id, to_agent=a2.id)
    assert (c.owner_id, c.agent_id, c.team_id) == (a2.id, a2.id, None)
    c = await record(rt, c.id, "ended", at(85), a2.id)
    assert (c.status, c.ended_at, c.end_reason) == ("wrap_up", at(85), "completed")
    assert c.hold_seconds == 45.0, "an open hold ends with the call (10 s + 35 s)"
    assert c.talk_seconds == 60.0
    kinds = [k for k, _, _ in await _events(rt, c.id)]
    assert kinds == ["arrived", "queued", "offered", "ring_out", "overflowed", "widened", "offered", "answered",
                     "held", "held", "resumed", "held", "transfer_requested", "offered", "answered", "transferred",
                     "ended"]  # fmt: skip
    # a repeated end (CTI and engine both report it) changes nothing and adds nothing
    again = await record(rt, c.id, "ended", at(99), a2.id, reason="hangup")
    assert (again.status, again.ended_at, again.end_reason) == ("wrap_up", at(85), "completed")
    assert len(await _events(rt, c.id)) == len(kinds)
    async with rt.db.transaction() as s:
        assert [x.id for x in await service.pending_wrapups(s, agent_id=a2.id)] == [c.id]
        assert await service.pending_wrapups(s, agent_id=a1.id) == []


async def test_blind_transfer_requeues(rt):
    a1 = await make_staff(rt, roles=["agent"])
    c = await handled(rt, a1.id, end=False)
    c = await record(rt, c.id, "transfer_requested", clock.now(), a1.id, mode="blind", queue="loans", target_agent=None)
    assert (c.status, c.queue_code, c.transfers) == ("queued", "loans", 1)
    c = await record(rt, c.id, "transfer_failed", clock.now(), a1.id, reason="nobody")
    assert c.status == "queued"


async def test_abandon_reject_and_end_before_answer(rt):
    agent = await make_staff(rt, roles=["agent"])
    c = await open_contact(rt, arrived_at=T0)
    await record(rt, c.id, "offered", T0 + dt.timedelta(seconds=3), agent.id)
    c = await record(rt, c.id, "abandoned", T0 + dt.timedelta(seconds=9), agent.id, waited_s=9.0)
    assert (c.status, c.end_reason, c.wait_seconds, c.ended_at) == ("abandoned", "abandoned", 9.0, T0 + dt.timedelta(seconds=9))  # fmt: skip
    late = await record(rt, c.id, "answered", T0 + dt.timedelta(seconds=10), agent.id, waited_s=10.0)
    assert late.status == "abandoned", "nothing changes a finished contact"
    r = await open_contact(rt, arrived_at=T0)
    r = await record(rt, r.id, "rejected", T0, reason="closed_line")
    assert (r.status, r.end_reason) == ("rejected", "closed_line")
    e = await open_contact(rt, arrived_at=T0)
    e = await record(rt, e.id, "ended", T0 + dt.timedelta(seconds=4))
    assert (e.status, e.wait_seconds) == ("abandoned", 4.0)


async def test_record_refuses_unknown_kinds_and_missing_contacts(rt):
    c = await open_contact(rt)
    with pytest.raises(ValidationFailed):
        await record(rt, c.id, "teleported", clock.now())
    with pytest.raises(ValidationFailed):
        await record(rt, c.id, "offered", clock.now())  # no agent
    with pytest.raises(NotFound):
        await record(rt, 987654, "offered", clock.now(), 1)


async def test_desk_queries(rt):
    agent = await make_staff(rt, roles=["agent"])
    other = await make_staff(rt, roles=["agent"])
    ringing = await open_contact(rt)
    await record(rt, ringing.id, "offered", clock.now(), agent.id)
    talking = await handled(rt, agent.id, end=False)
    ended = await handled(rt, agent.id)
    waiting = await open_contact(rt)
    await handled(rt, other.id, end=False)
    async with rt.db.transaction() as s:
        assert {c.id for c in await service.open_for_agent(s, agent_id=agent.id)} == {ringing.id, talking.id}
        assert [c.id for c in await service.pending_wrapups(s, agent_id=agent.id)] == [ended.id]
        live = {c.id for c in await service.unfinished(s)}
    assert {ringing.id, talking.id, waiting.id} <= live
    assert ended.id not in live
