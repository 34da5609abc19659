"""Timers run by tick: bullseye widening and overflow, callbacks due, wrap-up overdue, re-configuration."""

from __future__ import annotations

from kefu.routing.engine import Engine
from kefu.routing.types import (
    CallbackDue,
    ContactSpec,
    ContactState,
    Overflowed,
    Presence,
    QueueSpec,
    Widened,
    WrapUpOverdue,
)
from tests.routing.conftest import Clock, arrive, check_state, connect, kinds, offers, setup

EXPERT = QueueSpec(
    "expert", ("loans",), min_proficiency=7, widen_after_s=30, overflow_after_s=60, overflow_queue="backup"
)
BACKUP = QueueSpec("backup", ("general",))


async def test_after_widen_after_s_any_holder_of_the_skill_may_take_it(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, [EXPERT, BACKUP], {1: {"loans": 3}}, ready=[1])
    assert offers(await arrive(engine, 10, "expert")) == []
    clock.advance(29)
    assert await engine.tick() == []
    clock.advance(1)
    ds = await engine.tick()
    assert ds[0] == Widened(clock.t, 10, "expert")
    assert offers(ds) == [(10, 1)]
    assert (await engine.contact(10)).widened  # type: ignore[union-attr]
    await check_state(engine, [10])


async def test_a_widened_contact_is_taken_by_an_agent_who_becomes_ready(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, [EXPERT, BACKUP], {1: {"loans": 3}, 2: {"loans": 1}})
    await arrive(engine, 10, "expert")
    clock.advance(30)
    assert kinds(await engine.tick()) == ["Widened"]
    await check_state(engine, [10])
    assert offers(await engine.set_presence(2, Presence.READY)) == [(10, 2)]


async def test_after_overflow_after_s_the_contact_moves_to_the_backup_queue(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, [EXPERT, BACKUP], {1: {"general": 5}}, ready=[1])
    t0 = clock.t
    await arrive(engine, 10, "expert")
    clock.advance(30)
    assert kinds(await engine.tick()) == ["Widened"]
    clock.advance(30)
    ds = await engine.tick()
    assert ds[0] == Overflowed(clock.t, 10, "expert", "backup")
    assert offers(ds) == [(10, 1)]
    view = await engine.contact(10)
    assert view is not None
    assert view.queue == "backup"
    assert view.overflowed_from == "expert"
    assert view.waiting_since == t0
    assert view.enqueued_at == clock.t
    assert not view.widened
    ds = await engine.accept(10, 1)
    assert [getattr(d, "waited_s", None) for d in ds] == [60.0]


async def test_overflow_waits_while_ringing_and_happens_after_a_ring_out(engine: Engine, clock: Clock) -> None:
    queue = QueueSpec("a", ("general",), overflow_after_s=10, overflow_queue="b")
    await setup(engine, clock, [queue, QueueSpec("b", ("cards",))], {1: {"general": 5}, 2: {"cards": 5}}, ready=[1, 2])
    assert offers(await arrive(engine, 10, "a")) == [(10, 1)]
    clock.advance(12)
    assert await engine.tick() == []  # ringing: not moved
    clock.advance(3)
    ds = await engine.tick()
    assert kinds(ds) == ["OfferTimedOut", "PresenceChanged", "Overflowed", "Offered"]
    assert offers(ds) == [(10, 2)]
    assert (await engine.contact(10)).queue == "b"  # type: ignore[union-attr]
    await check_state(engine, [10])


async def test_a_callback_is_scheduled_then_offered_when_due(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, [BACKUP], {1: {"general": 5}}, ready=[1])
    due = clock.t + 300
    assert await engine.arrive(ContactSpec(10, "backup", due_at=due)) == []
    view = await engine.contact(10)
    assert view is not None
    assert view.state is ContactState.SCHEDULED
    assert view.due_at == due
    assert await engine.waiting() == []
    status = {s.queue: s for s in await engine.status()}
    assert status["backup"].scheduled == 1
    assert status["backup"].waiting == 0
    clock.advance(299)
    assert await engine.tick() == []
    clock.advance(5)
    ds = await engine.tick()
    assert ds[0] == CallbackDue(clock.t, 10, "backup")
    assert offers(ds) == [(10, 1)]
    ds = await engine.accept(10, 1)
    assert [getattr(d, "waited_s", None) for d in ds] == [4.0]  # waiting counts from the time it was due


async def test_a_callback_for_a_named_agent_goes_to_that_agent(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, [BACKUP], {1: {"general": 5}, 2: {"general": 5}}, ready=[1, 2])
    await engine.arrive(ContactSpec(10, "backup", due_at=clock.t + 60, target_agent=2))
    clock.advance(60)
    assert offers(await engine.tick()) == [(10, 2)]


async def test_a_callback_already_due_is_routed_at_once(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, [BACKUP], {1: {"general": 5}}, ready=[1])
    ds = await engine.arrive(ContactSpec(10, "backup", due_at=clock.t - 5))
    assert kinds(ds) == ["CallbackDue", "Offered"]


async def test_a_scheduled_callback_can_be_cancelled(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, [BACKUP], {1: {"general": 5}}, ready=[1])
    await engine.arrive(ContactSpec(10, "backup", due_at=clock.t + 60))
    ds = await engine.abandon(10)
    assert [(d.contact_id, d.waited_s, d.agent_id) for d in ds] == [(10, 0.0, None)]  # type: ignore[attr-defined]
    clock.advance(120)
    assert await engine.tick() == []
    await check_state(engine, [10])


async def test_wrap_up_overdue_is_reported_once(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, [BACKUP], {1: {"general": 5}}, ready=[1])
    await connect(engine, 10, "backup", 1)
    await engine.end(10)
    clock.advance(120)
    assert await engine.tick() == []  # at the limit, not over it
    clock.advance(1)
    assert await engine.tick() == [WrapUpOverdue(clock.t, 1, 121.0)]
    clock.advance(30)
    assert await engine.tick() == []
    await engine.set_presence(1, Presence.READY)
    await connect(engine, 11, "backup", 1)
    await engine.end(11)
    clock.advance(200)
    assert kinds(await engine.tick()) == ["WrapUpOverdue"]  # a new wrap-up is reported again
    await engine.set_presence(1, Presence.NOT_READY, "break")
    clock.advance(200)
    assert await engine.tick() == []


async def test_reconfigured_queues_are_routed_at_the_next_tick(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, [QueueSpec("q", ("forex",))], {1: {"general": 5}}, ready=[1])
    await arrive(engine, 10, "q")
    await engine.configure_queues([QueueSpec("q", ("general",))])
    assert [q.skills for q in await engine.queues()] == [("general",)]
    assert offers(await engine.tick()) == [(10, 1)]
    await check_state(engine, [10])
