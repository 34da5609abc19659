"""Test fixtures: every storage test runs on SQLite, and again on PostgreSQL + Redis when
KEFU_TEST_DATABASE_URL / KEFU_TEST_REDIS_URL are set. Each test gets its own fresh database, cloned
from a template that the migrations built once per run (a file copy on SQLite, CREATE DATABASE …
TEMPLATE on PostgreSQL), so tests exercise real commits and a clean audit chain."""

from __future__ import annotations

import base64
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from httpx import ASGITransport, AsyncClient

from kefu.core import clock, runtime
from kefu.core.config import Settings
from kefu.core.migrate import upgrade

PG_URL = os.environ.get("KEFU_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("KEFU_TEST_REDIS_URL")
BACKENDS = ["sqlite"] + (["postgres"] if PG_URL else [])
RUN_ID = uuid.uuid4().hex[:8]
DATA_KEY = "1:" + base64.b64encode(b"k" * 32).decode()


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
    """Every ``async def`` test runs under anyio (asyncio), without marking each one."""
    import inspect

    if inspect.iscoroutinefunction(obj) and name.startswith("test"):
        pytest.mark.anyio(obj)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def _pg_admin_url() -> str:
    assert PG_URL
    return PG_URL.replace("postgresql+psycopg://", "postgresql://")


def _pg_url_for(dbname: str) -> str:
    base = _pg_admin_url().rsplit("/", 1)[0]
    return f"{base}/{dbname}"


def _pg_exec(sql: str) -> None:
    with psycopg.connect(_pg_admin_url(), autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[dict[str, str]]:
    out: dict[str, str] = {}
    tdir = tmp_path_factory.mktemp("template")
    sqlite_file = tdir / "template.db"
    upgrade(f"sqlite:///{sqlite_file}")
    out["sqlite"] = str(sqlite_file)
    pg_name = None
    if PG_URL:
        pg_name = f"kefu_tpl_{RUN_ID}_{worker_id}"
        _pg_exec(f'DROP DATABASE IF EXISTS "{pg_name}"')
        _pg_exec(f'CREATE DATABASE "{pg_name}"')
        upgrade(_pg_url_for(pg_name))
        out["postgres"] = pg_name
    yield out
    if pg_name:
        _pg_exec(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(db_backend: str, templates: dict[str, str], tmp_path: Path, worker_id: str) -> Iterator[Settings]:
    var = tmp_path / "var"
    var.mkdir()
    dbname = None
    if db_backend == "sqlite":
        db_file = tmp_path / "kefu.db"
        shutil.copy(templates["sqlite"], db_file)
        url = f"sqlite:///{db_file}"
        redis_url = None
    else:
        dbname = f"kefu_t_{RUN_ID}_{worker_id}_{uuid.uuid4().hex[:8]}"
        _pg_exec(f'CREATE DATABASE "{dbname}" TEMPLATE "{templates["postgres"]}"')
        url = _pg_url_for(dbname)
        redis_url = REDIS_URL
    s = Settings(
        database_url=url,
        redis_url=redis_url,
        redis_prefix=f"kefutest:{uuid.uuid4().hex[:10]}",
        var_dir=var,
        secret_key="test-secret-key-" + uuid.uuid4().hex,  # type: ignore[arg-type]
        data_key=DATA_KEY,  # type: ignore[arg-type]
        environment="test",
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        totp_required_roles=[],
        log_json=True,
        embedded_worker=False,
        kb_rerank=False,  # the re-ranker has its own tests (tests/knowledge/test_search.py)
    )
    yield s
    if dbname:
        _pg_exec(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


@pytest.fixture
async def rt(settings: Settings) -> AsyncIterator[runtime.Runtime]:
    r = runtime.build(settings)
    yield r
    await r.close()
    runtime.install(None)
    clock.freeze(None)


@pytest.fixture
async def app(rt: runtime.Runtime):  # type: ignore[no-untyped-def]
    from kefu.main import create_app

    return create_app(rt=rt)


@pytest.fixture
async def client(app) -> AsyncIterator[AsyncClient]:  # type: ignore[no-untyped-def]
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as c:
        yield c
