"""EngineError codes for unknown ids and impossible transitions; the read-only views."""

from __future__ import annotations

from kefu.routing.engine import Engine, QueueStatus
from kefu.routing.types import ContactSpec, ContactState, Presence, QueueSpec
from tests.routing.conftest import Clock, arrive, check_state, connect, raises, setup

QUEUES = [QueueSpec("a", ("general",), min_proficiency=3), QueueSpec("b", ("cards",))]
AGENTS = {1: {"general": 5}, 2: {"general": 5, "cards": 5}, 3: {"general": 1}, 4: {"cards": 9}}


async def test_unknown_ids(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, QUEUES, AGENTS, ready=[1])
    await arrive(engine, 10, "a")
    await raises("unknown_queue", arrive(engine, 11, "nope"))
    await raises("unknown_agent", engine.arrive(ContactSpec(11, "a", target_agent=99)))
    await raises("unknown_contact", engine.accept(99, 1))
    await raises("unknown_agent", engine.accept(10, 99))
    await raises("unknown_contact", engine.decline(99, 1))
    await raises("unknown_contact", engine.abandon(99))
    await raises("unknown_contact", engine.end(99))
    await raises("unknown_contact", engine.forget_contact(99))
    await raises("unknown_agent", engine.set_presence(99, Presence.READY))
    await raises("unknown_queue", engine.waiting("nope"))
    assert await engine.contact(99) is None
    assert await engine.agent(99) is None
    await check_state(engine, [10, 11])


async def test_impossible_transitions(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, QUEUES, AGENTS, ready=[1])
    await arrive(engine, 10, "a")
    await raises("conflict", arrive(engine, 10, "a"))  # one id, one contact
    await raises("bad_state", engine.accept(10, 2))  # not ringing there
    await raises("bad_state", engine.end(10))  # not connected yet
    await raises("bad_state", engine.forget_contact(10))  # not ended
    await raises("bad_state", engine.set_presence(1, Presence.OFFERED))
    await raises("bad_state", engine.set_presence(1, Presence.WRAP_UP))
    await engine.accept(10, 1)
    await raises("bad_state", engine.set_presence(1, Presence.LOGGED_OUT))
    await engine.end(10)
    await raises("bad_state", engine.end(10))
    await engine.forget_contact(10)
    assert await engine.contact(10) is None
    await arrive(engine, 10, "a")  # a forgotten id may come back
    await check_state(engine, [10])


async def test_bad_queue_sets_are_refused(engine: Engine, clock: Clock) -> None:
    await raises(
        "unknown_queue", engine.configure_queues([QueueSpec("a", ("x",), overflow_queue="z", overflow_after_s=5)])
    )
    await raises("conflict", engine.configure_queues([QueueSpec("a", ("x",)), QueueSpec("a", ("y",))]))
    assert await engine.queues() == []


async def test_status_counts_contacts_and_qualified_agents(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, QUEUES, AGENTS, ready=[1, 4])
    await connect(engine, 10, "a", 1)
    await arrive(engine, 11, "a")
    clock.advance(20)
    await arrive(engine, 12, "a", priority_bonus=100.0)
    await engine.arrive(ContactSpec(13, "b", due_at=clock.t + 600))
    await engine.set_presence(2, Presence.NOT_READY, "training")
    clock.advance(5)
    status = await engine.status()
    assert status == [
        QueueStatus("a", waiting=2, oldest_wait_s=25.0, scheduled=0, agents_ready=0, agents_busy=1, agents_not_ready=1),
        QueueStatus("b", waiting=0, oldest_wait_s=0.0, scheduled=1, agents_ready=1, agents_busy=0, agents_not_ready=1),
    ]  # agent 3 (general 1) is below queue a's proficiency; logged-out agents are not counted
    waiting = await engine.waiting()
    assert [(c.contact_id, c.state) for c in waiting] == [(12, ContactState.WAITING), (11, ContactState.WAITING)]
    assert [q.code for q in await engine.queues()] == ["a", "b"]
    await check_state(engine, [10, 11, 12, 13])


async def test_contact_view_of_an_offer(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, QUEUES, AGENTS, ready=[4])
    await engine.arrive(ContactSpec(10, "b", channel="wechat", priority_bonus=5.0))
    view = await engine.contact(10)
    assert view is not None
    assert (view.state, view.agent_id, view.offered_to, view.offers, view.channel) == (
        ContactState.OFFERED, 4, 4, 1, "wechat"
    )  # fmt: skip
    assert view.offer_expires_at == clock.t + 15.0
    assert view.enqueued_at == clock.t
    agent = await engine.agent(4)
    assert agent is not None
    assert agent.contact_id == 10
    assert agent.presence is Presence.OFFERED
