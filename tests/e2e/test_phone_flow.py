"""The "Done when" flow of the contacts and routing issue in a real browser: a simulated call waits in
the queue while a supervisor's wallboard shows it; the agent goes ready, the call rings with the caller
masked, the agent answers and makes a consult transfer to a second agent (another browser), who
answers, hangs up and records the wrap-up, then is ready again; the wallboard's waiting count and
service level move live. Refreshes phone-ringing.png, phone-wrapup.png and wallboard.png."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import PASSWORD, VIEWPORT, running_server, settings_from, shot, sync_api

pytestmark = pytest.mark.e2e

PHONE = "13655507788"
LIVE_MS = 15_000  # socket messages and the wallboard's 5-second refresh


async def _seed(env: dict[str, str]) -> dict[str, Any]:
    from kefu.core import runtime
    from kefu.staff import service
    from tests.factories import make_customer
    from tests.web.phone_helpers import setup_routing

    rt = runtime.build(settings_from(env))
    try:
        async with rt.db.transaction() as s:
            agents = [
                await service.create_staff(s, staff_no=no, name=name, roles=["agent"], password=PASSWORD,
                                           must_change_password=False)
                for no, name in (("C0301", "王晓雨"), ("C0302", "李思远"))
            ]  # fmt: skip
            await service.create_staff(s, staff_no="S0301", name="赵主管", roles=["supervisor"], password=PASSWORD,
                                       must_change_password=False)  # fmt: skip
        await setup_routing(rt, *agents)
        customer = await make_customer(rt, phone=PHONE, name="林晓雯", tier="gold")
        return {"customer_id": customer.id, "customer_no": customer.customer_no}
    finally:
        await rt.close()
        runtime.install(None)


@pytest.fixture(scope="module")
def phone_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_server(tmp_path_factory, "phone", lambda env: asyncio.run(_seed(env))) as srv:
        yield srv


def _context_page(browser: Any) -> Any:
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(10_000)
    pg = context.new_page()
    pg.on("dialog", lambda dialog: dialog.accept())
    return pg


def _sign_in(pg: Any, base: str, staff_no: str, then: str) -> None:
    pg.goto(base + "/login")
    pg.fill("#staff_no", staff_no)
    pg.fill("#password", PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_url(base + "/")
    pg.goto(base + then)


def test_call_rings_is_answered_transferred_and_wrapped_up_while_the_wallboard_follows(
    phone_server: dict[str, Any], page: Any, browser: Any
) -> None:
    base = phone_server["base"]
    expect = sync_api.expect
    board = _context_page(browser)
    second = _context_page(browser)
    errors: list[str] = []
    for pg in (page, board, second):
        pg.on("pageerror", lambda exc: errors.append(str(exc)))

    _sign_in(board, base, "S0301", "/wallboard")
    expect(board.locator("[data-live-status]")).to_have_attribute("data-live-status", "live", timeout=LIVE_MS)
    waiting = board.locator('tr[data-queue="general"] [data-field="waiting"]')
    expect(waiting).to_have_text("0")

    # the agent opens the phone desk; the live socket connects
    _sign_in(page, base, "C0301", "/phone")
    expect(page.locator("[data-live-status]")).to_have_attribute("data-live-status", "live", timeout=LIVE_MS)
    expect(page.locator("[data-presence-badge]")).to_have_attribute("data-presence-badge", "logged_out")

    # a simulated call for the customer waits in the queue: the wallboard shows it
    page.fill("#sim-customer", phone_server["customer_no"])
    page.fill("#sim-caller", PHONE)
    page.select_option("#sim-route", "4000000000|2")
    page.click("[data-simulate]")
    expect(page.locator("[data-phone-errors] .alert-success")).to_contain_text("模拟来电已接入")
    expect(page.locator("[data-sim-call]")).to_have_count(1)
    expect(waiting).to_have_text("1", timeout=LIVE_MS)
    expect(board.locator('[data-kpi="waiting"]')).to_have_text("1", timeout=LIVE_MS)

    # ready: the waiting call rings here, the caller masked, with the customer's page a click away
    page.click("[data-go-ready]")
    offer = page.locator("[data-ringing]")
    expect(offer).to_be_visible(timeout=LIVE_MS)
    expect(offer.locator("[data-caller]")).to_have_text("136****7788")
    expect(offer).to_contain_text("林*雯")
    expect(offer.locator("[data-open-customer]")).to_have_attribute("href", f"/customers/{phone_server['customer_id']}")
    expect(offer.locator("[data-countdown-to]")).to_contain_text("秒")
    assert PHONE not in page.content()
    assert page.title().startswith("● 来电")  # the tab says it rings
    shot(page, "phone-ringing.png")

    page.click("[data-accept]")
    call = page.locator("[data-connected]")
    expect(call).to_be_visible()
    expect(page.locator("[data-ringing]")).to_have_count(0)
    expect(call.locator(".call-timer")).not_to_have_text("00:00", timeout=LIVE_MS)  # the call timer runs
    expect(waiting).to_have_text("0", timeout=LIVE_MS)

    # a second agent is ready; a consult transfer rings them while the first stays on the line
    _sign_in(second, base, "C0302", "/phone")
    second.click("[data-go-ready]")
    expect(second.locator("[data-presence-badge]")).to_have_attribute("data-presence-badge", "ready")
    call.locator("details.phone-more summary").first.click()
    call.locator("input[name=staff_no]").fill("C0302")
    call.locator("input[name=mode][value=consult]").check()
    call.locator("[data-transfer]").click()
    expect(page.locator("[data-transfer-pending]")).to_be_visible(timeout=LIVE_MS)
    consult = second.locator("[data-ringing]")
    expect(consult).to_be_visible(timeout=LIVE_MS)
    expect(consult).to_contain_text("咨询转接来电")
    expect(consult.locator("[data-caller]")).to_have_text("136****7788")
    second.click("[data-accept]")
    expect(second.locator("[data-connected]")).to_be_visible(timeout=LIVE_MS)
    expect(page.locator("[data-presence-badge]")).to_have_attribute("data-presence-badge", "wrap_up", timeout=LIVE_MS)
    page.click("[data-go-ready]")
    expect(page.locator("[data-presence-badge]")).to_have_attribute("data-presence-badge", "ready")

    # the second agent hangs up and records the wrap-up, then is ready again
    second.click("[data-hangup]")
    wrap = second.locator("[data-wrapup]")
    expect(wrap).to_be_visible(timeout=LIVE_MS)
    wrap.locator("select[name=category_id]").select_option(label="余额与明细")
    wrap.locator("select[name=result]").select_option("follow_up")
    expect(wrap.locator("[data-followup-fields]")).to_be_visible()
    wrap.locator("textarea[name=summary]").fill("客户咨询账户余额变动，已核对近三笔交易并解释。")
    wrap.locator("textarea[name=kb_entries]").fill("账户余额查询流程\n交易明细说明")
    wrap.locator("textarea[name=follow_up_details]").fill("核实一笔跨行转账的到账时间后回电")
    tomorrow = dt.datetime.now(ZoneInfo("Asia/Shanghai")) + dt.timedelta(days=1)
    wrap.locator("input[name=follow_up_due]").fill(tomorrow.strftime("%Y-%m-%dT10:00"))
    wrap.evaluate("el => el.scrollIntoView({block: 'start'})")
    shot(second, "phone-wrapup.png")
    wrap.locator("[data-wrapup-ready]").click()
    expect(second.locator("[data-wrapup]")).to_have_count(0, timeout=LIVE_MS)
    expect(second.locator("[data-presence-badge]")).to_have_attribute("data-presence-badge", "ready")
    expect(second.locator('[data-section="follow-ups"]')).to_contain_text("核实一笔跨行转账的到账时间后回电")

    # the wallboard: one call offered and answered within the ring target
    row = board.locator('tr[data-queue="general"]')
    expect(row.locator('[data-field="answered"]')).to_have_text("1", timeout=LIVE_MS)
    expect(row.locator('[data-field="service_level"]')).to_have_text("100.0%", timeout=LIVE_MS)
    expect(board.locator('[data-kpi="service_level"]')).to_have_text("100.0%", timeout=LIVE_MS)
    expect(board.locator('[data-agent-rows] tr:has-text("李思远")')).to_contain_text("就绪", timeout=LIVE_MS)
    # this half hour too, and no alert; the day's chart (server-rendered SVG) follows with the call's bars
    expect(board.locator('[data-kpi="interval_service_level"]')).to_have_text("100.0%", timeout=LIVE_MS)
    expect(board.locator("[data-alert]")).to_have_count(0)
    expect(board.locator(".wall-chart-svg .bar-answered")).to_have_count(1, timeout=LIVE_MS)
    expect(board.locator('tr[data-channel="phone"] [data-field="handled"]')).to_have_text("1", timeout=LIVE_MS)
    expect(board.locator("[data-complaints]")).to_be_visible()  # the supervisor reads complaints
    shot(board, "wallboard.png")

    # the record: the timeline and the wrap-up, the caller masked
    second.goto(base + "/contacts")
    second.locator("[data-contact-row] a").first.click()
    expect(second.locator("[data-timeline]")).to_contain_text("转接完成")
    expect(second.locator("[data-caller]")).to_have_text("136****7788")
    expect(second.locator("[data-wrapup-record]")).to_contain_text("余额与明细")
    assert not errors, errors
    board.context.close()
    second.context.close()
