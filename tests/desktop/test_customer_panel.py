"""The customer panel's open complaints: only the customer's cases still in hand, soonest due first,
with their clock; closed, refused and other customers' cases left out."""

from __future__ import annotations

from kefu.complaints import customer_panel, workflow
from kefu.core import clock
from tests.complaints.case_helpers import call, register
from tests.factories import make_customer, make_staff, principal_of


async def test_open_complaints_of_a_customer_with_their_clock(rt):
    registrar = await make_staff(rt, roles=["agent"])
    handler = await make_staff(rt, roles=["complaint_handler"])
    customer = await make_customer(rt)
    other = await make_customer(rt)
    received = await register(rt, registrar, customer_id=customer.id)
    accepted = await register(rt, registrar, customer_id=customer.id)
    await call(rt, workflow.accept, actor=principal_of(handler), complaint_id=accepted.id)
    await register(rt, registrar, customer_id=other.id)
    async with rt.db.transaction() as s:
        assert await customer_panel.open_complaints(s, customer_ids=[], now=clock.now()) == []
        rows = await customer_panel.open_complaints(s, customer_ids=[customer.id], now=clock.now())
    assert [r["number"] for r in rows] == [accepted.number, received.number]  # the running clock first
    first, second = rows
    assert first["status"] == "accepted"
    assert first["clock_state"] == "running"
    assert first["due_date"] is not None
    assert first["clock_colour"] in ("ok", "warning")
    assert first["days_left"] > 0
    assert second["status"] == "received"
    assert second["clock_state"] == "not_started"
    assert second["accept_due_at"] is not None
    assert "matter" not in first
    assert "complainant_name" not in first
