"""Database engine, sessions, base model and column types shared by every domain."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, TypeVar

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, TypeDecorator, event
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, mapped_column
from sqlalchemy.pool import NullPool

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


BigId = BigInteger().with_variant(Integer, "sqlite")
IdPk = Annotated[int, mapped_column(BigId, primary_key=True, autoincrement=True)]


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC timestamps on both databases (SQLite keeps no zone: we re-attach UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware datetimes")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def make_engine(async_url: str, *, pool: bool = True) -> AsyncEngine:
    if async_url.startswith("sqlite"):
        engine = create_async_engine(async_url, poolclass=NullPool if not pool else None)
        _sqlite_hooks(engine)
        return engine
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if not pool:
        kwargs = {"poolclass": NullPool}
    return create_async_engine(async_url, **kwargs)


def _sqlite_hooks(engine: AsyncEngine) -> None:
    """WAL, foreign keys, a busy timeout, and BEGIN IMMEDIATE so that writers queue instead of failing."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _rec: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """One engine + session factory per process (or per test).

    SQLite allows one writer at a time and every transaction here begins IMMEDIATE. Left to SQLite,
    waiting writers poll with growing sleeps (the busy handler), which wastes most of the time under
    load; so in embedded mode this process's transactions also queue on an asyncio lock (``writer()``),
    FIFO and without polling. Another process (``kefu worker``) still waits on SQLite's busy timeout.
    """

    #: how long a request waits for its turn at the SQLite writer before answering 503
    GATE_TIMEOUT_S = 30.0

    def __init__(self, async_url: str, *, pool: bool = True) -> None:
        self.url = async_url
        self.engine = make_engine(async_url, pool=pool)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._gate: asyncio.Lock | None = asyncio.Lock() if async_url.startswith("sqlite") else None

    @asynccontextmanager
    async def writer(self) -> AsyncIterator[None]:
        """Hold the in-process SQLite writer turn (no-op on PostgreSQL). Never nest it."""
        if self._gate is None:
            yield
            return
        try:
            await asyncio.wait_for(self._gate.acquire(), timeout=self.GATE_TIMEOUT_S)
        except TimeoutError as exc:
            from kefu.core.errors import ServiceUnavailable

            raise ServiceUnavailable("The system is very busy right now; nothing was saved. Try again in a moment.",
                                     code="busy") from exc  # fmt: skip
        try:
            yield
        finally:
            self._gate.release()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commit on success, roll back on error, then run after-commit hooks."""
        async with self.writer():
            session = self.sessionmaker()
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                await session.close()
                raise
            await session.close()
        await run_after_commit(session)

    async def dispose(self) -> None:
        await self.engine.dispose()


# ---- after-commit side effects (convention 2) --------------------------------------------------

AfterCommit = Callable[[], Awaitable[None]]


def after_commit(session: AsyncSession, fn: AfterCommit) -> None:
    """Queue ``fn`` to run once the surrounding transaction has committed; a rollback drops it."""
    session.info.setdefault("after_commit", []).append(fn)


async def run_after_commit(session: AsyncSession) -> None:
    import structlog

    hooks: list[AfterCommit] = session.info.pop("after_commit", [])
    for fn in hooks:
        try:
            await fn()
        except Exception:  # a side effect must not undo a committed transaction
            structlog.get_logger(__name__).exception("after_commit_failed", hook=getattr(fn, "__name__", "?"))


T = TypeVar("T")


def utcnow() -> dt.datetime:
    from kefu.core.clock import now

    return now()
