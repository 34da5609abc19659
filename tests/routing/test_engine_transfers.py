"""Transfers, blind and consult, to a queue or a named agent, with first-contact ownership."""

from __future__ import annotations

from kefu.routing.engine import Engine
from kefu.routing.types import (
    Connected,
    ContactState,
    OfferWithdrawn,
    Presence,
    QueueSpec,
    TransferCompleted,
    TransferFailed,
    TransferMode,
    TransferRequested,
)
from tests.routing.conftest import Clock, check_state, connect, kinds, offers, raises, setup

QUEUES = [QueueSpec("general", ("general",)), QueueSpec("cards", ("cards",))]
AGENTS = {1: {"general": 5}, 2: {"general": 5}, 3: {"cards": 5}, 4: {"cards": 5}}
CONSULT = TransferMode.CONSULT


async def _connected(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, QUEUES, AGENTS, ready=[1, 3, 4, 2])
    await connect(engine, 10, "general", 1)
    clock.advance(30)


async def test_blind_transfer_to_a_queue_moves_ownership_on_accept(engine: Engine, clock: Clock) -> None:
    await _connected(engine, clock)
    ds = await engine.transfer(10, 1, queue="cards")
    assert ds[0] == TransferRequested(clock.t, 10, 1, TransferMode.BLIND, "cards", None)
    assert offers(ds) == [(10, 3)]
    agent = await engine.agent(1)
    assert agent is not None
    assert agent.presence is Presence.WRAP_UP
    view = await engine.contact(10)
    assert view is not None
    assert view.owner_agent == 1
    assert view.transfer_from == 1
    assert view.state is ContactState.OFFERED
    await check_state(engine, [10])
    clock.advance(4)
    ds = await engine.accept(10, 3)
    assert ds == [TransferCompleted(clock.t, 10, 1, 3), Connected(clock.t, 10, 3, "cards", 4.0, 3)]
    view = await engine.contact(10)
    assert view is not None
    assert view.owner_agent == 3
    assert view.transfer_from is None
    assert view.queue == "cards"
    await check_state(engine, [10])


async def test_blind_transfer_to_a_named_agent_waits_for_that_agent(engine: Engine, clock: Clock) -> None:
    await setup(engine, clock, QUEUES, AGENTS, ready=[1, 2])
    await connect(engine, 10, "general", 1)
    await engine.set_presence(2, Presence.NOT_READY, "break")
    ds = await engine.transfer(10, 1, agent_id=2)
    assert offers(ds) == []
    view = await engine.contact(10)
    assert view is not None
    assert view.target_agent == 2
    assert view.queue == "general"
    assert view.owner_agent == 1
    await check_state(engine, [10])
    assert offers(await engine.set_presence(2, Presence.READY)) == [(10, 2)]
    ds = await engine.accept(10, 2)
    assert kinds(ds) == ["TransferCompleted", "Connected"]
    assert ds[-1].owner_agent == 2


async def test_a_blind_transfer_to_an_agent_who_does_not_answer_falls_back_to_the_queue(
    engine: Engine, clock: Clock
) -> None:
    await _connected(engine, clock)
    ds = await engine.transfer(10, 1, queue="cards", agent_id=4)
    assert offers(ds) == [(10, 4)]  # agent 3 is idle longer, but the transfer names agent 4
    clock.advance(15)
    ds = await engine.tick()
    assert kinds(ds) == ["OfferTimedOut", "PresenceChanged", "Offered"]
    assert offers(ds) == [(10, 3)]
    await check_state(engine, [10])


async def test_consult_transfer_keeps_the_first_agent_until_the_new_one_accepts(engine: Engine, clock: Clock) -> None:
    await _connected(engine, clock)
    ds = await engine.transfer(10, 1, queue="cards", mode=CONSULT)
    assert ds[0] == TransferRequested(clock.t, 10, 1, CONSULT, "cards", None)
    assert offers(ds) == [(10, 3)]
    view = await engine.contact(10)
    assert view is not None
    assert view.state is ContactState.CONNECTED
    assert view.agent_id == 1
    assert view.offered_to == 3
    assert view.transfer_mode is CONSULT
    assert view.owner_agent == 1
    assert (await engine.agent(1)).presence is Presence.BUSY  # type: ignore[union-attr]
    assert [c.contact_id for c in await engine.waiting("cards")] == [10]
    await check_state(engine, [10])
    ds = await engine.accept(10, 3)
    assert kinds(ds) == ["TransferCompleted", "Connected"]
    assert (await engine.agent(1)).presence is Presence.WRAP_UP  # type: ignore[union-attr]
    view = await engine.contact(10)
    assert view is not None
    assert view.agent_id == 3
    assert view.owner_agent == 3
    assert view.transfer_mode is None
    await check_state(engine, [10])
    await engine.end(10)
    assert (await engine.agent(3)).presence is Presence.WRAP_UP  # type: ignore[union-attr]


async def test_consult_cancel_returns_to_the_first_agent(engine: Engine, clock: Clock) -> None:
    await _connected(engine, clock)
    await engine.transfer(10, 1, queue="cards", mode=CONSULT)
    ds = await engine.cancel_transfer(10, 1)
    assert ds[0] == OfferWithdrawn(clock.t, 10, 3, "transfer_cancelled")
    assert TransferFailed(clock.t, 10, 1, "cancelled") in ds
    view = await engine.contact(10)
    assert view is not None
    assert view.state is ContactState.CONNECTED
    assert view.queue == "general"
    assert view.transfer_mode is None
    assert view.offered_to is None
    assert view.owner_agent == 1
    assert (await engine.agent(3)).presence is Presence.READY  # type: ignore[union-attr]
    assert (await engine.agent(1)).presence is Presence.BUSY  # type: ignore[union-attr]
    await check_state(engine, [10])
    await raises("bad_state", engine.cancel_transfer(10, 1))
    assert kinds(await engine.end(10)) == ["Ended"]


async def test_a_consult_leg_that_rings_out_goes_to_the_next_agent(engine: Engine, clock: Clock) -> None:
    await _connected(engine, clock)
    await engine.transfer(10, 1, queue="cards", mode=CONSULT)
    clock.advance(15)
    ds = await engine.tick()
    assert offers(ds) == [(10, 4)]
    view = await engine.contact(10)
    assert view is not None
    assert view.state is ContactState.CONNECTED
    assert view.agent_id == 1
    assert view.declined_by == (3,)
    await check_state(engine, [10])


async def test_a_consult_to_a_named_agent_who_does_not_answer_fails(engine: Engine, clock: Clock) -> None:
    await _connected(engine, clock)
    await engine.transfer(10, 1, agent_id=2, mode=CONSULT)
    clock.advance(15)
    ds = await engine.tick()
    assert kinds(ds) == ["OfferTimedOut", "PresenceChanged", "TransferFailed"]
    assert ds[-1] == TransferFailed(clock.t, 10, 1, "no_answer")
    view = await engine.contact(10)
    assert view is not None
    assert view.state is ContactState.CONNECTED
    assert view.agent_id == 1
    assert view.transfer_from is None
    await check_state(engine, [10])


async def test_a_caller_hanging_up_during_a_consult_ends_it_all(engine: Engine, clock: Clock) -> None:
    await _connected(engine, clock)
    await engine.transfer(10, 1, queue="cards", mode=CONSULT)
    ds = await engine.end(10)
    assert kinds(ds) == ["OfferWithdrawn", "PresenceChanged", "TransferFailed", "Ended"]
    assert ds[-1].agent_id == 1  # type: ignore[attr-defined]
    assert (await engine.agent(3)).presence is Presence.READY  # type: ignore[union-attr]
    assert (await engine.agent(1)).presence is Presence.WRAP_UP  # type: ignore[union-attr]
    await check_state(engine, [10])


async def test_transfer_errors(engine: Engine, clock: Clock) -> None:
    await _connected(engine, clock)
    await raises("bad_state", engine.transfer(10, 2, queue="cards"))  # agent 2 is not on it
    await raises("bad_state", engine.transfer(10, 1))  # nowhere
    await raises("bad_state", engine.transfer(10, 1, agent_id=1))  # to themselves
    await raises("unknown_queue", engine.transfer(10, 1, queue="nope"))
    await raises("unknown_agent", engine.transfer(10, 1, agent_id=99))
    await raises("unknown_agent", engine.transfer(10, 99, queue="cards"))
    await raises("unknown_contact", engine.transfer(99, 1, queue="cards"))
    await engine.transfer(10, 1, queue="cards", mode=CONSULT)
    await raises("bad_state", engine.transfer(10, 1, queue="general"))  # one at a time
    await raises("bad_state", engine.cancel_transfer(10, 3))
    await raises("unknown_contact", engine.cancel_transfer(99, 1))
    await engine.cancel_transfer(10, 1)
    await engine.transfer(10, 1, queue="cards")
    await raises("bad_state", engine.cancel_transfer(10, 1))  # blind: nothing to take back
    await check_state(engine, [10])
