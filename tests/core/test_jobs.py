"""Background jobs: the same task code on SqliteHuey (embedded) and RedisHuey (cluster)."""

from __future__ import annotations

import pytest
from huey import RedisHuey, SqliteHuey

from kefu.core.jobs import make_huey, register_tasks


def test_make_huey_and_run_a_task(settings, db_backend):
    huey = make_huey(settings)
    try:
        if db_backend == "sqlite":
            assert isinstance(huey, SqliteHuey)
            assert (settings.var_dir / "huey.db").exists()
        else:
            assert isinstance(huey, RedisHuey)
        huey.flush()

        @huey.task()
        def add(a: int, b: int) -> int:
            return a + b

        result = add(20, 22)  # enqueued, not run
        assert huey.pending_count() == 1
        task = huey.dequeue()
        assert task is not None
        assert huey.execute(task) == 42
        assert result.get() == 42
        assert huey.pending_count() == 0
        assert huey.dequeue() is None
    finally:
        huey.flush()


def test_periodic_event_sweep_is_registered(settings):
    huey = make_huey(settings)
    try:
        register_tasks(huey)
        names = {t.__name__ for t in huey._registry._periodic_tasks}
        assert "kefu.events.sweep" in names
    finally:
        huey.flush()


async def test_a_job_runtime_dispatches_its_events_after_commit(rt):
    """A job runs in the worker thread's own event loop with its own runtime (``run_async``); the events it
    emits are dispatched after commit through that runtime, even when no process runtime is installed yet
    (the embedded worker starts before ``kefu serve`` has built its own)."""
    import asyncio

    from sqlalchemy import select

    from kefu.core import events, runtime

    ran: list[dict[str, object]] = []

    @events.subscribe("test.job_runtime")
    async def _handler(_session: object, payload: dict[str, object]) -> None:
        ran.append(payload)

    async def job() -> None:
        runtime.use_in_task(rt)
        async with rt.db.transaction() as s:
            await events.emit(s, "test.job_runtime", {"n": 1})

    runtime.install(None)
    try:
        await asyncio.create_task(job())
        with pytest.raises(RuntimeError):
            runtime.get()  # the job's runtime stayed in the job's task
    finally:
        runtime.install(rt)
        events._handlers["test.job_runtime"].remove(_handler)
    assert ran == [{"n": 1}]
    async with rt.db.transaction() as s:
        row = (
            await s.execute(select(events.OutboxEvent).where(events.OutboxEvent.name == "test.job_runtime"))
        ).scalar_one()
    assert row.done_at is not None
