"""Domain events: outbox dispatch after commit, rollback drops, retries, and the live bus."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from kefu.core import events
from kefu.core.events import InProcessBus, RedisBus
from tests.factories import Recorder, raw_rows


@pytest.fixture
def recorder():
    made: list[Recorder] = []

    def make(name: str, **kw) -> Recorder:
        r = Recorder(name, **kw)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def _name() -> str:
    return f"test.{uuid.uuid4().hex[:8]}"


async def test_handler_runs_once_after_commit(rt, recorder):
    name = _name()
    rec = recorder(name)
    async with rt.db.transaction() as s:
        await events.emit(s, name, {"n": 1})
        await events.emit(s, name, {"n": 2})
        await s.flush()
        assert rec.payloads == [], "handlers must not run before the commit"
    assert rec.payloads == [{"n": 1}, {"n": 2}]
    assert await events.dispatch_pending(rt) == 0
    assert rec.calls == 2
    rows = await raw_rows(rt, "SELECT done_at, attempts, last_error FROM event_outbox WHERE name = :n", n=name)
    assert len(rows) == 2
    assert all(r.done_at is not None and r.attempts == 1 and r.last_error is None for r in rows)


async def test_rollback_drops_the_event(rt, recorder):
    name = _name()
    rec = recorder(name)

    async def failing_unit_of_work() -> None:
        async with rt.db.transaction() as s:
            await events.emit(s, name, {"n": 1})
            await s.flush()
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await failing_unit_of_work()
    assert await events.dispatch_pending(rt) == 0
    assert rec.calls == 0
    assert await raw_rows(rt, "SELECT id FROM event_outbox WHERE name = :n", n=name) == []


async def test_failing_handler_leaves_event_pending_and_is_retried(rt, recorder):
    name = _name()
    rec = recorder(name, fail_times=1)
    async with rt.db.transaction() as s:
        await events.emit(s, name, {"staff_id": 7})
    assert rec.calls == 1
    assert rec.payloads == []
    (row,) = await raw_rows(rt, "SELECT done_at, attempts, last_error FROM event_outbox WHERE name = :n", n=name)
    assert row.done_at is None
    assert row.attempts == 1
    assert "RuntimeError: handler failure 1" in row.last_error
    assert await events.dispatch_pending(rt) == 1  # e.g. the worker's sweep
    assert rec.payloads == [{"staff_id": 7}]
    (row,) = await raw_rows(rt, "SELECT done_at, attempts FROM event_outbox WHERE name = :n", n=name)
    assert row.done_at is not None
    assert row.attempts == 2
    assert await events.dispatch_pending(rt) == 0
    assert rec.calls == 2


async def _receive_one(bus, publish) -> dict:
    """Listen on the bus, publish until the listener sees a message (subscription is asynchronous)."""
    stream = bus.listen()
    first = asyncio.ensure_future(stream.__anext__())
    try:
        for _ in range(50):
            await publish()
            done, _ = await asyncio.wait({first}, timeout=0.1)
            if done:
                return first.result()
        raise AssertionError("the bus delivered nothing within 5 s")
    finally:
        if not first.done():
            first.cancel()
        await stream.aclose()


async def test_bus_delivers_published_messages(rt, db_backend):
    expected_bus = InProcessBus if db_backend == "sqlite" else RedisBus
    assert isinstance(rt.bus, expected_bus)
    assert await rt.bus.ping()
    marker = uuid.uuid4().hex
    got = await _receive_one(rt.bus, lambda: rt.bus.publish({"name": "test.bus", "payload": {"m": marker}}))
    assert got == {"name": "test.bus", "payload": {"m": marker}}


async def test_dispatched_events_are_published_on_the_bus(rt, recorder):
    name = _name()
    recorder(name)

    async def emit_one() -> None:
        async with rt.db.transaction() as s:
            await events.emit(s, name, {"k": "v"})

    got = await _receive_one(rt.bus, emit_one)
    assert got == {"name": name, "payload": {"k": "v"}}
