"""THE BANK TEST: many concurrent clients make random transfers (with retries and reused idempotency
keys) through the service layer, each in its own transaction, and through the HTTP API; afterwards
the money adds up, no account is below its floor, every acknowledged transfer exists exactly once,
and the ledger balances."""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass
from typing import Any

from kefu.banking import transfers
from kefu.core.errors import Conflict
from tests.banking import invariants
from tests.factories import auth_headers, make_account, make_customer, make_staff, make_verification, principal_of

SERVICE_CLIENTS, SERVICE_TRANSFERS = 8, 40
HTTP_CLIENTS, HTTP_TRANSFERS = 2, 15


@dataclass
class Acct:
    id: int
    no: str
    customer_id: int
    verification_id: int


async def _setup(rt: Any) -> tuple[Any, list[Acct]]:
    rt.settings.banking_daily_transfer_limit_fen = 10**12
    rt.settings.banking_risk_threshold_fen = 10**12
    agent = await make_staff(rt, roles=["agent"])
    accts: list[Acct] = []
    for i in range(6):
        c = await make_customer(rt)
        v = await make_verification(rt, customer_id=c.id, staff_id=agent.id)
        specs = [("savings", 0), ("current", 20_000)] if i % 2 == 0 else [("savings", 0), ("credit_card", 50_000)]
        for kind, limit in specs:
            aid, no, _ = await make_account(rt, customer_id=c.id, type=kind, overdraft_limit=limit,
                                            balance=0 if kind == "credit_card" else 60_000)  # fmt: skip
            accts.append(Acct(aid, no, c.id, v))
    return agent, accts


def _pick(rng: random.Random, accts: list[Acct]) -> tuple[Acct, Acct, int]:
    src, dst = rng.sample(accts, 2)
    return src, dst, rng.randint(1, 40_000)


async def _service_client(rt: Any, principal: Any, accts: list[Acct], seed: int, acked: dict, stats: dict) -> None:
    rng = random.Random(seed)
    used: list[tuple[transfers.TransferRequest, dict[str, Any]]] = []
    for _ in range(SERVICE_TRANSFERS):
        src, dst, amount = _pick(rng, accts)
        roll = rng.random()
        if roll < 0.1 and used:  # the same key for other details: must be refused
            old, _ = rng.choice(used)
            req = transfers.TransferRequest(old.customer_id, old.verification_id, old.from_account_id, old.to_account_no,
                                            old.amount + 1, old.idempotency_key)  # fmt: skip
        else:
            req = transfers.TransferRequest(src.customer_id, src.verification_id, src.id, dst.no, amount,
                                            f"svc-{seed}-{uuid.uuid4().hex}")  # fmt: skip
        try:
            async with rt.db.transaction() as s:
                token = (await transfers.preview(s, actor=principal, req=req))["confirmation_token"]
            attempts = 2 if roll > 0.8 else 1  # a client that retries (the first answer may be "lost")
            results = await asyncio.gather(
                *[_run(rt, principal, req, token) for _ in range(attempts)], return_exceptions=True
            )
        except Conflict as exc:
            stats[exc.code] = stats.get(exc.code, 0) + 1
            continue
        answers = [r for r in results if isinstance(r, dict)]
        for r in results:
            if isinstance(r, Conflict):
                stats[r.code] = stats.get(r.code, 0) + 1
            elif isinstance(r, BaseException):
                raise r
        if answers:
            assert all(a == answers[0] for a in answers), "a retry got a different answer"
            acked[(req.customer_id, req.idempotency_key)] = answers[0]
            used.append((req, answers[0]))
            stats["ok"] = stats.get("ok", 0) + 1


async def _run(rt: Any, principal: Any, req: transfers.TransferRequest, token: str) -> dict[str, Any]:
    async with rt.db.transaction() as s:
        result, _ = await transfers.execute(s, actor=principal, req=req, confirmation_token=token)
        return result


async def _http_client(client: Any, headers: dict, accts: list[Acct], seed: int, acked: dict, stats: dict) -> None:
    rng = random.Random(seed)
    for _ in range(HTTP_TRANSFERS):
        src, dst, amount = _pick(rng, accts)
        body = {"customer_id": src.customer_id, "verification_id": src.verification_id, "from_account_id": src.id,
                "to_account_no": dst.no, "amount": amount, "idempotency_key": f"http-{seed}-{uuid.uuid4().hex}"}  # fmt: skip
        p = await client.post("/api/v1/banking/transfers/preview", headers=headers, json=body)
        assert p.status_code == 200, p.text
        full = {**body, "confirmation_token": p.json()["confirmation_token"]}
        answers = []
        for _ in range(2 if rng.random() < 0.3 else 1):
            r = await client.post("/api/v1/banking/transfers", headers=headers, json=full)
            assert r.status_code in (200, 201, 409), r.text
            if r.status_code == 409:
                stats[r.json()["code"]] = stats.get(r.json()["code"], 0) + 1
            else:
                answers.append(r.json())
        if answers:
            assert all(a == answers[0] for a in answers)
            acked[(src.customer_id, body["idempotency_key"])] = answers[0]


async def test_the_bank(rt, client):
    agent, accts = await _setup(rt)
    principal = principal_of(agent)
    headers = await auth_headers(client, agent)
    async with rt.db.transaction() as s:
        total_before = await invariants.customer_total(s)
    acked: dict[tuple[int, str], dict[str, Any]] = {}
    stats: dict[str, int] = {}
    await asyncio.gather(
        *[_service_client(rt, principal, accts, seed, acked, stats) for seed in range(SERVICE_CLIENTS)],
        *[_http_client(client, headers, accts, 100 + seed, acked, stats) for seed in range(HTTP_CLIENTS)],
    )
    assert stats.get("ok", 0) > SERVICE_CLIENTS * SERVICE_TRANSFERS // 3, stats
    assert stats.get("idempotency_key_reused", 0) > 0, stats
    async with rt.db.transaction() as s:
        count = await invariants.check(s, total_before=total_before, acknowledged=acked)
    assert count == len(acked), "a transfer exists that no client saw acknowledged"
