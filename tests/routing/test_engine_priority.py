"""Priority: base + bonus + seconds waited × acceleration, compared across queues at the moment of choice."""

from __future__ import annotations

from kefu.routing.engine import Engine
from kefu.routing.types import ContactSpec, Presence, QueueSpec
from tests.routing.conftest import Clock, arrive, check_state, offers, setup


async def test_an_older_contact_overtakes_a_newer_one_as_it_waits(engine: Engine, clock: Clock) -> None:
    # slow queue: base 0, ageing 2/s; fast queue: base 50, ageing 1/s — equal at 50 s of waiting
    queues = [QueueSpec("slow", ("general",), acceleration=2.0), QueueSpec("fast", ("general",), base_priority=50.0)]
    await setup(engine, clock, queues, {1: {"general": 5}, 2: {"general": 5}})
    await arrive(engine, 10, "slow")
    await arrive(engine, 11, "fast")
    clock.advance(30)  # slow 60 < fast 80
    assert [c.contact_id for c in await engine.waiting()] == [11, 10]
    clock.advance(30)  # slow 120 > fast 110
    assert [c.contact_id for c in await engine.waiting()] == [10, 11]
    assert offers(await engine.set_presence(1, Presence.READY)) == [(10, 1)]
    assert offers(await engine.set_presence(2, Presence.READY)) == [(11, 2)]
    await check_state(engine, [10, 11])


async def test_vip_bonus_jumps_the_line_until_the_earlier_caller_has_waited_longer(
    engine: Engine, clock: Clock
) -> None:
    await setup(engine, clock, [QueueSpec("q", ("general",))], {1: {"general": 5}})
    await arrive(engine, 10, "q")
    clock.advance(10)
    await arrive(engine, 11, "q", priority_bonus=60.0)  # VIP / complaint: worth 60 s of waiting
    assert [c.contact_id for c in await engine.waiting("q")] == [11, 10]
    clock.advance(100)
    await arrive(engine, 12, "q", priority_bonus=60.0)  # 10 has waited 110 s: more than 12's 60 + 0
    assert [c.contact_id for c in await engine.waiting("q")] == [11, 10, 12]
    assert offers(await engine.set_presence(1, Presence.READY)) == [(11, 1)]


async def test_base_priority_of_a_queue_counts(engine: Engine, clock: Clock) -> None:
    queues = [QueueSpec("low", ("general",)), QueueSpec("high", ("general",), base_priority=100.0)]
    await setup(engine, clock, queues, {1: {"general": 5}})
    await arrive(engine, 10, "low")
    clock.advance(50)
    await arrive(engine, 11, "high")
    assert offers(await engine.set_presence(1, Presence.READY)) == [(11, 1)]


async def test_equal_priority_goes_to_the_earlier_contact_then_the_lower_id(engine: Engine, clock: Clock) -> None:
    queues = [QueueSpec("a", ("general",), acceleration=0.0), QueueSpec("b", ("general",), acceleration=0.0)]
    await setup(engine, clock, queues, {1: {"general": 5}, 2: {"general": 5}, 3: {"general": 5}})
    await arrive(engine, 30, "b")
    clock.advance(1)
    await arrive(engine, 20, "a")
    await arrive(engine, 10, "b")
    assert [c.contact_id for c in await engine.waiting()] == [30, 10, 20]
    got = []
    for aid in (1, 2, 3):
        got += offers(await engine.set_presence(aid, Presence.READY))
    assert got == [(30, 1), (10, 2), (20, 3)]


async def test_waiting_since_given_on_arrival_counts_as_time_waited(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, [QueueSpec("q", ("general",))], {1: {"general": 5}})
    await arrive(engine, 10, "q")
    clock.advance(5)
    await engine.arrive(ContactSpec(11, "q", waiting_since=clock.t - 60))  # re-queued after a restart
    view = await engine.contact(11)
    assert view is not None
    assert view.waiting_since == clock.t - 60
    assert offers(await engine.set_presence(1, Presence.READY)) == [(11, 1)]
    connected = await engine.accept(11, 1)
    assert [d.waited_s for d in connected if hasattr(d, "waited_s")] == [60.0]
