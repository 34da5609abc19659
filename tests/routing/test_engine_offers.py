"""Offers: ring timeout and re-offer, decline, agents going not-ready while ringing, callers hanging up."""

from __future__ import annotations

from dataclasses import replace

from kefu.routing.engine import Engine
from kefu.routing.store import RoutingStore
from kefu.routing.types import (
    NO_ANSWER,
    Abandoned,
    Connected,
    ContactState,
    EngineConfig,
    OfferTimedOut,
    OfferWithdrawn,
    Presence,
    PresenceChanged,
    QueueSpec,
)
from tests.routing.conftest import Clock, arrive, check_state, connect, kinds, offers, raises, setup

Q = QueueSpec("q", ("general",))
TWO = {1: {"general": 5}, 2: {"general": 5}}


async def test_an_offer_rings_out_and_goes_to_the_next_agent(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, [Q], TWO, ready=[1, 2])
    t0 = clock.t
    assert offers(await arrive(engine, 10, "q")) == [(10, 1)]
    clock.advance(14.9)
    assert await engine.tick() == []
    clock.advance(0.1)
    ds = await engine.tick()
    assert ds[:2] == [OfferTimedOut(clock.t, 10, 1), PresenceChanged(clock.t, 1, Presence.NOT_READY, NO_ANSWER)]
    assert offers(ds) == [(10, 2)]
    view = await engine.contact(10)
    assert view is not None
    assert view.declined_by == (1,)
    assert view.offers == 2
    assert view.waiting_since == t0
    agent = await engine.agent(1)
    assert agent is not None
    assert agent.presence is Presence.NOT_READY
    assert agent.reason == NO_ANSWER
    await check_state(engine, [10])
    ds = await engine.accept(10, 2)
    assert ds == [Connected(clock.t, 10, 2, "q", 15.0, 2)]


async def test_a_late_answer_is_refused(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, [Q], TWO, ready=[1, 2])
    await arrive(engine, 10, "q")
    clock.advance(16)
    await raises("bad_state", engine.accept(10, 1))  # rang out; the tick has not run yet
    await engine.tick()
    await raises("bad_state", engine.accept(10, 1))
    await raises("unknown_agent", engine.accept(10, 6))
    await engine.accept(10, 2)


async def test_with_one_agent_the_contact_waits_and_comes_back_to_it(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, [Q], {1: {"general": 5}}, ready=[1])
    await arrive(engine, 10, "q")
    clock.advance(15)
    ds = await engine.tick()
    assert kinds(ds) == ["OfferTimedOut", "PresenceChanged"]
    view = await engine.contact(10)
    assert view is not None
    assert view.state is ContactState.WAITING
    assert view.agent_id is None
    clock.advance(30)
    assert offers(await engine.set_presence(1, Presence.READY)) == [(10, 1)]  # no-one else: offered again
    await check_state(engine, [10])


async def test_without_reoffer_a_declined_agent_is_not_offered_again(store: RoutingStore, clock: Clock) -> None:
    engine = Engine(store, clock=clock, config=EngineConfig(reoffer_declined=False))
    await setup(engine, clock, [Q], TWO, ready=[1])
    await arrive(engine, 10, "q")
    clock.advance(15)
    await engine.tick()
    assert offers(await engine.set_presence(1, Presence.READY)) == []
    await check_state(engine, [10])
    assert offers(await engine.set_presence(2, Presence.READY)) == [(10, 2)]


async def test_decline_offers_the_contact_on_and_the_agent_stays_ready(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, [Q], TWO, ready=[1, 2])
    idle = (await engine.agent(1)).idle_since  # type: ignore[union-attr]
    await arrive(engine, 10, "q")
    ds = await engine.decline(10, 1)
    assert ds[0] == PresenceChanged(clock.t, 1, Presence.READY, None)
    assert offers(ds) == [(10, 2)]
    agent = await engine.agent(1)
    assert agent is not None
    assert agent.presence is Presence.READY
    assert agent.idle_since == idle
    assert (await engine.contact(10)).declined_by == (1,)  # type: ignore[union-attr]
    assert offers(await arrive(engine, 11, "q")) == [(11, 1)]
    await check_state(engine, [10, 11])


async def test_a_decliner_gets_the_next_contact_and_not_the_declined_one(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, [Q], {1: {"general": 5}})
    await arrive(engine, 10, "q")
    clock.advance(1)
    await arrive(engine, 11, "q")
    assert offers(await engine.set_presence(1, Presence.READY)) == [(10, 1)]
    assert offers(await engine.decline(10, 1)) == [(11, 1)]
    await check_state(engine, [10, 11])


async def test_declined_with_no_one_else_waits_for_the_next_tick(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, [Q], {1: {"general": 5}}, ready=[1])
    await arrive(engine, 10, "q")
    ds = await engine.decline(10, 1)
    assert offers(ds) == []
    agent = await engine.agent(1)
    assert agent is not None
    assert agent.presence is Presence.READY
    await check_state(engine, [10])  # parked: not a contact left behind
    clock.advance(1)
    assert offers(await engine.tick()) == [(10, 1)]
    await raises("unknown_agent", engine.decline(10, 2))
    await engine.accept(10, 1)
    await raises("bad_state", engine.decline(10, 1))


async def test_not_ready_while_ringing_withdraws_the_offer(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, [Q], TWO, ready=[1, 2])
    await arrive(engine, 10, "q")
    ds = await engine.set_presence(1, Presence.NOT_READY, "break")
    assert ds[:2] == [
        OfferWithdrawn(clock.t, 10, 1, "agent_not_ready"),
        PresenceChanged(clock.t, 1, Presence.NOT_READY, "break"),
    ]
    assert offers(ds) == [(10, 2)]
    assert (await engine.contact(10)).declined_by == ()  # type: ignore[union-attr]
    await arrive(engine, 11, "q")
    ds = await engine.set_presence(2, Presence.LOGGED_OUT)
    assert kinds(ds) == ["OfferWithdrawn", "PresenceChanged"]  # 10 and 11 wait: nobody is ready
    assert [c.state for c in await engine.waiting()] == [ContactState.WAITING, ContactState.WAITING]
    await check_state(engine, [10, 11])


async def test_presence_rules(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, [Q], TWO, ready=[1])
    assert await engine.set_presence(1, Presence.READY) == []  # already ready
    await connect(engine, 10, "q", 1)
    for p in (Presence.NOT_READY, Presence.LOGGED_OUT, Presence.READY):
        await raises("bad_state", engine.set_presence(1, p))
    await raises("bad_state", engine.set_presence(2, Presence.BUSY))  # set by the engine only
    await engine.end(10)
    ds = await engine.set_presence(1, Presence.NOT_READY, "meeting")  # ends wrap-up
    assert ds == [PresenceChanged(clock.t, 1, Presence.NOT_READY, "meeting")]
    assert await engine.set_presence(1, Presence.NOT_READY, "meeting") == []
    ds = await engine.set_presence(1, Presence.NOT_READY, "meal")
    assert ds == [PresenceChanged(clock.t, 1, Presence.NOT_READY, "meal")]


async def test_ready_after_wrap_up_is_routed_at_once(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, [Q], {1: {"general": 5}}, ready=[1])
    await connect(engine, 10, "q", 1)
    await arrive(engine, 11, "q")
    clock.advance(60)
    assert [d.__class__.__name__ for d in await engine.end(10)] == ["Ended"]
    agent = await engine.agent(1)
    assert agent is not None
    assert agent.presence is Presence.WRAP_UP
    assert agent.since == clock.t
    clock.advance(10)
    ds = await engine.set_presence(1, Presence.READY)
    assert ds[0] == PresenceChanged(clock.t, 1, Presence.READY, None)
    assert offers(ds) == [(11, 1)]
    assert (await engine.agent(1)).idle_since == clock.t  # type: ignore[union-attr]


async def test_abandon_while_waiting(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, [Q], TWO)
    await arrive(engine, 10, "q")
    clock.advance(42)
    ds = await engine.abandon(10)
    assert ds == [Abandoned(clock.t, 10, "q", 42.0, None)]
    assert (await engine.contact(10)).state is ContactState.ENDED  # type: ignore[union-attr]
    assert await engine.waiting() == []
    await raises("bad_state", engine.abandon(10))
    await raises("bad_state", engine.end(10))
    await check_state(engine, [10])


async def test_abandon_while_ringing_frees_the_agent_for_the_next_contact(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, [Q], {1: {"general": 5}}, ready=[1])
    await arrive(engine, 10, "q")
    await arrive(engine, 11, "q")
    clock.advance(4)
    ds = await engine.abandon(10)
    assert ds[:2] == [Abandoned(clock.t, 10, "q", 4.0, 1), PresenceChanged(clock.t, 1, Presence.READY, None)]
    assert offers(ds) == [(11, 1)]
    await check_state(engine, [10, 11])


async def test_connected_contacts_end_rather_than_abandon(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, [Q], {1: {"general": 5}}, ready=[1])
    await connect(engine, 10, "q", 1)
    await raises("bad_state", engine.abandon(10))
    await raises("bad_state", engine.accept(10, 1))
    await raises("bad_state", engine.decline(10, 1))
    view = await engine.contact(10)
    assert view is not None
    assert view.owner_agent == 1
    assert view.agent_id == 1
    assert replace(view, offers=0).state is ContactState.CONNECTED
