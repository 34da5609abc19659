"""Intake (R5.1, R5.2) and immediate escalation of major complaints (R5.6). Generated data only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kefu.complaints import clocking, intake, repository, workflow
from kefu.complaints.models import Complaint
from kefu.core.errors import NotFound, ValidationFailed
from tests.complaints.case_helpers import audit_actions, call, events_of, fresh_phone, intake_data, register
from tests.complaints.conftest import T0, People
from tests.contacts.conftest import handled
from tests.factories import Recorder, make_customer, make_staff, principal_of

pytestmark = pytest.mark.usefixtures("frozen")


def _field(exc: pytest.ExceptionInfo[ValidationFailed]) -> str:
    return str(exc.value.extra["errors"][0]["field"])


async def test_register_from_staff_sets_number_accept_due_and_audit(rt: Any, people: People) -> None:
    """R5.2: time, complainant, matter and requested resolution recorded; internal rule: accept within
    complaint_accept_days (5 working days) — Monday 2026-11-23 → end of Monday 2026-11-30 local time."""
    c = await register(rt, people.agent)
    assert c.number == f"TS20261123-{c.id:06d}"
    assert c.status == "received"
    assert c.clock_state == "not_started"
    assert c.received_at == T0
    assert c.created_by == people.agent.id
    assert c.handler_id is None
    assert c.accept_due_at == dt.datetime(2026, 11, 30, 16, 0, tzinfo=dt.UTC)
    assert c.complainant_key is not None
    assert not c.major
    assert await audit_actions(rt, c.id) == ["complaint.register"]
    assert [e.summary for e in await events_of(rt, c.id)] == ["registered via phone"]


async def test_register_from_contact_takes_customer_and_name(rt: Any, people: People) -> None:
    """R5.1: a complaint taken on a call is linked to the contact and its customer; the name comes from
    the customer record; a contact the agent cannot see is refused."""
    customer = await make_customer(rt, name="测试客户乙")
    contact = await handled(rt, people.agent.id, customer_id=customer.id, arrived=T0 - dt.timedelta(minutes=5))
    c = await register(rt, people.agent, contact_id=contact.id, complainant_name=None, complainant_phone=None)
    assert c.customer_id == customer.id
    assert c.contact_id == contact.id
    assert c.complainant_name == "测试客户乙"
    assert c.complainant_phone  # the customer's primary phone, for the notices
    other = await make_staff(rt, roles=["agent"])
    with pytest.raises(ValidationFailed) as exc:
        await register(rt, other, contact_id=contact.id)
    assert _field(exc) == "contact_id"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"complainant_phone": None}, "complainant_phone"),
        ({"complainant_name": None}, "complainant_name"),
        ({"category": "service"}, "category"),
        ({"business_line": "casino"}, "business_line"),
        ({"severity": "urgent"}, "severity"),
        ({"matter": "短"}, "matter"),
        ({"matter": "含控制字符\x00的事项"}, "matter"),
        ({"complainant_phone": "12ab"}, "complainant_phone"),
        ({"complainant_email": "not-an-address", "complainant_phone": None}, "complainant_email"),
        ({"escalation_risk": True, "escalation_reasons": []}, "escalation_reasons"),
        ({"escalation_risk": True, "escalation_reasons": ["angry"]}, "escalation_reasons"),
        ({"subject_staff_no": "NOBODY1"}, "subject_staff_no"),
        ({"channel": "pigeon"}, "channel"),
        ({"received_at": T0 + dt.timedelta(days=1)}, "received_at"),
    ],
)
async def test_register_validation_names_the_field(
    rt: Any, people: People, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        await register(rt, people.agent, **overrides)
    assert _field(exc) == field
    assert exc.value.detail  # a message a person can act on


async def test_letter_backdated_and_email_only(rt: Any, people: People) -> None:
    """R5.1: a letter entered by staff keeps the day it arrived; an e-mail address alone is enough."""
    arrived = T0 - dt.timedelta(days=3)
    c = await register(rt, people.agent, channel="letter", received_at=arrived, complainant_phone=None,
                       complainant_email="ceshi@example.com")  # fmt: skip
    assert c.received_at == arrived
    assert str(c.number).startswith("TS20261120-")
    assert c.complainant_email == "ceshi@example.com"


async def test_public_form_registers_without_staff(rt: Any, people: People) -> None:
    """R5.1: the online form is a published channel; no customer record can be linked from it."""
    data = intake_data(channel="form", customer_id=None)
    c = await call(rt, intake.register_public, data=data, consent=True)
    assert c.channel == "form"
    assert c.created_by is None
    with pytest.raises(ValidationFailed) as exc:
        await call(rt, intake.register_public, data=intake_data(), consent=False)
    assert _field(exc) == "consent"


@pytest.mark.parametrize(
    ("flags", "reasons"),
    [
        ({"severity": "major"}, ["severity"]),
        ({"regulator_involved": True}, ["regulator"]),
        ({"media_involved": True}, ["media"]),
        (
            {"escalation_risk": True, "escalation_reasons": ["threatens_media"]},
            ["escalation_risk", "risk:threatens_media"],
        ),
    ],
)
async def test_major_goes_to_supervisors_at_once(
    rt: Any, people: People, flags: dict[str, Any], reasons: list[str]
) -> None:
    """R5.6: major complaints (severity, regulator, media) and the 越级投诉 risk go to a supervisor at once."""
    rec = Recorder("complaint.escalated")
    try:
        c = await register(rt, people.agent, **flags)
    finally:
        rec.close()
    assert c.escalated_at == T0
    assert c.major is ("escalation_risk" not in reasons)
    [payload] = rec.payloads
    assert payload["complaint_id"] == c.id
    assert payload["number"] == c.number
    assert payload["owner_id"] is None
    assert sorted(payload["team_lead_ids"]) == sorted([people.supervisor.id, people.supervisor2.id])
    assert payload["reasons"] == reasons
    assert "complaint.escalate" in await audit_actions(rt, c.id)


async def test_repeat_complainant_is_major(rt: Any, people: People) -> None:
    """R5.6: a repeat complainant (complaint_repeat_count cases within complaint_repeat_window_days, this one
    included) makes the case major and escalates it."""
    phone = fresh_phone()
    first = await register(rt, people.agent, complainant_phone=phone)
    assert not first.major
    assert not first.repeat_complainant
    rec = Recorder("complaint.escalated")
    try:
        second = await register(rt, people.agent, complainant_phone=f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}")
    finally:
        rec.close()
    assert second.repeat_complainant
    assert second.major
    assert [p["reasons"] for p in rec.payloads] == [["repeat"]]


async def test_escalation_risk_escalates_once_per_reason_set(rt: Any, people: People) -> None:
    """R5.6 (越级投诉): setting the risk with reasons escalates once; the same reasons again do not; a new
    reason escalates again."""
    c = await register(rt, people.agent)
    sup = principal_of(people.supervisor)
    rec = Recorder("complaint.escalated")
    try:
        await call(rt, workflow.update_details, actor=sup, complaint_id=c.id, escalation_risk=True,
                   escalation_reasons=["threatens_regulator"])  # fmt: skip
        await call(
            rt, workflow.update_details, actor=sup, complaint_id=c.id, escalation_reasons=["threatens_regulator"]
        )
        await call(rt, workflow.update_details, actor=sup, complaint_id=c.id,
                   escalation_reasons=["threatens_regulator", "group_complaint"])  # fmt: skip
    finally:
        rec.close()
    assert len(rec.payloads) == 2
    assert "risk:group_complaint" in rec.payloads[1]["reasons"]
    assert len(await events_of(rt, c.id, "escalated")) == 2


async def test_escalate_twice_is_a_no_op(rt: Any, people: People) -> None:
    c = await register(rt, people.agent, media_involved=True)
    async with rt.db.transaction() as s:
        row = await s.get(Complaint, c.id)
        assert row is not None
        assert await clocking.escalate(s, complaint=row, reasons=["media"]) is False
        assert await clocking.escalate(s, complaint=row, reasons=[]) is False


async def test_agent_reads_only_own_registrations(rt: Any, people: People) -> None:
    """Scope: agents read the complaints they registered; complaint handlers read all."""
    mine = await register(rt, people.agent)
    other_agent = await make_staff(rt, roles=["agent"])
    theirs = await register(rt, other_agent)
    async with rt.db.transaction() as s:
        rows, total = await repository.list_cases(s, actor=principal_of(people.agent), scope="all")
        assert [r.id for r in rows] == [mine.id]
        assert total == 1
        rows, _ = await repository.list_cases(s, actor=principal_of(people.agent), scope="registered")
        assert [r.id for r in rows] == [mine.id]
        with pytest.raises(NotFound):
            await repository.get_visible(s, actor=principal_of(people.agent), complaint_id=theirs.id)
        rows, total = await repository.list_cases(s, actor=principal_of(people.handler), scope="unassigned")
        assert {r.id for r in rows} == {mine.id, theirs.id}


async def test_list_search_by_number_and_phone(rt: Any, people: People) -> None:
    phone = fresh_phone()
    c = await register(rt, people.agent, complainant_phone=phone)
    await register(rt, people.agent)
    async with rt.db.transaction() as s:
        actor = principal_of(people.handler)
        rows, _ = await repository.list_cases(s, actor=actor, scope="all", q=str(c.number)[-6:])
        assert [r.id for r in rows] == [c.id]
        rows, _ = await repository.list_cases(s, actor=actor, scope="all", q=phone)
        assert [r.id for r in rows] == [c.id]
        with pytest.raises(ValidationFailed):
            await repository.list_cases(s, actor=actor, scope="everything")
