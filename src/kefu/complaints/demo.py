"""Demo complaints for ``kefu demo``: 25 cases received over the last eight weeks, taken through the real
service functions with the clock set back (``clock.freeze``), so inbox, case pages and reports look lived
in: every status, several categories, business lines and root causes (fee policy recurs: a risk point),
some late, one merged, one extended, one paused, a few major or at risk of escalation (越级投诉).
Complainants are generated (测试客户甲…); nothing refers to a real person."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.complaints import clock as cclock
from kefu.complaints import clocking, intake, merge, workflow
from kefu.core import clock
from kefu.core.auth import Principal

NAMES = "甲乙丙丁戊己庚辛壬癸"
MATTERS = {
    "quality.fee": "信用卡年费在未告知的情况下被扣收，要求退还并说明收费依据。",
    "quality.product": "理财产品实际收益与宣传不符，要求解释并赔偿差额。",
    "quality.system": "手机银行转账显示失败但账户已扣款，要求尽快退回。",
    "service.attitude": "来电咨询时客服态度生硬，多次打断客户说话。",
    "service.wait": "热线排队等候超过二十分钟仍未接通。",
    "service.error": "网点办理挂失时录错卡号，导致另一张卡被冻结。",
    "service.promise": "客服承诺三个工作日内回电，至今未收到任何答复。",
    "general.policy": "对账户管理费收费政策有异议，认为不合理。",
    "general.advice": "建议手机银行增加大字版以方便老年客户。",
    "emergency.fraud": "信用卡在境外被盗刷多笔，要求立即处理。",
    "emergency.outage": "系统故障导致工资代发延迟到账。",
}


@dataclass(frozen=True)
class Case:
    days_ago: int
    category: str
    line: str
    steps: str  # "A0 I0 F3 P4 D6 C7 X8": step letter + day offset from receipt (see _STEP)
    cause: str = "fee_policy"
    party: str = "card_center"
    flags: tuple[str, ...] = ()
    locale: str = "zh-Hans"


# A accept, I investigating, F findings, P plan (node added, agreed, resolving, node done), D decide,
# C confirmed, U disputed, X close, O reopen, E extension (requested and approved), Z pause, R refuse,
# M<n> merge into case n (0-based)
SCENARIOS: tuple[Case, ...] = (
    Case(55, "quality.fee", "credit_cards", "A0 I0 F3 D5 C6 X7"),
    Case(53, "service.attitude", "service_center", "A0 I1 F2 D4 C5 X6", "staff_attitude", "service_center"),
    Case(50, "quality.system", "ebanking", "A0 I0 F2 P3 D9 C10 X11", "system_fault", "it"),
    Case(48, "service.wait", "service_center", "A1 I1 F4 D7 U8 X12", "process_gap", "service_center"),
    Case(45, "quality.fee", "cards", "A0 I0 F5 D19 C20 X21", flags=("regulator",)),
    Case(42, "general.policy", "accounts", "A0 I0 F6 D8 C9 X10", "information_disclosure", "product_dept"),
    Case(
        40,
        "quality.product",
        "wealth",
        "A0 I1 F4 P5 D12 U13 O14 F16 D20 C21 X22",
        "product_design",
        "product_dept",
        ("media",),
    ),
    Case(37, "service.error", "branches", "A0 I0 F2 D3 C4 X5", "staff_error", "branch"),
    Case(34, "emergency.fraud", "credit_cards", "A0 I0 F1 D4 C5 X6", "fraud", "third_party", ("major",)),
    Case(30, "quality.fee", "credit_cards", "A0 I0 F4 D6 C7", "fee_policy"),
    Case(28, "service.promise", "service_center", "A0 I0 F3 D8", "process_gap", "service_center"),
    Case(26, "quality.system", "transfers", "A0 I0", "system_fault", "it", ("risk",)),  # late: breached
    Case(24, "general.advice", "ebanking", "R1"),
    Case(21, "quality.fee", "loans", "A0 I0 F3 E10"),  # extended
    Case(18, "quality.product", "deposits", "A1 I1 F5 P6", "product_design", "product_dept"),
    Case(15, "service.attitude", "branches", "A0 I0 F2 D5 C6 X7", "staff_attitude", "branch", locale="zh-Hant"),
    Case(13, "quality.fee", "credit_cards", "A0 I0"),  # primary of the merge below
    Case(12, "quality.fee", "credit_cards", "A0 M16"),  # same complainant: merged
    Case(10, "emergency.outage", "accounts", "A0 I0 Z3", "system_fault", "it"),  # paused for testing
    Case(8, "service.wait", "service_center", "A0 I0 F2 D4", "process_gap", "service_center", locale="en"),
    Case(6, "quality.fee", "cards", "A0 I0 F2"),
    Case(4, "service.error", "transfers", "A0", "staff_error", "service_center"),
    Case(3, "general.policy", "forex", ""),
    Case(1, "quality.system", "ebanking", "", flags=("risk",)),
    Case(0, "service.promise", "loans", ""),
)


def _data(i: int, case: Case, phone: str) -> intake.IntakeData:
    name = f"测试客户{NAMES[i % 10]}{i // 10 or ''}" if case.locale != "en" else f"Test Customer {chr(65 + i % 26)}"
    return intake.IntakeData(
        channel=("phone", "phone", "email", "letter", "phone", "branch")[i % 6], complainant_name=name,
        complainant_phone=phone, complainant_email=f"demo{i:02d}@example.com" if i % 3 == 0 else None,
        matter=MATTERS[case.category], requested_resolution="请尽快处理并给予答复", business_line=case.line,
        category=case.category, locale=case.locale, severity="major" if "major" in case.flags else "normal",
        regulator_involved="regulator" in case.flags, media_involved="media" in case.flags,
        escalation_risk="risk" in case.flags,
        escalation_reasons=["threatens_regulator", "repeated_contacts"] if "risk" in case.flags else [],
    )  # fmt: skip


async def _principals(session: AsyncSession) -> dict[str, Principal] | None:
    from kefu.staff import auth as staff_auth
    from kefu.staff import repository as staff_repo

    out = {}
    for key, no in (("h1", "C0001"), ("h2", "C0002"), ("sup", "S0001"), ("agent", "L1001")):
        s = await staff_repo.get_staff_by_no(session, no)
        if s is None:
            return None
        out[key] = staff_auth.principal_for(s, kind="cli")
    return out


async def _step(session: AsyncSession, code: str, cid: int, p: dict[str, Principal], case: Case,
                ids: list[int]) -> None:  # fmt: skip
    h = p["h1"] if cid % 2 else p["h2"]
    kw: dict[str, Any] = {"actor": h, "complaint_id": cid}
    letter, arg = code[0], code[1:]
    if letter == "A":
        await workflow.accept(session, **kw)
    elif letter == "R":
        await workflow.refuse(session, **kw, reason="不属于本行业务范围，已告知客户向相关机构反映")
    elif letter == "I":
        await workflow.transition(session, **kw, to="investigating")
    elif letter == "F":
        await workflow.record_findings(session, **kw, responsible_party=case.party, root_cause=case.cause,
                                       note="经调阅业务记录与通话录音核实")  # fmt: skip
    elif letter == "P":
        await _plan(session, h, cid)
    elif letter == "D":
        await workflow.decide(session, **kw, decision="经核实，我行将退还相关费用并向客户致歉，同时改进告知流程。")
    elif letter in "CU":
        await workflow.record_response(session, **kw, response="confirmed" if letter == "C" else "disputed",
                                       satisfaction=4 if letter == "C" else 2, note=None)  # fmt: skip
    elif letter == "X":
        await workflow.close(session, **kw)
    elif letter == "O":
        await workflow.reopen(session, **kw, reason="客户对处理结果有异议并补充材料")
    elif letter == "E":
        change = await clocking.request_extension(session, **kw, reason="涉及第三方机构核查，情况复杂")
        await clocking.decide_extension(session, actor=p["sup"], change_id=change.id, approve=True, note="同意")
    elif letter == "Z":
        await clocking.pause(session, **kw, reason="送外部机构检测交易设备")
    elif letter == "M":
        await merge.merge(session, actor=p["sup"], complaint_id=cid, into_id=ids[int(arg)],
                          reason="同一客户就同一事项重复投诉")  # fmt: skip


async def _plan(session: AsyncSession, h: Principal, cid: int) -> None:
    from kefu.complaints import plan
    from kefu.complaints.models import Complaint

    c = await session.get(Complaint, cid)
    deadline = c.due_at if c is not None and c.due_at is not None else clock.now() + dt.timedelta(days=3)
    due = min(clock.now() + dt.timedelta(days=2), deadline - dt.timedelta(hours=1))
    node = await plan.add_node(session, actor=h, complaint_id=cid, measure="联系相关部门核实并退还费用",
                               owner_id=h.staff_id, due_at=due)  # fmt: skip
    await workflow.transition(session, actor=h, complaint_id=cid, to="plan_agreed")
    await workflow.transition(session, actor=h, complaint_id=cid, to="resolving")
    await plan.complete_node(session, actor=h, node_id=node.id, outcome="费用已退还至客户账户。")


async def seed(session: AsyncSession, settings: Any) -> int:
    """Create the demo complaints (only when there are none yet and the demo staff exist); returns how
    many were created. The clock is restored afterwards."""
    from sqlalchemy import func, select

    from kefu.complaints.models import Complaint
    from kefu.core import calendar

    if (await session.execute(select(func.count(Complaint.id)))).scalar_one():
        return 0
    people = await _principals(session)
    if people is None:
        return 0
    await calendar.seed_defaults(session)
    saved = clock._frozen
    real_now = clock.now()
    today = cclock.local_day(real_now, settings.timezone)
    ids: list[int] = []
    try:
        for i, case in enumerate(SCENARIOS):
            day = today - dt.timedelta(days=case.days_ago)
            received = dt.datetime.combine(day, dt.time(9 + i % 8, 10 + i), tzinfo=ZoneInfo(settings.timezone))
            received = min(received.astimezone(dt.UTC), real_now - dt.timedelta(minutes=30))
            clock.freeze(received)
            phone = f"1390000{(16 if i == 17 else i):04d}"
            c = await intake.register(session, actor=people["agent"], data=_data(i, case, phone))
            ids.append(c.id)
            for n, code in enumerate(case.steps.split()):
                offset = 0 if code[0] == "M" else int(code[1:] or 0)  # M<n> names a case, not a day
                at = received + dt.timedelta(days=offset, hours=1 + n)
                if at >= real_now:
                    break
                clock.freeze(at)
                await _step(session, code, c.id, people, case, ids)
    finally:
        clock.freeze(saved)
    return len(ids)
