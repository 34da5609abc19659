"""Fixtures of the agent-desk page tests: an agent, a caller with consents, a PIN, accounts and cards.

Every person, phone, ID and account number here is generated; none is real.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from httpx import AsyncClient, Response

from kefu.core import runtime
from kefu.customers import consents, credentials
from tests.customers.helpers import WORDS, sms_bodies
from tests.factories import make_account, make_customer, make_staff, principal_of
from tests.web.helpers import csrf_of, web_login

PHONE = "13700246810"
PIN = "582947"


@dataclass
class Desk:
    agent: Any
    customer: Any
    id_number: str
    savings_id: int
    savings_no: str
    card_id: int
    credit_id: int
    credit_card_id: int
    payee_no: str
    token: str = ""


async def make_desk(rt: runtime.Runtime, client: AsyncClient, *, roles: list[str] | None = None) -> Desk:
    agent = await make_staff(rt, roles=roles or ["agent"])
    customer = await make_customer(rt, phone=PHONE, name="欧阳明华")
    other = await make_customer(rt)
    async with rt.db.transaction() as s:
        await consents.grant(s, actor=principal_of(agent), customer_id=customer.id, field_group="contact",
                             channel="phone", words_shown=WORDS)  # fmt: skip
        await credentials.set_pin(s, customer_id=customer.id, pin=PIN)
        await credentials.set_questions(s, customer_id=customer.id,
                                        questions=[("您小学的校名？", "实验小学"), ("您最喜欢的城市？", "杭州")])  # fmt: skip
    savings_id, savings_no, card_id = await make_account(rt, customer_id=customer.id, balance=2_000_000, card="debit")
    credit_id, _, credit_card_id = await make_account(
        rt, customer_id=customer.id, type="credit_card", overdraft_limit=1_000_000, card="credit"
    )
    _, payee_no, _ = await make_account(rt, customer_id=other.id, balance=10_000)
    assert card_id is not None
    assert credit_card_id is not None
    d = Desk(agent=agent, customer=customer, id_number=customer.id_number, savings_id=savings_id,
             savings_no=savings_no, card_id=card_id, credit_id=credit_id, credit_card_id=credit_card_id,
             payee_no=payee_no)  # fmt: skip
    d.token = await web_login(client, agent)
    return d


def url(d: Desk, tail: str = "") -> str:
    return f"/customers/{d.customer.id}{tail}"


async def verify_by_pin(client: AsyncClient, d: Desk) -> int:
    """Start a verification on the page and pass it with the PIN; returns the verification id."""
    r = await client.post(url(d, "/verification"), data={"csrf_token": d.token, "contact_ref": "call-7"})
    assert r.status_code == 303, r.text
    page = await client.get(url(d))
    vid = verification_id_of(page.text)
    r = await client.post(url(d, "/verification/pin"),
                          data={"csrf_token": d.token, "verification_id": str(vid), "pin": PIN})  # fmt: skip
    assert r.status_code == 200, r.text
    assert "核实通过，当前级别 L2" in r.text
    return vid


def verification_id_of(html: str) -> int:
    m = re.search(r'name="verification_id" value="(\d+)"', html)
    assert m, "no open verification on the page"
    return int(m.group(1))


def hidden(html: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m, f"no hidden field {name}"
    return m.group(1)


async def last_code(rt: runtime.Runtime) -> str:
    m = re.search(r"\d{6}", (await sms_bodies(rt))[-1])
    assert m
    return m.group(0)


async def post(client: AsyncClient, d: Desk, tail: str, **data: Any) -> Response:
    return await client.post(url(d, tail), data={"csrf_token": d.token, **data})


__all__ = ["csrf_of"]
