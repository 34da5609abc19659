"""Background jobs and timers on huey: SQLite storage in embedded mode, Redis in cluster mode.

Task bodies are async; each task runs them with ``asyncio.run`` against a runtime built for the
worker process (or the one already installed when the consumer runs inside ``kefu serve``).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from huey import Huey, RedisHuey, SqliteHuey, crontab

from kefu.core.config import Settings

log = structlog.get_logger(__name__)

_huey: Huey | None = None


def make_huey(settings: Settings) -> Huey:
    name = settings.redis_prefix
    if settings.redis_url:
        return RedisHuey(name, url=settings.redis_url)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(settings.var_dir / "huey.db"))


def get_huey(settings: Settings | None = None) -> Huey:
    global _huey
    if _huey is None:
        from kefu.core.config import get_settings

        _huey = make_huey(settings or get_settings())
        register_tasks(_huey)
    return _huey


def run_async(fn: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run an async job body (given a runtime of its own) in this worker thread with its own loop."""
    from kefu.core import runtime

    async def _main() -> Any:
        from kefu.core.config import get_settings

        rt = runtime.build(get_settings(), pool=False, install=False)
        runtime.use_in_task(rt)  # after-commit hooks (event dispatch) must use this loop's runtime
        try:
            return await fn(rt)
        finally:
            await rt.close()

    return asyncio.run(_main())


def register_tasks(huey: Huey) -> None:
    @huey.periodic_task(crontab(minute="*"), name="kefu.events.sweep")
    def sweep_events() -> int:
        from kefu.core import events

        return int(run_async(events.dispatch_pending))

    @huey.periodic_task(crontab(minute="*"), name="kefu.contacts.followup_sweep")
    def followup_sweep() -> dict[str, int]:
        from kefu.contacts import jobs as contact_jobs

        return dict(run_async(contact_jobs.followup_sweep))

    # handlers of domain events that the worker runs (the outbox sweep above dispatches them)
    import kefu.contacts.followups  # noqa: F401

    @huey.periodic_task(crontab(minute="*/5"), name="kefu.banking.expire_temporary_losses")
    def expire_card_losses() -> int:
        from kefu.banking import cards

        return int(run_async(cards.expire_job))

    @huey.periodic_task(crontab(minute="5", hour="*"), name="kefu.complaints.digest")
    def complaints_digest() -> dict[str, int]:
        """Hourly, so a worker that was down at midnight still sends the day's digests (each period once)."""
        from kefu.complaints import digest

        return dict(run_async(digest.daily_job))

    @huey.periodic_task(crontab(minute="*"), name="kefu.complaints.sweep")
    def complaints_sweep() -> dict[str, int]:
        from kefu.complaints import jobs as complaint_jobs

        return dict(run_async(complaint_jobs.sweep))


def start_embedded_consumer(huey: Huey) -> threading.Thread:
    """Run a one-worker huey consumer in a daemon thread (one-process demo in ``kefu serve``)."""
    consumer = huey.create_consumer(workers=1, worker_type="thread", periodic=True, check_worker_health=False)
    thread = threading.Thread(target=consumer.run, name="kefu-jobs", daemon=True)
    consumer._set_signal_handlers = lambda: None  # signals belong to the server's main thread
    thread.start()
    return thread
