"""Banking benchmark: transfers per second through the service layer, one client and 8 concurrent.

Each figure is printed beside a peer measured in the same run: a bare UPDATE of two balances in one
transaction (no ledger postings, no idempotency record, no verification check, no journal, no audit
chain) — the cost of doing a transfer properly. Previews (read-back tokens) are made beforehand and
not timed. SQLite always; PostgreSQL too when KEFU_BENCH_DATABASE_URL is set.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from sqlalchemy import text

from bench.foundation import Result, _fmt_rate, on_each_database
from kefu.banking import transfers
from kefu.core import runtime
from kefu.core.config import Settings

CLIENTS = 8
PER_CLIENT = 40
SINGLE = 150
TARGET = 20  # transfers/s: even a large center's peak of transfers made on calls is a few per second


async def _prepare(rt: runtime.Runtime) -> tuple[Any, list[tuple[int, str, int, int]]]:
    from tests.factories import make_account, make_customer, make_staff, make_verification, principal_of

    rt.settings.banking_daily_transfer_limit_fen = 10**15
    rt.settings.banking_risk_threshold_fen = 10**15
    agent = await make_staff(rt, roles=["agent"], staff_no=f"B{uuid.uuid4().hex[:6]}")
    accts = []
    for _ in range(CLIENTS):
        c = await make_customer(rt)
        v = await make_verification(rt, customer_id=c.id, staff_id=agent.id)
        for _ in range(2):
            aid, no, _ = await make_account(rt, customer_id=c.id, balance=10**12)
            accts.append((aid, no, c.id, v))
    return principal_of(agent), accts


async def _requests(rt: runtime.Runtime, principal: Any, accts: list[Any], client: int, n: int) -> list[Any]:
    out = []
    mine = [a for i, a in enumerate(accts) if i // 2 == client % CLIENTS]
    others = [a for a in accts if a not in mine]
    for i in range(n):
        src = mine[i % 2]
        dst = others[i % len(others)]
        req = transfers.TransferRequest(src[2], src[3], src[0], dst[1], 100 + i, f"bench-{uuid.uuid4().hex}")
        async with rt.db.transaction() as s:
            token = (await transfers.preview(s, actor=principal, req=req))["confirmation_token"]
        out.append((req, token))
    return out


async def _run_ours(rt: runtime.Runtime, principal: Any, batch: list[Any]) -> None:
    for req, token in batch:
        async with rt.db.transaction() as s:
            await transfers.execute(s, actor=principal, req=req, confirmation_token=token)


async def _run_peer(rt: runtime.Runtime, n: int, offset: int) -> None:
    for i in range(n):
        a, b = (offset * 2) % 16 + 1, (offset * 2 + 1) % 16 + 1
        async with rt.db.transaction() as s:
            await s.execute(text("UPDATE bench_balances SET balance = balance - :x WHERE id = :a"), {"x": i, "a": a})
            await s.execute(text("UPDATE bench_balances SET balance = balance + :x WHERE id = :b"), {"x": i, "b": b})


async def _bench(label: str, settings: Settings) -> list[Result]:
    rt = runtime.build(settings)
    try:
        principal, accts = await _prepare(rt)
        async with rt.db.transaction() as s:
            await s.execute(text("CREATE TABLE bench_balances (id INTEGER PRIMARY KEY, balance BIGINT NOT NULL)"))
            for i in range(1, 17):
                await s.execute(text("INSERT INTO bench_balances (id, balance) VALUES (:i, 0)"), {"i": i})
        single = await _requests(rt, principal, accts, 0, SINGLE)
        t0 = time.perf_counter()
        await _run_ours(rt, principal, single)
        ours1 = time.perf_counter() - t0
        t0 = time.perf_counter()
        await _run_peer(rt, SINGLE, 0)
        peer1 = time.perf_counter() - t0
        batches = [await _requests(rt, principal, accts, c, PER_CLIENT) for c in range(CLIENTS)]
        t0 = time.perf_counter()
        await asyncio.gather(*[_run_ours(rt, principal, b) for b in batches])
        ours8 = time.perf_counter() - t0
        t0 = time.perf_counter()
        await asyncio.gather(*[_run_peer(rt, PER_CLIENT, c) for c in range(CLIENTS)])
        peer8 = time.perf_counter() - t0
        n8 = CLIENTS * PER_CLIENT
        return [
            Result(f"transfers, 1 client ({label})", _fmt_rate(SINGLE, ours1), "bare UPDATE of 2 balances",
                   _fmt_rate(SINGLE, peer1), f">= {TARGET}/s", SINGLE / ours1 >= TARGET),
            Result(f"transfers, {CLIENTS} clients ({label})", _fmt_rate(n8, ours8), "bare UPDATE of 2 balances",
                   _fmt_rate(n8, peer8), f">= {TARGET}/s", n8 / ours8 >= TARGET),
        ]  # fmt: skip
    finally:
        await rt.close()


async def run_all() -> list[Result]:
    return await on_each_database("bank", _bench)


if __name__ == "__main__":
    asyncio.run(run_all())
