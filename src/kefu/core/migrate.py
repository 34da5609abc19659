"""Running the Alembic migrations from code (``kefu db upgrade``, tests)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parents[3]


def alembic_config(database_url: str) -> Config:
    ini = ROOT / "alembic.ini"
    if not ini.exists():
        raise RuntimeError(f"alembic.ini not found at {ini}; run Kefu from its checkout (pip install -e .)")
    cfg = Config(str(ini))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate; safe to call from inside a running event loop (env.py runs its own loop in a thread)."""
    cfg = alembic_config(database_url)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        command.upgrade(cfg, revision)
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(command.upgrade, cfg, revision).result()


def current_heads(database_url: str) -> list[str]:
    from alembic.script import ScriptDirectory

    return list(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())


async def database_revision(async_url: str) -> str | None:
    """The schema revision the database is at (None: not migrated at all)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from kefu.core.db import make_engine

    if async_url.startswith("sqlite"):
        path = Path(async_url.split(":///", 1)[1])
        if not path.exists():  # do not create an empty database file just by looking
            return None
    engine = make_engine(async_url, pool=False)
    try:
        async with engine.connect() as conn:  # a connection error propagates: it is not "no schema"
            try:
                return (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one_or_none()
            except DBAPIError:  # no alembic_version table
                return None
    finally:
        await engine.dispose()


def schema_problem(database_url: str, async_url: str) -> str | None:
    """A message when the database is not at the code's schema version, else None."""
    from sqlalchemy.exc import DBAPIError

    heads = current_heads(database_url)
    try:
        at = asyncio.run(database_revision(async_url))
    except (DBAPIError, OSError) as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
        return f"cannot reach the database ({reason}); check KEFU_DATABASE_URL and that the server is up"
    if at in heads:
        return None
    if at is None:
        return "the database has no Kefu schema yet: run 'kefu db upgrade' first"
    return f"the database schema ({at}) is older than this version of Kefu ({', '.join(heads)}): run 'kefu db upgrade'"
