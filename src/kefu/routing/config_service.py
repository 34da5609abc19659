"""Routing configuration rules (R1.8): queues, agents' skills and proficiency, IVR routes, and the
engine's view of them (``engine_config``).

Keyword-only functions; they never commit (convention 1) and audit every change (convention 3). Each
change queues one after-commit reload of the live engine (``kefu.routing.service.reconfigure``).
Bad input raises ValidationFailed naming the field (``errors=[{"field": ..., "message": ...}]``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import audit, clock
from kefu.core.auth import Principal
from kefu.core.db import after_commit
from kefu.core.errors import Conflict, NotFound, ValidationFailed
from kefu.core.permissions import Role
from kefu.routing import config_repository as repo
from kefu.routing.models import SKILLS, IvrRoute, RoutingQueue
from kefu.routing.types import AgentSpec, QueueSpec

CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
NUMBER = re.compile(r"^\+?[0-9]{3,20}$")
CHOICE = re.compile(r"^[0-9*#]{1,8}$")
ANY_NUMBER = "*"
#: staff roles that take contacts (hold skills)
AGENT_ROLES = frozenset({Role.AGENT.value, Role.TEAM_LEAD.value})
QUEUE_FIELDS = ("name", "skills", "min_proficiency", "base_priority", "acceleration", "widen_after_s",
                "overflow_after_s", "overflow_queue", "is_department")  # fmt: skip
MAX_SECONDS = 86_400
MAX_PRIORITY = 1_000_000.0
MAX_ACCELERATION = 1_000.0


def _invalid(errors: list[dict[str, str]]) -> ValidationFailed:
    return ValidationFailed(" ".join(e["message"] for e in errors), extra={"errors": errors})


def _err(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}


async def _reconfigure_engine() -> None:
    """After commit: reload queues and skills into the live engine (absent while the engine is not built)."""
    try:
        from kefu.routing import service as routing_service
    except ModuleNotFoundError as exc:
        if exc.name != "kefu.routing.service":
            raise
        return
    await routing_service.reconfigure()


def _changed(session: AsyncSession) -> None:
    if _reconfigure_engine not in session.info.get("after_commit", []):
        after_commit(session, _reconfigure_engine)


async def _audit(session: AsyncSession, actor: Principal | None, action: str, object_type: str, object_id: object,
                 before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> None:  # fmt: skip
    await audit.record(
        session, action=action, object_type=object_type, object_id=object_id, before=before, after=after,
        actor_id=actor.staff_id if actor else None, actor=actor.label if actor else None,
    )  # fmt: skip
    _changed(session)


# ---- queues --------------------------------------------------------------------------------------


def queue_skills(q: RoutingQueue) -> list[str]:
    return list(json.loads(q.skills or "[]"))


def queue_view(q: RoutingQueue) -> dict[str, Any]:
    return {
        "id": q.id, "code": q.code, "name": q.name, "skills": queue_skills(q), "min_proficiency": q.min_proficiency,
        "base_priority": q.base_priority, "acceleration": q.acceleration, "widen_after_s": q.widen_after_s,
        "overflow_after_s": q.overflow_after_s, "overflow_queue": q.overflow_queue, "is_department": q.is_department,
        "active": q.active, "created_at": q.created_at, "updated_at": q.updated_at,
    }  # fmt: skip


def _audit_view(q: RoutingQueue) -> dict[str, Any]:
    return {k: v for k, v in queue_view(q).items() if k not in ("id", "created_at", "updated_at")}


async def get_queue(session: AsyncSession, code: str) -> RoutingQueue:
    q = await repo.get_queue(session, code)
    if q is None:
        raise NotFound(f"No routing queue {code!r}. GET /api/v1/routing/queues lists them.")
    return q


async def list_queues(session: AsyncSession, *, include_inactive: bool = False) -> list[RoutingQueue]:
    return list(await repo.list_queues(session, include_inactive=include_inactive))


def _number(errors: list[dict[str, str]], field: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        errors.append(_err(field, f"{field} must be a number."))
        return low
    if not low <= value <= high:
        errors.append(_err(field, f"{field} must be between {low:g} and {high:g}."))
    return float(value)


def _whole(errors: list[dict[str, str]], field: str, value: Any, low: int, high: int, unit: str = "") -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.append(_err(field, f"{field} must be a whole number from {low} to {high}{unit}."))
        return None
    return value


async def _check_queue(session: AsyncSession, code: str, v: dict[str, Any]) -> dict[str, Any]:
    """Every rule of a queue's configuration; returns the normalised values or raises ValidationFailed."""
    errors: list[dict[str, str]] = []
    name = v["name"].strip() if isinstance(v["name"], str) else ""
    if not 1 <= len(name) <= 80 or CONTROL.search(name):
        errors.append(_err("name", "name must be 1 to 80 printable characters."))
    skills = v["skills"]
    if not isinstance(skills, list | tuple) or not skills:
        errors.append(_err("skills", f"Give at least one skill (one of {', '.join(SKILLS)})."))
        skills = []
    unknown = [s for s in skills if s not in SKILLS]
    if unknown:
        errors.append(_err("skills", f"Unknown skill {unknown[0]!r}; skills are: {', '.join(SKILLS)}."))
    skills = [s for s in SKILLS if s in skills]
    min_prof = _whole(errors, "min_proficiency", v["min_proficiency"], 1, 10)
    if v["min_proficiency"] is None:
        errors.append(_err("min_proficiency", "min_proficiency must be a whole number from 1 to 10."))
    base = _number(errors, "base_priority", v["base_priority"], -MAX_PRIORITY, MAX_PRIORITY)
    accel = _number(errors, "acceleration", v["acceleration"], 0.0, MAX_ACCELERATION)
    widen = _whole(errors, "widen_after_s", v["widen_after_s"], 1, MAX_SECONDS, " seconds")
    overflow_s = _whole(errors, "overflow_after_s", v["overflow_after_s"], 1, MAX_SECONDS, " seconds")
    target = v["overflow_queue"] or None
    if target is not None:
        if target == code:
            errors.append(_err("overflow_queue", "A queue cannot overflow to itself."))
        else:
            t = await repo.get_queue(session, target) if isinstance(target, str) else None
            if t is None:
                errors.append(_err("overflow_queue", f"overflow_queue {target!r} does not exist."))
            elif not t.active:
                errors.append(_err("overflow_queue", f"overflow_queue {target!r} is not active; reactivate it first."))
            else:
                chain = await repo.overflow_map(session)
                chain[code] = target
                seen: list[str] = [code]
                cur: str | None = target
                while cur is not None and cur not in seen:
                    seen.append(cur)
                    cur = chain.get(cur)
                if cur == code:
                    path = " → ".join([*seen, code])
                    errors.append(_err("overflow_queue", f"Overflow would go round in a circle ({path})."))
        if v["overflow_after_s"] is None:
            errors.append(_err("overflow_after_s", "Give overflow_after_s (seconds) with an overflow_queue."))
    elif v["overflow_after_s"] is not None:
        errors.append(_err("overflow_queue", "overflow_after_s is set without an overflow_queue: give one, "
                                             "or clear overflow_after_s."))  # fmt: skip
    if widen is not None and overflow_s is not None and widen >= overflow_s:
        errors.append(_err("widen_after_s", "widen_after_s must be less than overflow_after_s (widen first, "
                                            "then overflow)."))  # fmt: skip
    if not isinstance(v["is_department"], bool):
        errors.append(_err("is_department", "is_department must be true or false."))
    elif v["is_department"] and await repo.ivr_routes_to(session, code):
        errors.append(_err("is_department", "IVR routes send callers to this queue; a department takes transfers "
                                            "only. Delete those IVR routes first."))  # fmt: skip
    if errors:
        raise _invalid(errors)
    return {"name": name, "skills": json.dumps(skills), "min_proficiency": min_prof, "base_priority": base,
            "acceleration": accel, "widen_after_s": widen, "overflow_after_s": overflow_s, "overflow_queue": target,
            "is_department": v["is_department"]}  # fmt: skip


async def create_queue(
    session: AsyncSession, *, actor: Principal | None, code: str, name: str, skills: list[str],
    min_proficiency: int = 1, base_priority: float = 0, acceleration: float = 1.0, widen_after_s: int | None = None,
    overflow_after_s: int | None = None, overflow_queue: str | None = None, is_department: bool = False,
) -> RoutingQueue:  # fmt: skip
    if not isinstance(code, str) or not CODE.match(code):
        raise _invalid([_err("code", "code must be 2 to 40 characters: a lower-case letter, then lower-case "
                                     "letters, digits or _ (e.g. credit_cards).")])  # fmt: skip
    if await repo.get_queue(session, code) is not None:
        raise Conflict(f"Queue code {code!r} is already taken (an inactive queue can be reactivated with PATCH).",
                       extra={"errors": [_err("code", "taken")]})  # fmt: skip
    values = await _check_queue(session, code, {
        "name": name, "skills": skills, "min_proficiency": min_proficiency, "base_priority": base_priority,
        "acceleration": acceleration, "widen_after_s": widen_after_s, "overflow_after_s": overflow_after_s,
        "overflow_queue": overflow_queue, "is_department": is_department,
    })  # fmt: skip
    now = clock.now()
    q = RoutingQueue(code=code, active=True, created_at=now, updated_at=now, **values)
    session.add(q)
    await session.flush()
    await _audit(session, actor, "routing.queue.create", "routing_queue", code, after=_audit_view(q))
    return q


async def update_queue(session: AsyncSession, *, actor: Principal | None, code: str, **changes: Any) -> RoutingQueue:
    """Change some of a queue's settings (``active=True`` reactivates, ``active=False`` deactivates)."""
    unknown = sorted(set(changes) - set(QUEUE_FIELDS) - {"active"})
    if unknown:
        raise _invalid([_err(unknown[0], f"{unknown[0]} cannot be changed; fields are: {', '.join(QUEUE_FIELDS)}.")])
    q = await get_queue(session, code)
    active = changes.pop("active", None)
    if active is False:
        q = await deactivate_queue(session, actor=actor, code=code)
        if not changes:
            return q
    before = _audit_view(q)
    current = {f: getattr(q, f) for f in QUEUE_FIELDS} | {"skills": queue_skills(q)}
    values = await _check_queue(session, code, current | changes)
    for field, value in values.items():
        setattr(q, field, value)
    if active is True:
        q.active = True
    after = _audit_view(q)
    if after != before:
        q.updated_at = clock.now()
        await session.flush()
        await _audit(session, actor, "routing.queue.update", "routing_queue", code, before=before, after=after)
    return q


async def deactivate_queue(session: AsyncSession, *, actor: Principal | None, code: str) -> RoutingQueue:
    """Stop routing to a queue (kept for history). Refused while an active queue overflows to it."""
    q = await get_queue(session, code)
    if not q.active:
        return q
    feeding = sorted(src for src, target in (await repo.overflow_map(session)).items() if target == code)
    if feeding:
        raise Conflict(
            f"Queue(s) {', '.join(feeding)} overflow to {code}; change their overflow_queue first.",
            extra={"errors": [_err("code", "overflow target")], "overflowing_queues": feeding},
        )
    before = _audit_view(q)
    q.active = False
    q.updated_at = clock.now()
    await session.flush()
    await _audit(session, actor, "routing.queue.deactivate", "routing_queue", code, before=before,
                 after=_audit_view(q))  # fmt: skip
    return q


# ---- agents' skills ------------------------------------------------------------------------------


async def skills_of(session: AsyncSession, staff_id: int) -> dict[str, int]:
    return await repo.skills_of(session, staff_id)


async def set_skills(
    session: AsyncSession, *, actor: Principal | None, staff_id: int, skills: dict[str, int]
) -> dict[str, int]:
    """Replace an agent's skills (``{}`` removes them all). The staff member must be an agent or team lead."""
    from kefu.staff import repository as staff_repo

    staff = await staff_repo.get_staff(session, staff_id)
    if staff is None:
        raise NotFound(f"No staff member with id {staff_id}.")
    if not {r.role for r in staff.roles} & AGENT_ROLES:
        raise _invalid([_err("staff_id", f"Staff member {staff.staff_no} is not an agent or team lead; only they "
                                         "take contacts and hold skills.")])  # fmt: skip
    errors = []
    if not isinstance(skills, dict):
        raise _invalid([_err("skills", "skills must be an object of skill → proficiency (1-10).")])
    for skill, level in skills.items():
        if skill not in SKILLS:
            errors.append(_err(f"skills.{skill}", f"Unknown skill {skill!r}; skills are: {', '.join(SKILLS)}."))
        elif isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 10:
            errors.append(_err(f"skills.{skill}", f"The proficiency of {skill} must be a whole number from 1 to 10."))
    if errors:
        raise _invalid(errors)
    before = await repo.skills_of(session, staff_id)
    new = dict(sorted(skills.items()))
    if before != new:
        await repo.replace_skills(session, staff_id, new)
        await _audit(session, actor, "routing.skills.set", "staff", staff_id, before={"skills": before},
                     after={"skills": new})  # fmt: skip
    return new


async def _routable_staff(session: AsyncSession) -> set[int]:
    """Ids of active staff holding the agent or team-lead role (through the staff domain's repository)."""
    from kefu.staff import repository as staff_repo
    from kefu.staff.models import StaffStatus

    out: set[int] = set()
    offset = 0
    while True:
        rows, total = await staff_repo.list_staff(
            session, principal=None, status=StaffStatus.ACTIVE.value, offset=offset, limit=500
        )
        out |= {s.id for s in rows if {r.role for r in s.roles} & AGENT_ROLES}
        offset += len(rows)
        if not rows or offset >= total:
            return out


async def all_agent_skills(session: AsyncSession) -> dict[int, dict[str, int]]:
    """{staff id: {skill: proficiency}} of the active agents and team leads holding skills."""
    held = await repo.skills_by_staff(session)
    if not held:
        return {}
    routable = await _routable_staff(session)
    return {staff_id: skills for staff_id, skills in held.items() if staff_id in routable}


async def engine_config(session: AsyncSession) -> tuple[list[QueueSpec], list[AgentSpec]]:
    """The live engine's configuration: active queues (departments included) and agents with skills."""
    queues = await repo.list_queues(session)
    active = {q.code for q in queues}
    specs = []
    for q in queues:
        overflow = q.overflow_queue if q.overflow_queue in active else None
        specs.append(QueueSpec(
            code=q.code, name=q.name, skills=tuple(queue_skills(q)), min_proficiency=q.min_proficiency,
            base_priority=float(q.base_priority), acceleration=float(q.acceleration),
            widen_after_s=None if q.widen_after_s is None else float(q.widen_after_s),
            overflow_after_s=None if overflow is None or q.overflow_after_s is None else float(q.overflow_after_s),
            overflow_queue=overflow,
        ))  # fmt: skip
    agents = [AgentSpec(agent_id=i, skills=s) for i, s in sorted((await all_agent_skills(session)).items())]
    return specs, agents


# ---- IVR routes ----------------------------------------------------------------------------------


def normalise_number(number: str | None) -> str | None:
    """``'400-000 0000'`` → ``'4000000000'``; ``'*'`` stays; None when it is not a phone number."""
    if number is None:
        return None
    value = re.sub(r"[\s\-()]", "", number)
    if value == ANY_NUMBER:
        return value
    return value if NUMBER.match(value) else None


def ivr_view(r: IvrRoute) -> dict[str, Any]:
    return {"id": r.id, "dialled_number": r.dialled_number, "ivr_prefix": r.ivr_prefix, "queue_code": r.queue_code,
            "priority_bonus": r.priority_bonus, "label": r.label, "created_at": r.created_at}  # fmt: skip


async def list_ivr_routes(session: AsyncSession) -> list[IvrRoute]:
    return list(await repo.list_ivr_routes(session))


async def create_ivr_route(
    session: AsyncSession, *, actor: Principal | None, dialled_number: str = ANY_NUMBER, ivr_prefix: str = "",
    queue_code: str, priority_bonus: float = 0, label: str = "",
) -> IvrRoute:  # fmt: skip
    """Send calls to ``dialled_number`` (``'*'``: any) whose IVR choices start with ``ivr_prefix`` to a queue."""
    errors: list[dict[str, str]] = []
    number = normalise_number(dialled_number) if isinstance(dialled_number, str) else None
    if number is None:
        errors.append(_err("dialled_number", "dialled_number must be '*' (any number) or a phone number of "
                                             "3 to 20 digits (spaces and dashes are fine)."))  # fmt: skip
    choices = [c.strip() for c in ivr_prefix.split(",")] if isinstance(ivr_prefix, str) and ivr_prefix.strip() else []
    prefix = ",".join(choices)
    if not all(CHOICE.match(c) for c in choices) or len(prefix) > 32:
        errors.append(_err("ivr_prefix", "ivr_prefix must be empty or IVR choices (digits, * or #) separated by "
                                         "commas, e.g. '1' or '1,2' (32 characters at most)."))  # fmt: skip
    q = await repo.get_queue(session, queue_code) if isinstance(queue_code, str) else None
    if q is None or not q.active:
        errors.append(_err("queue_code", f"queue_code {queue_code!r} is not an active queue."))
    elif q.is_department:
        errors.append(_err("queue_code", f"{queue_code} is a department: it takes transfers, not IVR callers."))
    bonus = _number(errors, "priority_bonus", priority_bonus, -MAX_PRIORITY, MAX_PRIORITY)
    text = label.strip() if isinstance(label, str) else ""
    if len(text) > 80 or CONTROL.search(text):
        errors.append(_err("label", "label must be at most 80 printable characters."))
    if errors:
        raise _invalid(errors)
    assert number is not None  # noqa: S101 - checked above
    if await repo.find_ivr_route(session, number, prefix) is not None:
        raise Conflict(f"A route for number {number} and IVR prefix {prefix!r} exists; delete it first.",
                       extra={"errors": [_err("ivr_prefix", "taken")]})  # fmt: skip
    r = IvrRoute(dialled_number=number, ivr_prefix=prefix, queue_code=queue_code, priority_bonus=bonus, label=text,
                 created_at=clock.now())  # fmt: skip
    session.add(r)
    await session.flush()
    await _audit(session, actor, "routing.ivr_route.create", "ivr_route", r.id,
                 after={k: v for k, v in ivr_view(r).items() if k != "created_at"})  # fmt: skip
    return r


async def delete_ivr_route(session: AsyncSession, *, actor: Principal | None, route_id: int) -> None:
    r = await repo.get_ivr_route(session, route_id)
    if r is None:
        raise NotFound(f"No IVR route {route_id}.")
    before = {k: v for k, v in ivr_view(r).items() if k != "created_at"}
    await repo.delete_ivr_route(session, r)
    await _audit(session, actor, "routing.ivr_route.delete", "ivr_route", route_id, before=before)


async def route_for(
    session: AsyncSession, *, dialled_number: str | None, ivr_choices: Sequence[str]
) -> IvrRoute | None:
    """The route of a new call: the longest IVR prefix (in whole choices) matching ``ivr_choices``, a route for
    the exact dialled number beating ``'*'`` at equal length. Routes to inactive queues are skipped."""
    number = normalise_number(dialled_number) if dialled_number else None
    numbers = [ANY_NUMBER] + ([number] if number and number != ANY_NUMBER else [])
    prefixes = [""]
    parts: list[str] = []
    for choice in ivr_choices[:16]:
        value = str(choice).strip()
        if not CHOICE.match(value):
            break  # no stored prefix goes past a choice that is not one
        parts.append(value)
        prefixes.append(",".join(parts))
    candidates = await repo.ivr_candidates(session, numbers, prefixes)
    if not candidates:
        return None
    return max(candidates, key=lambda r: (prefixes.index(r.ivr_prefix), r.dialled_number != ANY_NUMBER))
