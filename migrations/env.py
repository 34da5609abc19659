"""Alembic environment: async engines, batch mode so the same migrations run on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from kefu.core.config import async_database_url, get_settings
from kefu.core.db import make_engine
from kefu.models import metadata

config = context.config
target_metadata = metadata


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Render Kefu's column types as the plain types they store (migrations must not import them)."""
    from kefu.core.crypto import Encrypted
    from kefu.core.db import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, Encrypted):
        return f"sa.String(length={obj.impl.length})"  # type: ignore[attr-defined]
    return False


def _url() -> str:
    url = config.attributes.get("database_url") or get_settings().database_url
    return async_database_url(url)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection, target_metadata=target_metadata, render_as_batch=True, render_item=render_item
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url(), pool=False)
    async with engine.connect() as conn:
        await conn.run_sync(_run)
        await conn.commit()
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
