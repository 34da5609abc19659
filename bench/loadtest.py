"""Load test of the phone path: N agents on websockets, a steady stream of calls through the CTI API.

Each agent signs in, opens ``/api/v1/ws``, goes ready, and on every offer answers, talks for a while,
hangs up, records the wrap-up and goes ready again. Calls arrive at a fixed rate (``call.new``); a caller
who is not answered within their patience hangs up (``call.hangup``). At the end every call must have
ended answered-and-closed (with its wrap-up), abandoned, or be a scheduled callback: nothing lost.

Used by ``tests/routing_desk/test_load.py`` (a short run) and ``make bench`` (minutes).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

PASSWORD = "Load-pass-2026x"


@dataclass
class LoadReport:
    calls: int = 0
    answered: int = 0
    abandoned_by_caller: int = 0
    rejected: int = 0
    caller_hung_up_first: int = 0
    errors: list[str] = field(default_factory=list)
    retries: list[str] = field(default_factory=list)
    call_new_ms: list[float] = field(default_factory=list)
    offer_to_answer_ms: list[float] = field(default_factory=list)
    final_states: dict[str, int] = field(default_factory=dict)
    lost: list[int] = field(default_factory=list)
    without_wrapup: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        def pct(values: list[float], q: float) -> float:
            if not values:
                return 0.0
            return round(statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0], 1)

        return {
            "calls": self.calls, "answered": self.answered, "abandoned": self.abandoned_by_caller,
            "rejected": self.rejected, "caller_hung_up_first": self.caller_hung_up_first, "final_states": self.final_states, "lost": len(self.lost),
            "closed_without_wrapup": len(self.without_wrapup), "errors": len(self.errors),
            "retries": len(self.retries), "first_errors": self.errors[:3],
            "call_new_p50_ms": pct(self.call_new_ms, 50), "call_new_p99_ms": pct(self.call_new_ms, 99),
            "seconds": round(self.seconds, 1), "calls_per_s": round(self.calls / self.seconds, 1) if self.seconds else 0,
        }  # fmt: skip


def seed(settings: Any, *, agents: int) -> dict[str, Any]:
    """Queues, an IVR route, ``agents`` agents with skills, a CTI key and the wrap-up categories."""
    from kefu.contacts import demo as contacts_demo
    from kefu.core import runtime
    from kefu.routing import config_service
    from kefu.staff import auth as staff_auth
    from kefu.staff import service as staff_service

    async def go() -> dict[str, Any]:
        rt = runtime.build(settings)
        try:
            async with rt.db.transaction() as s:
                team = await staff_service.create_team(s, code="LOAD", name="load test")
                admin = await staff_service.create_staff(s, staff_no="LA0001", name="压测管理员", roles=["admin"],
                                                         password=PASSWORD, must_change_password=False)  # fmt: skip
                numbers = []
                for i in range(agents):
                    member = await staff_service.create_staff(
                        s, staff_no=f"LD{i:04d}", name=f"坐席{i:03d}", roles=["agent"], password=PASSWORD,
                        team_id=team.id, must_change_password=False,
                    )  # fmt: skip
                    numbers.append(member.staff_no)
                    await s.flush()
                    await config_service.set_skills(s, actor=None, staff_id=member.id, skills={"general": 5})
                await config_service.create_queue(s, actor=None, code="general", name="综合", skills=["general"])
                await config_service.create_ivr_route(s, actor=None, queue_code="general")
                await contacts_demo.seed_categories(s)
                key, _ = await staff_auth.create_api_key(s, actor=staff_auth.principal_for(admin, kind="api"),
                                                         name="load", scopes=["cti.events"], expires_days=None)  # fmt: skip
            return {"agents": numbers, "cti_key": key}
        finally:
            await rt.close()
            runtime.install(None)

    return asyncio.run(go())


class _Agent:
    def __init__(self, staff_no: str, client: httpx.AsyncClient, base: str, report: LoadReport, rng: random.Random,
                 handle_s: tuple[float, float], category: int) -> None:  # fmt: skip
        self.staff_no, self.client, self.base, self.report = staff_no, client, base, report
        self.rng, self.handle_s, self.category = rng, handle_s, category
        self.headers: dict[str, str] = {}
        self.busy = asyncio.Lock()

    async def sign_in(self) -> None:
        for attempt in range(5):
            try:
                r = await self.client.post("/api/v1/auth/token", json={"username": self.staff_no, "password": PASSWORD})
                break
            except httpx.TransportError:
                await asyncio.sleep(0.5 * (attempt + 1))
        else:
            raise RuntimeError(f"{self.staff_no} could not sign in")
        r.raise_for_status()
        self.headers = {"Authorization": f"Bearer {r.json()['access_token']}"}

    async def post(self, path: str, body: dict[str, Any] | None = None, *, attempts: int = 1) -> httpx.Response:
        """POST as this agent; like a person at a slow screen, retry a timeout or a 5xx ``attempts`` times."""
        last: httpx.Response | None = None
        for attempt in range(attempts):
            try:
                last = await self.client.post(path, json=body or {}, headers=self.headers)
            except httpx.HTTPError as exc:
                self.report.retries.append(f"{path}: {type(exc).__name__}")
                await asyncio.sleep(1.0 + attempt)
                continue
            if last.status_code < 500:
                return last
            self.report.retries.append(f"{path}: {last.status_code}")
            await asyncio.sleep(1.0 + attempt)
        return last if last is not None else httpx.Response(599, text="no answer")

    async def run(self, stop: asyncio.Event, answered: dict[int, asyncio.Event]) -> None:
        import websockets

        url = self.base.replace("http://", "ws://") + "/api/v1/ws"
        async with websockets.connect(url, additional_headers=self.headers, max_queue=None) as ws:
            hello = json.loads(await ws.recv())
            assert hello["type"] == "hello"  # noqa: S101
            r = await self.post("/api/v1/desk/presence", {"presence": "ready"})
            if r.status_code != 200:
                self.report.errors.append(f"ready {r.status_code} {r.text[:120]}")
            while not stop.is_set():
                try:
                    raw = await asyncio.wait_for(ws.recv(), timeout=0.5)
                except TimeoutError:
                    continue
                msg = json.loads(raw)
                if msg.get("type") == "offer":
                    await self.take(int(msg["contact_id"]), answered)

    async def connected_to(self, contact_id: int) -> bool:
        """After a lost answer: look at the desk, as an agent would, to see whether the call is with us."""
        for _ in range(5):
            try:
                r = await self.client.get("/api/v1/desk", headers=self.headers)
            except httpx.HTTPError:
                await asyncio.sleep(1.0)
                continue
            if r.status_code == 200:
                return any(c["contact_id"] == contact_id and c["status"] == "connected" for c in r.json()["contacts"])
            await asyncio.sleep(1.0)
        return False

    async def take(self, contact_id: int, answered: dict[int, asyncio.Event]) -> None:
        t0 = time.perf_counter()
        r = await self.post(f"/api/v1/desk/contacts/{contact_id}/accept")
        if r.status_code >= 500 and not await self.connected_to(contact_id):
            return  # no answer from the server and the call is not ours: it rang on elsewhere
        if 400 <= r.status_code < 500:
            return  # the caller hung up or the offer moved on meanwhile: both are normal
        answered.setdefault(contact_id, asyncio.Event()).set()
        self.report.offer_to_answer_ms.append((time.perf_counter() - t0) * 1000)
        self.report.answered += 1
        await asyncio.sleep(self.rng.uniform(*self.handle_s))
        r = await self.post(f"/api/v1/desk/contacts/{contact_id}/hangup", attempts=5)
        if r.status_code in (404, 409):
            self.report.caller_hung_up_first += 1  # the caller's hang-up arrived first: the call ended anyway
        elif r.status_code != 204:
            self.report.errors.append(f"hangup {r.status_code} {r.text[:120]}")
        r = await self.post(f"/api/v1/contacts/{contact_id}/wrapup",
                            {"category_id": self.category, "summary": "压测通话记录", "result": "resolved"},
                            attempts=5)  # fmt: skip
        if r.status_code != 201:
            self.report.errors.append(f"wrapup {r.status_code} {r.text[:120]}")
        r = await self.post("/api/v1/desk/presence", {"presence": "ready"}, attempts=5)
        if r.status_code != 200:
            self.report.errors.append(f"ready {r.status_code} {r.text[:120]}")


async def _leaf(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    r = await client.get("/api/v1/wrapup-categories", headers=headers)
    r.raise_for_status()

    def walk(nodes: list[dict[str, Any]]) -> int | None:
        for n in nodes:
            if not n.get("children"):
                return int(n["id"])
            found = walk(n["children"])
            if found:
                return found
        return None

    leaf = walk(r.json())
    if leaf is None:
        raise RuntimeError("no wrap-up category")
    return leaf


async def drive(
    base: str, *, cti_key: str, agents: list[str], calls_per_s: float, seconds: float,
    handle_s: tuple[float, float] = (2.0, 5.0), patience_s: float = 30.0, seed: int = 1,
) -> LoadReport:  # fmt: skip
    """Run the load against a server at ``base``; returns what happened (check it with :func:`verify`)."""
    report = LoadReport()
    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        desk = [_Agent(no, client, base, report, random.Random(rng.random()), handle_s, 0) for no in agents]
        sem = asyncio.Semaphore(20)

        async def sign_in(a: _Agent) -> None:
            async with sem:
                await a.sign_in()

        await asyncio.gather(*(sign_in(a) for a in desk))
        category = await _leaf(client, desk[0].headers)
        for a in desk:
            a.category = category
        stop_agents = asyncio.Event()
        answered: dict[int, asyncio.Event] = {}
        agent_tasks = [asyncio.create_task(a.run(stop_agents, answered)) for a in desk]
        await asyncio.sleep(2.0)  # everyone ready
        cti = {"X-API-Key": cti_key}
        callers: list[asyncio.Task[None]] = []

        async def cti_post(body: dict[str, Any]) -> httpx.Response | None:
            """Call events are idempotent by call id, so a dropped connection (a keep-alive connection the
            server closed just as it was reused) is simply sent again, as a PBX would."""
            for attempt in range(5):
                try:
                    return await client.post("/api/v1/cti/events", headers=cti, json=body)
                except httpx.TransportError as exc:
                    report.retries.append(f"{body['event']}: {type(exc).__name__}")
                    await asyncio.sleep(0.5 * (attempt + 1))
            return None

        async def caller(n: int) -> None:
            t0 = time.perf_counter()
            r = await cti_post({
                "event": "call.new", "call_id": f"load-{seed}-{n}", "caller": f"139{n:08d}", "dialled": "4000000000",
            })  # fmt: skip
            report.call_new_ms.append((time.perf_counter() - t0) * 1000)
            if r is None:
                report.errors.append("call.new: no answer after 5 tries")
                return
            if r.status_code != 200:
                report.errors.append(f"call.new {r.status_code} {r.text[:120]}")
                return
            body = r.json()
            if body["action"] == "reject":
                report.rejected += 1
                return
            contact_id = int(body["contact_id"])
            picked_up = answered.setdefault(contact_id, asyncio.Event())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(picked_up.wait(), timeout=min(rng.expovariate(1 / patience_s), 2 * patience_s))
            if not picked_up.is_set():
                r = await cti_post({"event": "call.hangup", "call_id": f"load-{seed}-{n}"})
                if r is not None and r.status_code == 200 and r.json()["status"] == "abandoned":
                    report.abandoned_by_caller += 1

        started = time.monotonic()
        n = 0
        while time.monotonic() - started < seconds:
            due = int((time.monotonic() - started) * calls_per_s) + 1  # catch up if the loop fell behind
            while n < due:
                callers.append(asyncio.create_task(caller(n)))
                n += 1
                report.calls += 1
            await asyncio.sleep(max(0.0, started + n / calls_per_s - time.monotonic()))
        while n < int(seconds * calls_per_s):  # the loop fell behind at the end: the rest arrive now
            callers.append(asyncio.create_task(caller(n)))
            n += 1
            report.calls += 1
        await asyncio.gather(*callers)
        report.seconds = time.monotonic() - started
        await asyncio.sleep(handle_s[1] + 3)  # the last answered calls finish and are wrapped up
        stop_agents.set()
        for task in agent_tasks:
            with contextlib.suppress(Exception):
                await task
    return report


async def verify(settings: Any, report: LoadReport) -> LoadReport:
    """Read the database: every call of the run must have a final record."""
    from sqlalchemy import text

    from kefu.core.config import async_database_url
    from kefu.core.db import Database

    db = Database(async_database_url(settings.database_url), pool=False)
    try:
        async with db.engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT c.id, c.status, w.id AS wrapup FROM contacts c LEFT JOIN wrapups w ON w.contact_id = c.id "
                "WHERE c.external_ref LIKE 'load-%'"
            ))).all()  # fmt: skip
    finally:
        await db.dispose()
    states: dict[str, int] = {}
    for row in rows:
        states[row.status] = states.get(row.status, 0) + 1
        if row.status not in ("closed", "abandoned", "scheduled", "rejected"):
            report.lost.append(row.id)
        if row.status == "closed" and row.wrapup is None:
            report.without_wrapup.append(row.id)
    report.final_states = states
    missing = report.calls - len(rows) - sum(1 for e in report.errors if e.startswith("call.new"))
    report.lost.extend([-1] * max(0, missing))
    return report


# ---- make bench ----------------------------------------------------------------------------------


def _serve(env: dict[str, str], workers: int = 1) -> Any:
    import os
    import subprocess
    import sys

    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "kefu.main:create_app", "--factory", "--host", "127.0.0.1",
         "--port", env["PORT"], "--no-access-log", "--workers", str(workers)],
        env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def run_load(
    label: str, *, database_url: str, redis_url: str | None, agents: int, calls_per_s: float, seconds: float,
    workers: int = 1,
) -> LoadReport:  # fmt: skip
    import base64
    import os
    import socket
    import tempfile
    from pathlib import Path

    from kefu.core.config import Settings
    from kefu.core.migrate import upgrade

    tmp = Path(tempfile.mkdtemp(prefix="kefu-load-"))
    (tmp / "var").mkdir()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        "KEFU_DATABASE_URL": database_url, "KEFU_VAR_DIR": str(tmp / "var"), "PORT": str(port),
        "KEFU_SECRET_KEY": "load-" + base64.b16encode(os.urandom(12)).decode(),
        "KEFU_DATA_KEY": "1:" + base64.b64encode(os.urandom(32)).decode(), "KEFU_ENVIRONMENT": "test",
        "KEFU_ARGON2_TIME_COST": "1", "KEFU_ARGON2_MEMORY_KIB": "1024", "KEFU_TOTP_REQUIRED_ROLES": "admin",
        "KEFU_EMBEDDED_WORKER": "false", "KEFU_DEMO_ON_FIRST_START": "false", "KEFU_LOG_LEVEL": "WARNING",
        "KEFU_REDIS_PREFIX": f"kefuload{port}",
    }  # fmt: skip
    if redis_url:
        env["KEFU_REDIS_URL"] = redis_url
    settings = Settings(database_url=database_url, redis_url=redis_url, var_dir=tmp / "var",
                        secret_key=env["KEFU_SECRET_KEY"], data_key=env["KEFU_DATA_KEY"],  # type: ignore[arg-type]
                        argon2_time_cost=1, argon2_memory_kib=1024, environment="test",
                        redis_prefix=env["KEFU_REDIS_PREFIX"])  # fmt: skip
    upgrade(database_url)
    seeded = seed(settings, agents=agents)
    proc = _serve(env, workers)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.3)
        report = asyncio.run(drive(base, cti_key=seeded["cti_key"], agents=seeded["agents"],
                                   calls_per_s=calls_per_s, seconds=seconds))  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return asyncio.run(verify(settings, report))


def main() -> list[Any]:
    import os
    import shutil
    import subprocess
    import tempfile

    from bench.foundation import Result, emit, scratch_pg_database

    seconds = float(os.environ.get("KEFU_BENCH_LOAD_SECONDS", "120"))
    results: list[Result] = []
    runs: list[tuple[str, LoadReport]] = []
    tmp = tempfile.mkdtemp(prefix="kefu-load-db-")
    runs.append(("SQLite, 1 process", run_load("sqlite", database_url=f"sqlite:///{tmp}/kefu.db", redis_url=None,
                                               agents=200, calls_per_s=50, seconds=seconds)))  # fmt: skip
    shutil.rmtree(tmp, ignore_errors=True)
    pg = os.environ.get("KEFU_BENCH_DATABASE_URL")
    redis_up = (
        subprocess.run(["redis-cli", "ping"], capture_output=True, text=True, check=False).stdout.strip() == "PONG"
    )  # noqa: S607
    if pg and redis_up:
        with scratch_pg_database(pg, "kefu_bench_load") as url:
            runs.append(("PostgreSQL+Redis, 2 processes", run_load(
                "cluster", database_url=url, redis_url="redis://127.0.0.1:6379/0", agents=200, calls_per_s=50,
                seconds=seconds, workers=2,
            )))  # fmt: skip
    for label, rep in runs:
        s = rep.summary()
        answered = s["answered"] / max(1, s["calls"])
        print(f"load {label}: {s}")  # noqa: T201
        emit(results, [Result(
            f"load 50 calls/s, 200 ws agents ({label})", f"{len(rep.lost)} lost",
            "calls answered / abandoned", f"{answered:.0%} / {s['abandoned'] / max(1, s['calls']):.0%}",
            "0 lost", not rep.lost and not rep.without_wrapup,
        )])  # fmt: skip
    return results
