"""Demo routing configuration: the queues of a bank contact center, its two back-office departments,
the IVR menu of a fictitious hotline and the demo agents' skills.

``seed`` is idempotent: it adds what is missing and never changes what exists (a queue, route or agent
already configured by hand keeps its settings). The hotline number 400-000-0000 is made up.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import context
from kefu.routing import config_repository as repo
from kefu.routing import config_service as service

HOTLINE = "400-000-0000"

# (code, name, skills, min proficiency, base priority, acceleration, widen after, overflow after, overflow to)
QUEUES: list[tuple[str, str, list[str], int, float, float, int | None, int | None, str | None]] = [
    ("general", "综合业务", ["general"], 1, 0, 1.0, None, None, None),
    ("savings", "储蓄", ["savings"], 5, 0, 1.0, 30, 90, "general"),
    ("loans", "贷款", ["loans"], 5, 0, 1.0, 45, 120, "general"),
    ("credit_cards", "信用卡", ["credit_cards"], 5, 0, 1.0, 30, 60, "general"),
    ("cards", "银行卡挂失", ["cards"], 3, 300, 2.0, 10, 30, "general"),  # lost or stolen card: an emergency
    ("ebanking", "电子银行", ["ebanking"], 4, 0, 1.0, 40, 90, "general"),
    ("forex", "外汇", ["forex"], 5, 0, 1.0, 60, 150, "general"),
    ("complaints", "投诉", ["complaints"], 6, 150, 2.0, 60, None, None),
    ("vip", "贵宾", ["vip"], 7, 100, 1.5, 20, 45, "general"),
    ("english", "英文服务", ["english"], 5, 0, 1.0, 60, None, None),
    ("email", "电子邮件", ["general"], 1, 0, 1.0, None, None, None),  # KEFU_EMAIL_QUEUE: new e-mails
]
# departments: reached by transfer only (never by the IVR)
DEPARTMENTS: list[tuple[str, str, list[str], int]] = [
    ("card_backoffice", "卡部后台", ["cards"], 7),
    ("loans_dept", "贷款部", ["loans"], 7),
]
# (dialled number, IVR prefix, queue, priority bonus, label)
IVR_ROUTES: list[tuple[str, str, str, float, str]] = [
    (HOTLINE, "", "general", 0, "未选择 / no choice"),
    (HOTLINE, "0", "general", 0, "0 人工服务 / operator"),
    (HOTLINE, "1", "cards", 200, "1 银行卡挂失 / lost card (emergency)"),
    (HOTLINE, "2", "savings", 0, "2 储蓄 / savings"),
    (HOTLINE, "3", "credit_cards", 0, "3 信用卡 / credit cards"),
    (HOTLINE, "4", "loans", 0, "4 贷款 / loans"),
    (HOTLINE, "5", "ebanking", 0, "5 电子银行 / e-banking"),
    (HOTLINE, "6", "forex", 0, "6 外汇 / foreign exchange"),
    (HOTLINE, "8", "complaints", 0, "8 投诉 / complaints"),
    (HOTLINE, "9", "english", 0, "9 English service"),
    ("*", "", "general", 0, "其他号码 / any other number"),
]
# staff number -> skills (demo staff of kefu.staff.demo: 10001-10016 agents, L1001-L1004 team leads)
AGENT_SKILLS: dict[str, dict[str, int]] = {
    # T-SAV
    "10001": {"general": 8, "savings": 9, "vip": 7},
    "10002": {"general": 7, "savings": 8},
    "10003": {"general": 6, "savings": 7, "english": 8},
    "10004": {"general": 5, "savings": 6, "forex": 5},
    # T-CARD
    "10005": {"general": 7, "credit_cards": 8, "cards": 8},
    "10006": {"general": 6, "credit_cards": 7, "cards": 6, "complaints": 7},
    "10007": {"general": 6, "credit_cards": 8, "cards": 5},
    "10008": {"general": 5, "credit_cards": 6, "cards": 7},
    # T-EBANK
    "10009": {"general": 7, "ebanking": 9},
    "10010": {"general": 6, "ebanking": 8, "forex": 7},
    "10011": {"general": 6, "ebanking": 7, "forex": 6},
    "10012": {"general": 5, "ebanking": 6, "english": 7},
    # T-LOAN
    "10013": {"general": 7, "loans": 9},
    "10014": {"general": 6, "loans": 8, "complaints": 6},
    "10015": {"general": 6, "loans": 7, "vip": 8},
    "10016": {"general": 5, "loans": 6},
    # team leads
    "L1001": {"general": 9, "savings": 9, "vip": 8, "complaints": 7},
    "L1002": {"general": 8, "credit_cards": 9, "cards": 9, "complaints": 6},
    "L1003": {"general": 8, "ebanking": 9, "forex": 7, "english": 7},
    "L1004": {"general": 8, "loans": 9, "complaints": 8},
}


async def seed(session: AsyncSession) -> dict[str, Any]:
    """Add the demo routing configuration that is missing (no commit). Returns what was added:
    ``{"queues": n, "ivr_routes": n, "agents": n}``. Demo staff not loaded yet are skipped."""
    from kefu.staff import repository as staff_repo

    context.current().actor_label = "demo-loader"
    added = {"queues": 0, "ivr_routes": 0, "agents": 0}
    # overflow targets first: general before the queues that overflow to it
    for code, name, skills, min_prof, base, accel, widen, overflow_s, overflow_q in QUEUES:
        if await repo.get_queue(session, code) is None:
            await service.create_queue(
                session, actor=None, code=code, name=name, skills=skills, min_proficiency=min_prof, base_priority=base,
                acceleration=accel, widen_after_s=widen, overflow_after_s=overflow_s, overflow_queue=overflow_q,
            )  # fmt: skip
            added["queues"] += 1
    for code, name, skills, min_prof in DEPARTMENTS:
        if await repo.get_queue(session, code) is None:
            await service.create_queue(session, actor=None, code=code, name=name, skills=skills,
                                       min_proficiency=min_prof, is_department=True)  # fmt: skip
            added["queues"] += 1
    for number, prefix, queue, bonus, label in IVR_ROUTES:
        normalised = service.normalise_number(number) or number
        if await repo.find_ivr_route(session, normalised, prefix) is None:
            q = await repo.get_queue(session, queue)
            if q is None or not q.active:
                continue  # deactivated by hand: leave the menu entry out
            await service.create_ivr_route(session, actor=None, dialled_number=number, ivr_prefix=prefix,
                                           queue_code=queue, priority_bonus=bonus, label=label)  # fmt: skip
            added["ivr_routes"] += 1
    for staff_no, profile in AGENT_SKILLS.items():
        staff = await staff_repo.get_staff_by_no(session, staff_no)
        if staff is None or not {r.role for r in staff.roles} & service.AGENT_ROLES:
            continue
        if await service.skills_of(session, staff.id):
            continue
        await service.set_skills(session, actor=None, staff_id=staff.id, skills=profile)
        added["agents"] += 1
    return added
