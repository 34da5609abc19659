"""CRASH TEST (PostgreSQL): `kefu serve` under transfer load is killed with SIGKILL and restarted; the
invariants hold and every transfer a client saw acknowledged is there exactly once.

Clients retry a request whose answer was lost (connection reset) with the same idempotency key until
they get one, so at the end every request is either acknowledged or refused, and the number of
transfers in the database equals the number of acknowledgements.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from kefu.core import runtime
from kefu.core.config import Settings
from kefu.core.migrate import upgrade
from tests.banking import invariants
from tests.conftest import DATA_KEY, PG_URL
from tests.factories import PASSWORD, make_account, make_customer, make_staff, make_verification

pytestmark = pytest.mark.skipif(not PG_URL, reason="the crash test needs KEFU_TEST_DATABASE_URL (PostgreSQL)")

CLIENTS = 6
LOAD_SECONDS = 2.0


@pytest.fixture
def db_backend() -> str:
    return "postgres"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(url: str, var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    env.update({
        "KEFU_DATABASE_URL": url, "KEFU_VAR_DIR": str(var), "KEFU_SECRET_KEY": "crash-test-secret-" + "x" * 20,
        "KEFU_DATA_KEY": DATA_KEY, "KEFU_EMBEDDED_WORKER": "false", "KEFU_LOG_LEVEL": "WARNING",
        "KEFU_TOTP_REQUIRED_ROLES": "", "KEFU_ARGON2_TIME_COST": "1", "KEFU_ARGON2_MEMORY_KIB": "1024",
        "KEFU_BANKING_RISK_THRESHOLD_FEN": str(10**12), "KEFU_BANKING_DAILY_TRANSFER_LIMIT_FEN": str(10**12),
    })  # fmt: skip
    return env


def _start(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    kefu = Path(sys.executable).with_name("kefu")
    with log.open("ab") as fh:
        proc = subprocess.Popen([str(kefu), "serve", "--port", str(port)], env=env, stdout=fh, stderr=fh)  # noqa: S603
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"kefu serve did not start: {log.read_text()[-2000:]}")


async def _seed(settings: Settings) -> tuple[Any, list[tuple[int, str, int, int]]]:
    rt = runtime.build(settings)
    try:
        agent = await make_staff(rt, roles=["agent"])
        accts = []
        for _ in range(4):
            c = await make_customer(rt)
            v = await make_verification(rt, customer_id=c.id, staff_id=agent.id)
            for kind, limit in (("savings", 0), ("current", 10_000)):
                aid, no, _ = await make_account(rt, customer_id=c.id, type=kind, overdraft_limit=limit, balance=80_000)
                accts.append((aid, no, c.id, v))
        return agent, accts
    finally:
        await rt.close()
        runtime.install(None)


async def _client(base: str, token: str, accts: list[Any], seed: int, stop: asyncio.Event, acked: dict) -> int:
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}
    sent = 0
    async with httpx.AsyncClient(base_url=base, timeout=10) as c:
        while not stop.is_set():
            (src, _, cust, ver), (_, dst_no, _, _) = rng.sample(accts, 2)
            body = {"customer_id": cust, "verification_id": ver, "from_account_id": src, "to_account_no": dst_no,
                    "amount": rng.randint(1, 30_000), "idempotency_key": f"crash-{seed}-{uuid.uuid4().hex}"}  # fmt: skip
            while True:  # until this request has an answer: retried with the same key across the crash
                try:
                    p = await c.post("/api/v1/banking/transfers/preview", headers=headers, json=body)
                    if p.status_code != 200:
                        break
                    r = await c.post("/api/v1/banking/transfers", headers=headers,
                                     json={**body, "confirmation_token": p.json()["confirmation_token"]})  # fmt: skip
                except httpx.HTTPError:
                    await asyncio.sleep(0.2)
                    continue
                if r.status_code >= 500:
                    await asyncio.sleep(0.2)
                    continue
                assert r.status_code in (200, 201, 409), r.text
                if r.status_code < 300:
                    key = (cust, body["idempotency_key"])
                    assert acked.setdefault(key, r.json()) == r.json(), "a retry got another answer"
                break
            sent += 1
    return sent


async def test_kill_and_restart_under_load(tmp_path: Path) -> None:
    assert PG_URL
    admin = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    dbname = f"kefu_crash_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')  # type: ignore[arg-type]
    url = admin.rsplit("/", 1)[0] + "/" + dbname
    var = tmp_path / "var"
    var.mkdir()
    env = _env(url, var)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        upgrade(url)
        settings = Settings(database_url=url, var_dir=var, secret_key=env["KEFU_SECRET_KEY"], data_key=DATA_KEY,  # type: ignore[arg-type]
                            argon2_time_cost=1, argon2_memory_kib=1024, totp_required_roles=[])  # fmt: skip
        agent, accts = await _seed(settings)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        log = tmp_path / "serve.log"
        procs.append(await asyncio.to_thread(_start, env, port, log))
        async with httpx.AsyncClient(base_url=base) as c:
            r = await c.post("/api/v1/auth/token", json={"username": agent.staff_no, "password": PASSWORD})
            token = r.json()["access_token"]
        acked: dict[tuple[int, str], dict[str, Any]] = {}
        stop = asyncio.Event()
        tasks = [asyncio.create_task(_client(base, token, accts, seed, stop, acked)) for seed in range(CLIENTS)]
        await asyncio.sleep(LOAD_SECONDS)
        before_kill = len(acked)
        procs[-1].send_signal(signal.SIGKILL)
        procs[-1].wait()
        procs.append(await asyncio.to_thread(_start, env, port, log))
        await asyncio.sleep(LOAD_SECONDS / 2)
        stop.set()
        sent = sum(await asyncio.wait_for(asyncio.gather(*tasks), timeout=60))
        assert before_kill > 0, "no transfer was acknowledged before the kill"
        assert len(acked) > before_kill, "no transfer was acknowledged after the restart"
        assert sent >= len(acked)

        rt = runtime.build(settings)
        try:
            async with rt.db.transaction() as s:
                count = await invariants.check(s, total_before=8 * 80_000, acknowledged=acked)
        finally:
            await rt.close()
            runtime.install(None)
        assert count == len(acked)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')  # type: ignore[arg-type]
