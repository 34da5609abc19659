"""The "Done when" flow of the complaints issue in a real browser: an agent registers a complaint from the
call they are wrapping up (/complaints/new?contact=ID, the wrap-up's link); a complaint handler sees it in
the inbox with its deadline, accepts it (the acknowledgement is listed among the notices sent), moves it
through investigation, findings and a plan whose node is completed (a progress notice), decides, records
the customer's confirmation with satisfaction and closes it. A member of the public sends a complaint
through the online form (no sign-in) and gets the case number. Other cases, back-dated through the
services, give the inbox every clock state. This month's report counts the case. Refreshes
complaints-inbox.png, complaints-case.png, complaints-report.png and complaint-public.png (1366×768)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import PASSWORD, VIEWPORT, running_server, settings_from, shot, sync_api

pytestmark = pytest.mark.e2e

MATTER = "客户来电反映：信用卡年费已按活动减免，但本月账单仍扣收年费 200 元，要求退还并说明原因。"
PUBLIC_MATTER = "手机银行转账一直显示处理中，已经两天了，资金没有到账，也没有退回。"


def _days_back(rules: Any, cal: Any, today: dt.date, wanted: Any) -> int:
    """How many days ago a case must have been accepted for its due date to be ``wanted(days_left)``
    (the State Council calendar and the settings decide, so the seed does not depend on today's date)."""
    from kefu.complaints import clock as cclock

    for days in range(2, 60):
        start = today - dt.timedelta(days=days)
        due = cclock.due_date(start, rules.decision_days, rules.decision_unit, cal, roll=rules.roll_to_workday)
        if wanted((due - today).days):
            return days
    raise AssertionError("no acceptance day gives the wanted due date")


async def _back_dated(rt: Any, staff: dict[str, Any], customer_id: int) -> None:
    """Cases in every clock state, created through the services at earlier times (generated data)."""
    from zoneinfo import ZoneInfo

    from kefu.complaints import clock as cclock
    from kefu.complaints import clocking, intake, workflow
    from kefu.core import calendar, clock
    from tests.factories import principal_of

    handler, agent = principal_of(staff["C0602"]), principal_of(staff["C0601"])
    tz = ZoneInfo(rt.settings.timezone)
    now = clock.now()
    today = now.astimezone(tz).date()
    rules = cclock.Rules.from_settings(rt.settings)
    async with rt.db.transaction() as s:
        await calendar.seed_defaults(s)
        cal = await calendar.load(s, rt.settings)
    max_warn = max(rules.warn_days)
    plans: list[tuple[int, str, str, str, bool, dict[str, Any]]] = [  # days ago, name, category, line, accept?, extra
        (_days_back(rules, cal, today, lambda left: left < -1), "测试客户丁", "service.wait", "service_center", True, {}),
        (_days_back(rules, cal, today, lambda left: 0 < left <= max_warn), "测试客户戊", "quality.system", "ebanking",
         True, {"regulator_involved": True}),
        (6, "测试客户己", "service.error", "branches", True, {"pause": True}),
        (1, "测试客户庚", "emergency.fraud", "credit_cards", False,
         {"escalation_risk": True, "escalation_reasons": ["threatens_media"], "severity": "major"}),
    ]  # fmt: skip
    try:
        for n, (days, name, category, line, accept, extra) in enumerate(plans):
            day = dt.datetime.combine(today - dt.timedelta(days=days), dt.time(10, 0), tzinfo=tz)
            clock.freeze(day.astimezone(dt.UTC))
            pause = extra.pop("pause", False)
            data = intake.IntakeData(channel="phone", complainant_name=name, complainant_phone=f"1370000{n:04d}",
                                     matter=f"{name}反映的问题（测试数据）。", business_line=line, category=category,
                                     customer_id=customer_id if n == 1 else None, **extra)  # fmt: skip
            async with rt.db.transaction() as s:
                c = await intake.register(s, actor=agent, data=data)
            if accept:
                clock.freeze((day + dt.timedelta(hours=1)).astimezone(dt.UTC))
                async with rt.db.transaction() as s:
                    await workflow.accept(s, actor=handler, complaint_id=c.id, handler_id=staff["C0602"].id)
            if pause:
                clock.freeze(now - dt.timedelta(days=1))
                async with rt.db.transaction() as s:
                    await clocking.pause(s, actor=handler, complaint_id=c.id, reason="送第三方机构鉴定签名")
    finally:
        clock.freeze(None)


async def _seed(env: dict[str, str]) -> dict[str, Any]:
    from kefu.core import runtime
    from kefu.staff import service
    from tests.contacts.conftest import handled
    from tests.factories import make_customer

    rt = runtime.build(settings_from(env))
    try:
        async with rt.db.transaction() as s:
            team = await service.create_team(s, code="CP-A", name="零售一组")
            staff = {
                no: await service.create_staff(s, staff_no=no, name=name, roles=roles, password=PASSWORD,
                                               team_id=team.id, must_change_password=False)
                for no, name, roles in (("C0601", "王晓雨", ["agent"]), ("C0602", "李清和", ["complaint_handler"]),
                                        ("C0603", "赵主管", ["supervisor"]))
            }  # fmt: skip
        customer = await make_customer(rt, name="测试客户乙", phone="13912345678")
        await _back_dated(rt, staff, customer.id)
        contact = await handled(rt, staff["C0601"].id, customer_id=customer.id, caller_number="13912345678")
        return {"contact_id": contact.id, "customer_no": customer.customer_no}
    finally:
        await rt.close()
        runtime.install(None)


@pytest.fixture(scope="module")
def cp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_server(tmp_path_factory, "complaints", lambda env: asyncio.run(_seed(env))) as srv:
        yield srv


def _context_page(browser: Any) -> Any:
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(10_000)
    pg = context.new_page()
    pg.on("dialog", lambda dialog: dialog.accept())
    return pg


def _sign_in(pg: Any, base: str, staff_no: str) -> None:
    pg.goto(base + "/login")
    pg.fill("#staff_no", staff_no)
    pg.fill("#password", PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_url(base + "/")


def _no_horizontal_overflow(pg: Any) -> None:
    wide = pg.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert wide <= 0, f"{pg.url} is {wide}px wider than the window"


def _status(pg: Any, status: str) -> None:
    sync_api.expect(pg.locator("header.cp-head")).to_have_attribute("data-status", status)


def _done(pg: Any) -> None:
    sync_api.expect(pg.locator(".alert-success")).to_be_visible()
    assert not pg.locator(".alert-error").count(), pg.locator(".alert-error").first.inner_text()


def test_complaint_from_a_call_to_the_customers_confirmation_and_the_public_form(
    cp_server: dict[str, Any], page: Any, browser: Any
) -> None:
    base, contact_id = cp_server["base"], cp_server["contact_id"]
    expect = sync_api.expect
    errors: list[str] = []
    handler = _context_page(browser)
    public = _context_page(browser)
    for pg in (page, handler, public):
        pg.on("pageerror", lambda exc: errors.append(str(exc)))

    # ---- the agent registers the complaint from the call being wrapped up --------------------------
    _sign_in(page, base, "C0601")
    page.goto(f"{base}/complaints/new?contact={contact_id}")
    expect(page.locator(f'[data-from-contact="{contact_id}"]')).to_be_visible()
    expect(page.locator("[data-from-contact]")).to_contain_text(cp_server["customer_no"])
    expect(page.locator("[data-from-contact]")).to_contain_text("139****5678")  # masked, used for SMS
    page.fill("#n-matter", MATTER)
    page.fill("#n-req", "退还年费 200 元")
    page.select_option("#n-bl", "credit_cards")
    page.select_option("#n-cat", "quality.fee")
    _no_horizontal_overflow(page)
    page.click("[data-submit]")
    page.wait_for_url(re.compile(r".*/complaints/\d+\?done=registered"))
    case_url = page.url.split("?")[0]
    number = page.locator("[data-case-number]").first.inner_text()
    assert re.fullmatch(r"TS\d{8}-\d{6}", number), number
    _status(page, "received")
    expect(page.locator("[data-no-actions]")).to_be_visible()  # the agent reads; handlers handle

    # ---- the handler: inbox with the deadline, then the case from acceptance to closing ------------
    _sign_in(handler, base, "C0602")
    handler.goto(base + "/complaints?scope=all")
    row = handler.locator(f'tr[data-number="{number}"]')
    expect(row).to_have_attribute("data-clock", "not_started")
    expect(row.locator(".cp-days")).not_to_be_empty()  # the acceptance deadline in words
    row.locator("a.cp-number-link").click()
    handler.wait_for_url(case_url)
    handler.click('[data-action="accept"] button[type=submit]')
    _done(handler)
    _status(handler, "accepted")
    expect(handler.locator('[data-notices] tr[data-notice="acknowledgement"]')).to_have_count(1)
    due = handler.locator("[data-due]").first.get_attribute("data-due")
    assert due
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", due), due

    handler.goto(base + "/complaints")  # "mine": due soonest first, every clock state in colour and words
    rows = handler.locator("tr.cp-row")
    expect(rows.first).to_be_visible()
    states = [rows.nth(i).get_attribute("data-clock") for i in range(rows.count())]
    assert {"breached", "warning", "paused", "ok"} <= set(states), states
    assert states[0] == "breached", states
    mine = handler.locator(f'tr[data-number="{number}"]')
    expect(mine.locator("time[data-due]")).to_have_text(due)
    _no_horizontal_overflow(handler)
    shot(handler, "complaints-inbox.png")

    handler.goto(case_url)
    handler.click('[data-move="investigating"]')
    _done(handler)
    _status(handler, "investigating")
    findings = handler.locator('[data-action="findings"]')
    findings.locator("#fd-p").select_option("card_center")
    findings.locator("#fd-c").select_option("fee_policy")
    findings.locator("#fd-n").fill("活动减免名单未同步到年费扣收系统。")
    findings.locator("button[type=submit]").click()
    _done(handler)
    expect(handler.locator("[data-findings]")).to_be_visible()
    handler.locator("details.cp-add > summary").click()
    add = handler.locator("[data-plan-add]")
    add.locator("#pm").fill("退还已扣年费并致电客户说明原因")
    when = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).astimezone(dt.timezone(dt.timedelta(hours=8)))
    add.locator("#pd").fill(when.strftime("%Y-%m-%dT%H:%M"))
    add.locator("button[type=submit]").click()
    _done(handler)
    handler.click('[data-move="plan_agreed"]')
    _done(handler)
    handler.click('[data-move="resolving"]')
    _done(handler)
    _status(handler, "resolving")
    node = handler.locator('[data-plan] tr[data-node-status="open"]').first
    node.locator("summary").click()
    node.locator("textarea[name=outcome]").fill("已退还年费 200 元，并致电客户说明。")
    node.locator("[data-node-complete] button[type=submit]").click()
    _done(handler)
    expect(handler.locator('[data-notices] tr[data-notice="progress"]')).to_have_count(1)
    expect(handler.locator('[data-action="decide"]')).to_be_visible()
    handler.locator("#top").scroll_into_view_if_needed()
    _no_horizontal_overflow(handler)
    shot(handler, "complaints-case.png")

    handler.fill("#dc-t", "经核实，年费属误扣，已全额退还 200 元。给您带来不便，深表歉意。")
    handler.click('[data-action="decide"] button[type=submit]')
    _done(handler)
    _status(handler, "decided")
    handler.check('[data-action="response"] input[name=satisfaction][value="5"]')
    handler.fill("#rs-n", "客户表示满意。")
    handler.click('[data-response-submit="confirmed"]')
    _done(handler)
    _status(handler, "confirmed")
    handler.click('[data-action="close"] button[type=submit]')
    _done(handler)
    _status(handler, "closed")
    for kind in ("acknowledgement", "progress", "decision", "closed"):
        expect(handler.locator(f'[data-notices] tr[data-notice="{kind}"]')).to_have_count(1)
    expect(handler.locator('[data-response="confirmed"]')).to_be_visible()

    # ---- this month's report counts it (R5.5) ---------------------------------------------------------
    handler.goto(base + "/complaints/reports?period=month")
    for tile in ("received", "closed"):
        value = handler.locator(f'[data-tile="{tile}"] [data-value]').inner_text()
        assert int(value) >= 1, (tile, value)
    _no_horizontal_overflow(handler)
    shot(handler, "complaints-report.png")

    # ---- the public form: no sign-in, consent, the case number at the end --------------------------
    public.goto(base + "/complaint")
    expect(public.locator("[data-public-complaint]")).to_be_visible()
    public.fill("#cp-name", "测试客户辛")
    public.fill("#cp-phone", "13600136000")
    public.select_option("#cp-bl", "ebanking")
    public.fill("#cp-matter", PUBLIC_MATTER)
    public.fill("#cp-req", "尽快查明资金去向")
    _no_horizontal_overflow(public)
    public.evaluate("() => { document.activeElement.blur(); window.scrollTo(0, 0); }")
    shot(public, "complaint-public.png")
    public.click(".cp-submit")
    expect(public.locator("[data-form-error]")).to_be_visible()  # the consent box was not ticked
    expect(public.locator("#cp-matter")).to_have_value(PUBLIC_MATTER)
    public.check("[data-consent]")
    public.click(".cp-submit")
    public.wait_for_url(re.compile(r".*/complaint/done\?n=TS.*"))
    public_number = public.locator("[data-case-number]").inner_text()
    assert re.fullmatch(r"TS\d{8}-\d{6}", public_number), public_number
    handler.goto(base + "/complaints?scope=unassigned")
    expect(handler.locator(f'tr[data-number="{public_number}"]')).to_have_attribute("data-clock", "not_started")

    assert not errors, errors
