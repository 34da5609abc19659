"""Background jobs: the same task code on SqliteHuey (embedded) and RedisHuey (cluster)."""

from __future__ import annotations

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
