"""The process-wide runtime: settings, database, event bus. Built once by the app, CLI or a test."""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Any

from kefu.core import crypto
from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.core.events import Bus, make_bus


@dataclass
class Runtime:
    settings: Settings
    db: Database
    bus: Bus
    #: per-runtime state owned by domains (e.g. the routing engine), closed with the runtime
    extras: dict[str, Any] = field(default_factory=dict)

    async def close(self) -> None:
        for value in list(self.extras.values()):
            closer = getattr(value, "aclose", None)
            if closer is not None:
                await closer()
        self.extras.clear()
        await self.bus.close()
        await self.db.dispose()


_runtime: Runtime | None = None


def build(settings: Settings, *, pool: bool = True, install: bool = True) -> Runtime:
    """Create (and install) the runtime: secrets, keyring, engine, bus."""
    global _runtime
    settings.ensure_secrets()
    assert settings.data_key is not None  # noqa: S101 - ensured above
    crypto.configure(settings.data_key.get_secret_value())
    rt = Runtime(
        settings=settings,
        db=Database(settings.async_url, pool=pool),
        bus=make_bus(settings.redis_url, f"{settings.redis_prefix}:events"),
    )
    if install:
        _runtime = rt
    return rt


#: a runtime of this task only (a job running in the worker's own event loop), ahead of the process's one
_task_runtime: ContextVar[Runtime | None] = ContextVar("kefu_task_runtime", default=None)


def get() -> Runtime:
    local = _task_runtime.get()
    if local is not None:
        return local
    if _runtime is None:
        raise RuntimeError("Kefu runtime not built")
    return _runtime


def use_in_task(rt: Runtime) -> Token[Runtime | None]:
    """Make ``rt`` what :func:`get` returns in the current task (and tasks it starts), e.g. for a job that
    runs in the worker thread's own event loop while ``kefu serve`` holds the process's runtime."""
    return _task_runtime.set(rt)


def install(rt: Runtime | None) -> None:
    global _runtime
    _runtime = rt
