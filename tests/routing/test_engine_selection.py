"""Selection: skills at the queue's proficiency, longest-idle agent first, named agents, skill changes."""

from __future__ import annotations

from kefu.routing.engine import Engine
from kefu.routing.types import AgentSpec, ContactSpec, Offered, Presence, QueueSpec
from tests.routing.conftest import Clock, arrive, check_state, connect, offers, setup

LOANS = QueueSpec("loans", ("loans",), min_proficiency=5)
FX = QueueSpec("fx", ("forex", "english"), min_proficiency=3)


async def test_only_agents_with_the_skill_at_the_queue_proficiency_are_offered(engine: Engine, clock: Clock) -> None:
    agents = {1: {"loans": 4}, 2: {"loans": 7}, 3: {"cards": 9}}
    await setup(engine, clock, [LOANS], agents, ready=[1, 3, 2])  # 1 and 3 idle longer, but unqualified
    ds = await arrive(engine, 10, "loans")
    assert offers(ds) == [(10, 2)]
    assert ds[0] == Offered(clock.t, 10, 2, "loans", clock.t + 15.0)
    await check_state(engine, [10])


async def test_every_skill_of_the_queue_is_needed(engine: Engine, clock: Clock) -> None:
    agents = {1: {"forex": 9}, 2: {"forex": 3, "english": 2}, 3: {"forex": 3, "english": 3}}
    await setup(engine, clock, [FX], agents, ready=[1, 2, 3])
    assert offers(await arrive(engine, 10, "fx")) == [(10, 3)]


async def test_the_longest_idle_agent_is_offered_first(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, [LOANS], {1: {"loans": 5}, 2: {"loans": 9}, 3: {"loans": 6}}, ready=[2, 3, 1])
    assert offers(await arrive(engine, 10, "loans")) == [(10, 2)]
    assert offers(await arrive(engine, 11, "loans")) == [(11, 3)]
    await engine.accept(10, 2)
    await engine.end(10)
    clock.advance(5)
    await engine.set_presence(2, Presence.READY)  # idle since now: behind agent 1
    assert offers(await arrive(engine, 12, "loans")) == [(12, 1)]
    assert offers(await arrive(engine, 13, "loans")) == [(13, 2)]
    await check_state(engine, [10, 11, 12, 13])


async def test_an_agent_keeps_its_place_in_line_when_the_caller_hangs_up_while_ringing(
    engine: Engine, clock: Clock
) -> None:
    await setup(engine, clock, [LOANS], {1: {"loans": 5}, 2: {"loans": 5}}, ready=[1, 2])
    idle = (await engine.agent(1)).idle_since  # type: ignore[union-attr]
    await arrive(engine, 10, "loans")
    clock.advance(3)
    await engine.abandon(10)
    agent = await engine.agent(1)
    assert agent is not None
    assert agent.presence is Presence.READY
    assert agent.idle_since == idle
    assert offers(await arrive(engine, 11, "loans")) == [(11, 1)]


async def test_a_ready_agent_gets_the_best_contact_among_the_queues_it_qualifies_for(
    engine: Engine, clock: Clock
) -> None:
    queues = [LOANS, FX, QueueSpec("vip", ("vip",), base_priority=500.0)]
    await setup(engine, clock, queues, {1: {"loans": 6, "forex": 5, "english": 5}})
    await arrive(engine, 10, "vip")  # highest priority, but agent 1 cannot take it
    await arrive(engine, 11, "loans")
    clock.advance(5)
    await arrive(engine, 12, "fx")
    assert offers(await engine.set_presence(1, Presence.READY)) == [(11, 1)]
    await check_state(engine, [10, 11, 12])


async def test_a_contact_for_a_named_agent_waits_for_that_agent(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, [LOANS], {1: {"loans": 9}, 2: {}, 3: {"loans": 9}}, ready=[1, 3])
    ds = await engine.arrive(ContactSpec(10, "loans", target_agent=2))  # agent 2 need not hold the skill
    assert offers(ds) == []
    await check_state(engine, [10])
    assert [c.contact_id for c in await engine.waiting("loans")] == [10]
    assert offers(await engine.set_presence(2, Presence.READY)) == [(10, 2)]
    ds = await engine.arrive(ContactSpec(11, "loans", target_agent=3))
    assert offers(ds) == [(11, 3)]  # agent 1 is idle longer, but the contact is for agent 3


async def test_new_skills_apply_at_once(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, [LOANS], {1: {"loans": 2}}, ready=[1])
    assert offers(await arrive(engine, 10, "loans")) == []
    assert offers(await engine.upsert_agent(AgentSpec(1, {"loans": 8}))) == [(10, 1)]
    view = await engine.agent(1)
    assert view is not None
    assert view.skills == {"loans": 8}
    assert view.presence is Presence.OFFERED
    await engine.accept(10, 1)
    await engine.upsert_agent(AgentSpec(1, {"cards": 5}))  # skills replaced, presence kept
    view = await engine.agent(1)
    assert view is not None
    assert view.skills == {"cards": 5}
    assert view.presence is Presence.BUSY
    await check_state(engine, [10])


async def test_new_agents_start_logged_out(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, [LOANS], {1: {"loans": 5}})
    view = await engine.agent(1)
    assert view is not None
    assert view.presence is Presence.LOGGED_OUT
    assert view.idle_since is None
    assert offers(await arrive(engine, 10, "loans")) == []
    await connect_later(engine, clock)


async def connect_later(engine: Engine, clock: Clock) -> None:
    clock.advance(20)
    ds = await engine.set_presence(1, Presence.READY)
    assert offers(ds) == [(10, 1)]
    connected = await engine.accept(10, 1)
    assert [getattr(d, "waited_s", None) for d in connected] == [20.0]


async def test_agents_list_in_id_order(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, [LOANS], {3: {"loans": 5}, 1: {"loans": 5}, 2: {}}, ready=[3])
    await connect(engine, 10, "loans", 3)
    views = await engine.agents()
    assert [(a.agent_id, a.presence, a.contact_id) for a in views] == [
        (1, Presence.LOGGED_OUT, None),
        (2, Presence.LOGGED_OUT, None),
        (3, Presence.BUSY, 10),
    ]
