"""Banking fixtures: an agent on a verified call with a customer who holds accounts and cards."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from kefu.core import runtime
from tests.factories import auth_headers, make_account, make_customer, make_staff, make_verification, principal_of


@dataclass
class Bank:
    rt: runtime.Runtime
    agent: Any
    principal: Any
    customer_id: int
    verification_id: int
    savings_id: int
    savings_no: str
    card_id: int
    credit_id: int
    credit_no: str
    credit_card_id: int
    payee_customer_id: int
    payee_id: int
    payee_no: str
    headers: dict[str, str] = field(default_factory=dict)


async def make_bank(rt: runtime.Runtime) -> Bank:
    agent = await make_staff(rt, roles=["agent"])
    customer = await make_customer(rt)
    other = await make_customer(rt)
    verification_id = await make_verification(rt, customer_id=customer.id, staff_id=agent.id, level=2)
    savings_id, savings_no, card_id = await make_account(rt, customer_id=customer.id, balance=1_000_000, card="debit")
    credit_id, credit_no, credit_card_id = await make_account(
        rt, customer_id=customer.id, type="credit_card", overdraft_limit=2_000_000, card="credit"
    )
    payee_id, payee_no, _ = await make_account(rt, customer_id=other.id, balance=50_000)
    assert card_id is not None
    assert credit_card_id is not None
    return Bank(
        rt=rt, agent=agent, principal=principal_of(agent), customer_id=customer.id, verification_id=verification_id,
        savings_id=savings_id, savings_no=savings_no, card_id=card_id, credit_id=credit_id, credit_no=credit_no,
        credit_card_id=credit_card_id, payee_customer_id=other.id, payee_id=payee_id, payee_no=payee_no,
    )  # fmt: skip


@pytest.fixture
async def bank(rt: runtime.Runtime, client: Any) -> Bank:
    b = await make_bank(rt)
    b.headers = await auth_headers(client, b.agent)
    return b
