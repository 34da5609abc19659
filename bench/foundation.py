"""Foundation benchmarks: audit chain, field encryption, blind-index lookup, request latency, memory.

Each figure is printed beside a peer measured in the same run on the same machine:
- hash-chained audit append  vs  a plain INSERT of the same row (the cost of tamper evidence)
- AES-GCM field encryption   vs  Fernet (AES-CBC + HMAC), the usual alternative in `cryptography`
- blind-index lookup         vs  decrypting every row and comparing (what you'd do without the index)
- GET /api/v1/staff/me       vs  GET /healthz (the cost of authentication + permission check)
- argon2id verify            vs  PBKDF2-SHA256 at 600,000 iterations (OWASP 2023 figure)
Set KEFU_BENCH_DATABASE_URL (postgresql://…) to repeat the storage figures on PostgreSQL.
"""

from __future__ import annotations

import base64
import hashlib
import os
import resource
import shutil
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text

from kefu.core import audit, crypto, runtime
from kefu.core.config import Settings
from kefu.core.migrate import upgrade


@dataclass
class Result:
    name: str
    ours: str
    peer_name: str
    peer: str
    target: str
    met: bool | None


def _fmt_rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}/s"


def _print(r: Result) -> None:
    mark = {True: "met", False: "MISSED", None: "-"}[r.met]
    print(f"{r.name:<38} {r.ours:>14} | {r.peer_name:<30} {r.peer:>14} | target {r.target:<16} {mark}")


@contextmanager
def scratch_pg_database(admin_url: str, name: str) -> Iterator[str]:
    """A fresh PostgreSQL database migrated to head, dropped afterwards; yields its URL."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


def emit(results: list[Result], rows: list[Result]) -> None:
    for r in rows:
        _print(r)
        results.append(r)


async def on_each_database(name: str, bench: Callable[[str, Settings], Awaitable[list[Result]]]) -> list[Result]:
    """Run ``bench(label, settings)`` on a fresh SQLite database, then on a scratch PostgreSQL database when
    ``KEFU_BENCH_DATABASE_URL`` names a server; prints and returns every row."""
    from kefu.core import logging as kefu_logging
    from kefu.core.migrate import upgrade

    kefu_logging.configure("WARNING", json=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"kefu-bench-{name}-"))
    results: list[Result] = []
    try:
        url = f"sqlite:///{tmp / (name + '.db')}"
        upgrade(url)
        emit(results, await bench("SQLite", _settings(url, tmp)))
        pg = os.environ.get("KEFU_BENCH_DATABASE_URL")
        if pg:
            with scratch_pg_database(pg, f"kefu_bench_{name}_{os.getpid()}") as pg_url:
                emit(results, await bench("PostgreSQL", _settings(pg_url, tmp)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return results


async def _bench_storage(label: str, settings: Settings) -> list[Result]:
    rt = runtime.build(settings)
    out: list[Result] = []
    try:
        n = 500
        t0 = time.perf_counter()
        for i in range(n):
            async with rt.db.transaction() as s:
                await audit.record(s, action="bench.append", object_type="bench", object_id=i, after={"i": i})
        chained = time.perf_counter() - t0
        async with rt.db.transaction() as s:
            await s.execute(text("CREATE TABLE bench_plain (id INTEGER PRIMARY KEY, action VARCHAR(80), payload TEXT)"))
        t0 = time.perf_counter()
        for i in range(n):
            async with rt.db.transaction() as s:
                await s.execute(
                    text("INSERT INTO bench_plain (id, action, payload) VALUES (:i, 'bench.append', :p)"),
                    {"i": i, "p": audit.canonical({"i": i})},
                )
        plain = time.perf_counter() - t0
        rate = n / chained
        out.append(
            Result(f"audit append, 1 per txn ({label})", _fmt_rate(n, chained), "plain INSERT, 1 per txn",
                   _fmt_rate(n, plain), ">= 150/s", rate >= 150)
        )  # fmt: skip
        async with rt.db.transaction() as s:
            t0 = time.perf_counter()
            res = await audit.verify(s)
            vt = time.perf_counter() - t0
        out.append(Result(f"audit verify ({label})", _fmt_rate(res.checked, vt), "-", "-", ">= 5,000/s",
                          res.checked / vt >= 5000))  # fmt: skip

        # blind index vs decrypt-and-scan over 2,000 staff-like rows
        async with rt.db.transaction() as s:
            await s.execute(text("CREATE TABLE bench_people (id INTEGER PRIMARY KEY, phone TEXT, phone_bidx TEXT)"))
            rows = []
            for i in range(2000):
                phone = f"139{i:08d}"
                rows.append({"i": i, "p": crypto.encrypt(phone, context="bench.phone"),
                             "b": crypto.blind_index(phone, context="bench.phone")})  # fmt: skip
            await s.execute(text("INSERT INTO bench_people (id, phone, phone_bidx) VALUES (:i, :p, :b)"), rows)
            await s.execute(text("CREATE INDEX ix_bench_people_bidx ON bench_people (phone_bidx)"))
        target_phone = "13900001999"
        q = 200
        async with rt.db.transaction() as s:
            t0 = time.perf_counter()
            for _ in range(q):
                b = crypto.blind_index(target_phone, context="bench.phone")
                found = (await s.execute(text("SELECT id FROM bench_people WHERE phone_bidx = :b"), {"b": b})).all()
                assert len(found) == 1  # noqa: S101
            t_idx = (time.perf_counter() - t0) / q
            scans = 5
            t0 = time.perf_counter()
            for _ in range(scans):
                all_rows = (await s.execute(text("SELECT id, phone FROM bench_people"))).all()
                hits = [r.id for r in all_rows if crypto.decrypt(r.phone, context="bench.phone") == target_phone]
                assert len(hits) == 1  # noqa: S101
            t_scan = (time.perf_counter() - t0) / scans
        out.append(Result(f"lookup by phone, 2k rows ({label})", f"{t_idx * 1000:.2f} ms", "decrypt every row + compare",
                          f"{t_scan * 1000:.1f} ms", "<= 5 ms", t_idx * 1000 <= 5))  # fmt: skip
    finally:
        await rt.close()
    return out


def _bench_crypto() -> list[Result]:
    n = 20000
    value = "13812345678"
    t0 = time.perf_counter()
    for _ in range(n):
        crypto.decrypt(crypto.encrypt(value, context="staff.phone"), context="staff.phone")
    ours = time.perf_counter() - t0
    f = Fernet(Fernet.generate_key())
    t0 = time.perf_counter()
    for _ in range(n):
        f.decrypt(f.encrypt(value.encode()))
    peer = time.perf_counter() - t0
    per = ours / n * 1e6
    return [Result("field encrypt+decrypt (AES-GCM)", f"{per:.1f} us", "Fernet encrypt+decrypt", f"{peer / n * 1e6:.1f} us",
                   "<= 50 us", per <= 50)]  # fmt: skip


def _bench_passwords() -> list[Result]:
    from kefu.staff.passwords import hasher

    h = hasher()  # production parameters: time_cost 3, 64 MiB
    stored = h.hash("Bench-password-1")
    n = 10
    t0 = time.perf_counter()
    for _ in range(n):
        h.verify(stored, "Bench-password-1")
    ours = (time.perf_counter() - t0) / n
    salt = os.urandom(16)
    t0 = time.perf_counter()
    for _ in range(3):
        hashlib.pbkdf2_hmac("sha256", b"Bench-password-1", salt, 600_000)
    peer = (time.perf_counter() - t0) / 3
    return [Result("argon2id verify (t=3, 64 MiB)", f"{ours * 1000:.0f} ms", "PBKDF2-SHA256 600k iterations",
                   f"{peer * 1000:.0f} ms", "50-500 ms", 50 <= ours * 1000 <= 500)]  # fmt: skip


async def _bench_http(settings: Settings) -> list[Result]:
    from kefu.main import create_app
    from kefu.staff import service

    rt = runtime.build(settings)
    try:
        async with rt.db.transaction() as s:
            await service.create_staff(s, staff_no="B0001", name="测试员", roles=["agent"], password="Bench-pass-2026",
                                       must_change_password=False)  # fmt: skip
        app = create_app(rt=rt)
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://bench") as c:
            r = await c.post("/api/v1/auth/token", json={"username": "B0001", "password": "Bench-pass-2026"})
            headers = {"Authorization": f"Bearer {r.json()['access_token']}"}

            async def timed(path: str, hdrs: dict[str, str], n: int = 300) -> list[float]:
                out = []
                for _ in range(n):
                    t0 = time.perf_counter()
                    resp = await c.get(path, headers=hdrs)
                    out.append(time.perf_counter() - t0)
                    assert resp.status_code == 200  # noqa: S101
                return out

            await timed("/healthz", {}, 20)
            me = await timed("/api/v1/staff/me", headers)
            hz = await timed("/healthz", {})
            tracemalloc.start()  # a separate pass: tracing slows every allocation
            await timed("/api/v1/staff/me", headers, 100)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    finally:
        await rt.close()

    def p(xs: list[float], q: float) -> float:
        return statistics.quantiles(xs, n=100)[int(q) - 1] * 1000

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return [
        Result("GET /api/v1/staff/me p50 (in-process)", f"{p(me, 50):.2f} ms", "GET /healthz p50", f"{p(hz, 50):.2f} ms",
               "<= 10 ms", p(me, 50) <= 10),
        Result("GET /api/v1/staff/me p95 (in-process)", f"{p(me, 95):.2f} ms", "GET /healthz p95", f"{p(hz, 95):.2f} ms",
               "<= 20 ms", p(me, 95) <= 20),
        Result("traced memory peak, 100 x /staff/me", f"{peak / 1e6:.1f} MB", "-", "-", "<= 20 MB", peak / 1e6 <= 20),
        Result("process max RSS after benches", f"{rss_mb:.0f} MB", "-", "-", "<= 300 MB", rss_mb <= 300),
    ]  # fmt: skip


def _settings(url: str, var: Path) -> Settings:
    return Settings(
        database_url=url, var_dir=var, secret_key="bench-secret",  # type: ignore[arg-type]
        data_key="1:" + base64.b64encode(os.urandom(32)).decode(),  # type: ignore[arg-type]
        totp_required_roles=[], log_level="WARNING", embedded_worker=False,
    )  # fmt: skip


async def run_all() -> list[Result]:
    from kefu.core import logging as kefu_logging

    kefu_logging.configure("WARNING", json=True)
    tmp = Path(tempfile.mkdtemp(prefix="kefu-bench-"))
    results: list[Result] = []
    print(f"{'measurement':<38} {'kefu':>14} | {'peer':<30} {'peer figure':>14} | target")
    print("-" * 130)
    try:
        sqlite_url = f"sqlite:///{tmp / 'bench.db'}"
        upgrade(sqlite_url)
        s = _settings(sqlite_url, tmp)
        crypto.configure(s.data_key.get_secret_value())  # type: ignore[union-attr]
        for group in (_bench_crypto(), _bench_passwords(), await _bench_storage("SQLite", s)):
            for r in group:
                _print(r)
                results.append(r)
        # request latency before the PostgreSQL runs: their checkpoints would compete for the 2 cores
        http_db = f"sqlite:///{tmp / 'http.db'}"
        upgrade(http_db)
        for r in await _bench_http(_settings(http_db, tmp)):
            _print(r)
            results.append(r)
        pg = os.environ.get("KEFU_BENCH_DATABASE_URL")
        if pg:
            with scratch_pg_database(pg, f"kefu_bench_{os.getpid()}") as pg_url:
                emit(results, await _bench_storage("PostgreSQL", _settings(pg_url, tmp)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return results
