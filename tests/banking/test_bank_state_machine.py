"""A hypothesis state machine of transfers, retries and reused keys against a model of the balances.

SQLite only (the generated sequences are the same on both backends), bounded to keep the suite quick.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import select

from kefu.banking import ledger, transfers
from kefu.banking.models import Account
from kefu.core import runtime
from kefu.core.config import Settings
from kefu.core.errors import Conflict
from tests.factories import make_account, make_customer, make_staff, make_verification, principal_of

SPECS = [("savings", 0, 30_000), ("current", 10_000, 5_000), ("credit_card", 20_000, 0), ("savings", 0, 1_000)]


@pytest.fixture
def db_backend() -> str:
    return "sqlite"


class BankMachine(RuleBasedStateMachine):
    loop: asyncio.AbstractEventLoop
    rt: runtime.Runtime
    principal: Any

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    @initialize()
    def open_accounts(self) -> None:
        self.accounts: list[dict[str, Any]] = []
        self.done: dict[str, tuple[transfers.TransferRequest, dict[str, Any]]] = {}
        self.counter = 0
        customers = [self.run(make_customer(self.rt)) for _ in range(2)]
        verifications = [self.run(make_verification(self.rt, customer_id=c.id, staff_id=self.principal.staff_id))
                         for c in customers]  # fmt: skip
        for i, (kind, limit, balance) in enumerate(SPECS):
            c = i % 2
            aid, no, _ = self.run(make_account(self.rt, customer_id=customers[c].id, type=kind,
                                               overdraft_limit=limit, balance=balance))  # fmt: skip
            self.accounts.append({"id": aid, "no": no, "customer_id": customers[c].id, "verification_id": verifications[c],
                                  "limit": limit, "balance": balance})  # fmt: skip

    async def _execute(self, req: transfers.TransferRequest) -> dict[str, Any]:
        async with self.rt.db.transaction() as s:
            token = (await transfers.preview(s, actor=self.principal, req=req))["confirmation_token"]
        async with self.rt.db.transaction() as s:
            result, _ = await transfers.execute(s, actor=self.principal, req=req, confirmation_token=token)
            return result

    @rule(src=st.integers(0, 3), dst=st.integers(0, 3), amount=st.integers(1, 40_000))
    def transfer(self, src: int, dst: int, amount: int) -> None:
        if src == dst:
            return
        a, b = self.accounts[src], self.accounts[dst]
        self.counter += 1
        key = f"sm-{id(self)}-{self.counter}"
        req = transfers.TransferRequest(a["customer_id"], a["verification_id"], a["id"], b["no"], amount, key)
        try:
            result = self.run(self._execute(req))
        except Conflict as exc:
            refused: Conflict | None = exc
        else:
            refused = None
        if refused is not None:
            assert refused.code == "insufficient_funds", refused.code
            assert a["balance"] - amount < -a["limit"], "refused although the model says it fits"
            return
        assert a["balance"] - amount >= -a["limit"], "accepted although the model says it does not fit"
        a["balance"] -= amount
        b["balance"] += amount
        self.done[key] = (req, result)

    @precondition(lambda self: bool(self.done))
    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.done)))
        req, first = self.done[key]
        assert self.run(self._execute(req)) == first

    @precondition(lambda self: bool(self.done))
    @rule(data=st.data())
    def reuse_key_for_other_amount(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.done)))
        req, _ = self.done[key]
        other = transfers.TransferRequest(req.customer_id, req.verification_id, req.from_account_id, req.to_account_no,
                                          req.amount + 1, key)  # fmt: skip
        with pytest.raises(Conflict) as info:
            self.run(self._execute(other))
        assert info.value.code == "idempotency_key_reused"

    @invariant()
    def balances_match_the_model_and_the_ledger(self) -> None:
        async def check() -> None:
            async with self.rt.db.transaction() as s:
                assert (await ledger.verify(s)).ok
                rows = dict((await s.execute(select(Account.id, Account.balance))).all())
            for a in self.accounts:
                assert rows[a["id"]] == a["balance"], (a, rows[a["id"]])
                assert rows[a["id"]] >= -a["limit"]

        if getattr(self, "accounts", None):
            self.run(check())


def test_bank_state_machine(settings: Settings) -> None:
    settings.banking_daily_transfer_limit_fen = 10**12
    settings.banking_risk_threshold_fen = 10**12
    loop = asyncio.new_event_loop()
    rt = runtime.build(settings)
    try:
        agent = loop.run_until_complete(make_staff(rt, roles=["agent"]))
        BankMachine.loop, BankMachine.rt, BankMachine.principal = loop, rt, principal_of(agent)
        BankMachine.TestCase.settings = hsettings(
            max_examples=12, stateful_step_count=12, deadline=None, derandomize=True, database=None,
            suppress_health_check=list(HealthCheck),
        )  # fmt: skip
        BankMachine.TestCase().runTest()
    finally:
        loop.run_until_complete(rt.close())
        loop.close()
        runtime.install(None)
