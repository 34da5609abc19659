"""The phone desk's forms without JavaScript: each posts here, runs the same service as the JSON API
(``kefu.routing.desk``, ``kefu.routing.cti``, ``kefu.contacts.wrapup``) and comes back to ``/phone``.
With JavaScript, ``static/phone.js`` sends the same forms to the API instead.

A refused action shows the page again with the message next to the form that caused it (the input
kept); the half-done change is rolled back.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import pydantic
from fastapi import APIRouter, Form, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts import service as contacts
from kefu.contacts.schemas import FollowUpIn
from kefu.contacts.wrapup import submit_wrapup
from kefu.core.auth import DbSession, Principal
from kefu.core.errors import KefuError, NotFound
from kefu.core.ids import RowId
from kefu.core.permissions import Permission
from kefu.customers import service as customers
from kefu.routing import cti
from kefu.routing import desk as routing_desk
from kefu.routing import types as t
from kefu.routing.schemas import CtiEvent
from kefu.web import desk, phone_panels
from kefu.web.pages import PageRoute, page_user, redirect
from kefu.web.phone_pages import (
    DIGITAL_FOCUS,
    RESULTS,
    SIM_PREFIX,
    Agent,
    failure,
    focus_param,
    local_datetime,
    rt_of,
    settings_of,
    show,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Field = Annotated[str, Form()]
Simulator = page_user(Permission.CTI_SIMULATE)
SELF_PRESENCE = ("ready", "not_ready", "logged_out")
ACTIONS = ("accept", "decline", "hold", "resume", "hangup", "cancel-transfer")
KB_LIMIT = 20


async def _attempt(
    request: Request, db: AsyncSession, principal: Principal, work: Callable[[], Awaitable[Any]], *, done: str,
    where: str, form: dict[str, Any] | None = None,
) -> Response:  # fmt: skip
    try:
        await work()
    except KefuError as exc:
        await desk.undo(db, exc)
        return await show(request, db, principal, status_code=exc.status, error=failure(request, exc),
                          error_for=where, form=form or {})  # fmt: skip
    return redirect(f"/phone?done={done}")


def _invalid(field: str, exc: pydantic.ValidationError) -> KefuError:
    first: dict[str, Any] = dict(exc.errors()[0]) if exc.errors() else {}
    name = ".".join(str(x) for x in first.get("loc", ())) or field
    return desk.field_error(name, f"{name}: {first.get('msg', 'not valid')}")


@router.post("/phone/presence")
async def presence_form(
    request: Request, db: DbSession, presence: Field = "", reason: Field = "", principal: Principal = Agent
) -> Response:
    async def work() -> None:
        if presence not in SELF_PRESENCE:
            raise desk.field_error("presence", "Choose ready, not ready or log out.")
        await routing_desk.set_presence(db, rt=rt_of(request), actor=principal, presence=t.Presence(presence),
                                        reason=desk.clean(reason, 40) or None)  # fmt: skip

    return await _attempt(request, db, principal, work, done="presence", where="presence")


@router.post("/phone/contacts/{contact_id}/transfer")
async def transfer_form(
    request: Request, contact_id: RowId, db: DbSession, queue: Field = "", staff_no: Field = "", mode: Field = "blind",
    principal: Principal = Agent,
) -> Response:  # fmt: skip
    form: dict[str, Any] = {"queue": desk.clean(queue, 40), "staff_no": desk.clean(staff_no, 20), "mode": mode}

    async def work() -> None:
        if mode not in ("blind", "consult"):
            raise desk.field_error("mode", "Choose a blind or a consult transfer.")
        await routing_desk.transfer(db, rt=rt_of(request), actor=principal, contact_id=contact_id,
                                    queue=form["queue"] or None, staff_no=form["staff_no"] or None,
                                    mode=t.TransferMode(mode))  # fmt: skip

    return await _attempt(request, db, principal, work, done="transfer", where=f"call-{contact_id}", form=form)


@router.post("/phone/contacts/{contact_id}/callback")
async def callback_form(
    request: Request, contact_id: RowId, db: DbSession, due_at: Field = "", queue: Field = "", to_self: Field = "",
    principal: Principal = Agent,
) -> Response:  # fmt: skip
    form: dict[str, Any] = {
        "due_at": desk.clean(due_at, 40),
        "cb_queue": desk.clean(queue, 40),
        "to_self": bool(to_self),
    }

    async def work() -> None:
        await routing_desk.schedule_callback(
            db, rt=rt_of(request), actor=principal, contact_id=contact_id,
            due_at=local_datetime(request, form["due_at"], "due_at"), queue=form["cb_queue"] or None,
            to_self=bool(to_self),
        )  # fmt: skip

    return await _attempt(request, db, principal, work, done="callback", where=f"call-{contact_id}", form=form)


@router.post("/phone/contacts/{contact_id}/wrapup")
async def wrapup_form(
    request: Request, contact_id: RowId, db: DbSession, category_id: Field = "", summary: Field = "",
    result: Field = "", kb_entries: Field = "", follow_up_details: Field = "", follow_up_due: Field = "",
    then: Field = "", principal: Principal = Agent,
) -> Response:  # fmt: skip
    """Record the wrap-up; with ``then=ready`` the agent is ready again at once."""
    form: dict[str, Any] = {"category_id": desk.as_id(category_id), "summary": (summary or "")[:2000], "result": result,
            "kb_entries": (kb_entries or "")[:5000], "follow_up_details": (follow_up_details or "")[:2000],
            "follow_up_due": desk.clean(follow_up_due, 40)}  # fmt: skip
    where = f"wrapup-{contact_id}"
    try:
        if form["category_id"] is None:
            raise desk.field_error("category_id", "Choose the category of the contact.")
        if result not in RESULTS:
            raise desk.field_error("result", "Choose the result of the contact.")
        follow_up = None
        if result == "follow_up":
            due = local_datetime(request, form["follow_up_due"], "follow_up.due_at")
            try:
                follow_up = FollowUpIn(details=form["follow_up_details"].strip(), due_at=due)
            except pydantic.ValidationError as exc:
                raise _invalid("follow_up", exc) from exc
        kb = [line.strip()[:200] for line in form["kb_entries"].splitlines() if line.strip()][:KB_LIMIT]
        await submit_wrapup(db, actor=principal, contact_id=contact_id, category_id=form["category_id"],
                            summary=form["summary"], result=result, kb_entries=kb, follow_up=follow_up,
                            settings=settings_of(request))  # fmt: skip
    except KefuError as exc:
        await desk.undo(db, exc)
        return await show(request, db, principal, status_code=exc.status, error=failure(request, exc),
                          error_for=where, form=form)  # fmt: skip
    if then != "ready":
        return redirect("/phone?done=wrapup")
    try:
        await routing_desk.set_presence(db, rt=rt_of(request), actor=principal, presence=t.Presence.READY, reason=None)
    except KefuError as exc:  # the wrap-up stays recorded; say why the agent is not ready
        return await show(request, db, principal, done="wrapup", error=failure(request, exc), error_for="presence")
    return redirect("/phone?done=wrapup_ready")


@router.post("/phone/find")
async def find_customer_form(
    request: Request, db: DbSession, contact: Field = "", kind: Field = "phone", q: Field = "", focus: Field = "",
    principal: Principal = page_user(Permission.CONTACT_HANDLE, Permission.CUSTOMER_READ),
) -> Response:  # fmt: skip
    """Find the caller of an unidentified contact (posted: phone and ID numbers never go into addresses);
    the desk comes back with the matches in the customer panel, the query echoed only when not secret."""
    q = desk.clean(q, 40)
    kind = kind if kind in phone_panels.FIND_KINDS else "phone"
    form = {"kind": kind, "q": "" if kind in ("phone", "id_number") else q, "contact": desk.as_id(contact)}
    try:
        if not q:
            raise desk.field_error("q", "Type a phone number, customer number, name (e.g. 张) or ID number to search.")
        found = await phone_panels.find_customers(db, principal, kind=kind, q=q)
    except KefuError as exc:
        await desk.undo(db, exc)
        return await show(request, db, principal, status_code=exc.status, error=failure(request, exc),
                          error_for="customer", find_form=form, focus=focus_param(focus))  # fmt: skip
    return await show(request, db, principal, found=found, find_form=form, focus=focus_param(focus))


@router.post("/phone/contacts/{contact_id}/customer")
async def pick_customer_form(
    request: Request, contact_id: RowId, db: DbSession, customer_id: Field = "",
    principal: Principal = page_user(Permission.CONTACT_HANDLE, Permission.CUSTOMER_READ),
) -> Response:  # fmt: skip
    """The customer the agent found is the contact's customer: the profile is opened (audited as
    ``customer.view``) and the contact record names the customer from now on (``contact.identify``)."""
    chosen = desk.as_id(customer_id)

    async def work() -> str:
        if chosen is None:
            raise desk.field_error("customer_id", "Choose one of the customers found.")
        c = await contacts.identify_customer(db, actor=principal, contact_id=contact_id, customer_id=chosen)
        await customers.open_profile(db, actor=principal, customer_id=chosen)
        return c.channel

    try:
        channel = await work()
    except KefuError as exc:
        await desk.undo(db, exc)
        return await show(request, db, principal, status_code=exc.status, error=failure(request, exc),
                          error_for="customer", focus=contact_id)  # fmt: skip
    return redirect("/phone?done=picked" + (f"&focus={contact_id}" if channel in DIGITAL_FOCUS else ""))


@router.post("/phone/contacts/{contact_id}/{action}")
async def contact_action_form(
    request: Request, contact_id: RowId, action: str, db: DbSession, principal: Principal = Agent
) -> Response:
    """Answer, decline, hold, resume, hang up or cancel a consult transfer."""
    if action not in ACTIONS:
        raise NotFound(f"No phone action {action}.")
    rt = rt_of(request)

    async def work() -> None:
        if action in ("hold", "resume"):
            await routing_desk.hold(db, rt=rt, actor=principal, contact_id=contact_id, on=action == "hold")
        elif action == "hangup":
            await routing_desk.hang_up(db, rt=rt, actor=principal, contact_id=contact_id)
        elif action == "cancel-transfer":
            await routing_desk.cancel_transfer(db, rt=rt, actor=principal, contact_id=contact_id)
        elif action == "accept":
            await routing_desk.accept(db, rt=rt, actor=principal, contact_id=contact_id)
        else:
            await routing_desk.decline(db, rt=rt, actor=principal, contact_id=contact_id)

    return await _attempt(request, db, principal, work, done=action, where=f"call-{contact_id}")


def _simulator_on(request: Request) -> None:
    if not settings_of(request).softphone_simulator:
        raise NotFound("The softphone simulator is turned off here (KEFU_SOFTPHONE_SIMULATOR=false).")


@router.post("/phone/simulate")
async def simulate_form(
    request: Request, db: DbSession, customer_no: Field = "", caller: Field = "", route: Field = "",
    principal: Principal = Simulator,
) -> Response:  # fmt: skip
    """A simulated incoming call through the same path as a PBX's call.new."""
    form: dict[str, Any] = {
        "customer_no": desk.clean(customer_no, 20).upper(),
        "caller": desk.clean(caller, 32),
        "route": route,
    }

    async def work() -> None:
        _simulator_on(request)
        dialled, _, digits = (route or "|").partition("|")
        try:
            event = CtiEvent(event="call.new", call_id=f"{SIM_PREFIX}{uuid.uuid4().hex[:16]}",
                             caller=form["caller"] or None, dialled=dialled or "400-000-0000",
                             ivr=list(digits) if digits else [], customer_hint=form["customer_no"] or None)  # fmt: skip
        except pydantic.ValidationError as exc:
            raise _invalid("caller", exc) from exc
        await cti.handle(db, rt=rt_of(request), actor=principal, event=event)

    return await _attempt(request, db, principal, work, done="simulated", where="simulator", form=form)


@router.post("/phone/simulate/hangup")
async def simulate_hangup_form(
    request: Request, db: DbSession, call_id: Field = "", principal: Principal = Simulator
) -> Response:
    """The simulated caller hangs up (abandons when nobody answered yet)."""

    async def work() -> None:
        _simulator_on(request)
        if not call_id.startswith(SIM_PREFIX) or len(call_id) > 80:
            raise NotFound("Only simulated calls (call ids starting with sim-) can be hung up here.")
        await cti.handle(db, rt=rt_of(request), actor=principal, event=CtiEvent(event="call.hangup", call_id=call_id))

    return await _attempt(request, db, principal, work, done="sim_hangup", where="simulator")
