"""The agent desktop in a real browser (Debian's chromium, a real uvicorn on a fresh SQLite database): an
agent goes ready with Alt+R, a simulated call for an identified customer rings and is answered with Alt+A,
the customer panel (masked, with the open complaint) and the script (with the agent's number) show, the
KB is searched and an entry attached, a business dialog opens the customer page in a frame, the call is
transferred to a second agent, who hangs up with Alt+E and cannot go ready until the wrap-up (which
lists the attached entry) is saved. Refreshes docs/screenshots/desktop-call.png (1366 × 768)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import PASSWORD, VIEWPORT, running_server, settings_from, shot, sign_in, sync_api

pytestmark = pytest.mark.e2e

PHONE = "13655508899"
LIVE_MS = 15_000


async def _seed(env: dict[str, str]) -> dict[str, Any]:
    from kefu.complaints import intake
    from kefu.core import runtime
    from kefu.knowledge import demo as kb_demo
    from kefu.scripts import demo as scripts_demo
    from kefu.staff import service
    from tests.factories import make_customer, principal_of
    from tests.web.phone_helpers import setup_routing

    rt = runtime.build(settings_from(env))
    rt.settings.kb_rerank = False
    try:
        async with rt.db.transaction() as s:
            agents = [
                await service.create_staff(s, staff_no=no, name=name, roles=["agent"], password=PASSWORD,
                                           must_change_password=False)
                for no, name in (("C0401", "王晓雨"), ("C0402", "李思远"))
            ]  # fmt: skip
        await setup_routing(rt, *agents)
        customer = await make_customer(rt, phone=PHONE, name="林晓雯", tier="gold", gender="F")
        async with rt.db.transaction() as s:
            await kb_demo.seed(s)
            await scripts_demo.load(s)
            case = await intake.register(s, actor=principal_of(agents[0]), data=intake.IntakeData(
                channel="phone", complainant_name="林晓雯", complainant_phone=PHONE, customer_id=customer.id,
                matter="信用卡年费被重复收取，客户要求退还。", requested_resolution="退还年费",
                business_line="credit_cards", category="quality.fee"))  # fmt: skip
            number = case.number
        return {"customer_id": customer.id, "customer_no": customer.customer_no, "case": number}
    finally:
        await rt.close()
        runtime.install(None)


@pytest.fixture(scope="module")
def desk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_server(tmp_path_factory, "desk", lambda env: asyncio.run(_seed(env))) as srv:
        yield srv


def test_a_call_on_the_agent_desktop_from_ready_to_wrap_up(
    desk_server: dict[str, Any], page: Any, browser: Any
) -> None:
    base = desk_server["base"]
    expect = sync_api.expect
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, base, "C0401")
    expect(page.locator("[data-live-status]")).to_have_attribute("data-live-status", "live", timeout=LIVE_MS)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no horizontal scrolling

    # the help lists the shortcuts
    page.locator("body").press("?")
    expect(page.locator("#desk-keys")).to_be_visible()
    expect(page.locator("#desk-keys kbd", has_text="Alt+A")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#desk-keys")).to_be_hidden()

    # a simulated call for the customer waits; Alt+R: ready, it rings; Alt+A: answered
    page.fill("#sim-customer", desk_server["customer_no"])
    page.fill("#sim-caller", PHONE)
    page.select_option("#sim-route", "4000000000|2")
    page.click("[data-simulate]")
    expect(page.locator("[data-sim-call]")).to_have_count(1)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Alt+R")
    offer = page.locator("[data-ringing]")
    expect(offer).to_be_visible(timeout=LIVE_MS)
    panel = page.locator('[data-section="customer"]')
    expect(panel.locator("[data-customer-name]")).to_have_text("林*雯", timeout=LIVE_MS)
    page.keyboard.press("Alt+A")
    expect(page.locator("[data-connected]")).to_be_visible(timeout=LIVE_MS)
    expect(panel.locator("[data-open-complaints]")).to_contain_text(desk_server["case"])
    expect(panel.locator('[data-open-dialog="verify"]')).to_be_visible()
    script = page.locator('[data-section="script"]')
    expect(script.locator("[data-script-greeting]")).to_contain_text("林女士")
    expect(script.locator("[data-script-greeting]")).to_contain_text("C0401")
    assert PHONE not in page.content()
    assert "林晓雯" not in page.content()

    # Alt+K: the KB search; the first answer attached to the contact
    page.keyboard.press("Alt+K")
    kb_input = page.locator("[data-kb-input]")
    expect(kb_input).to_be_focused()
    kb_input.fill("银行卡丢了怎么挂失")
    kb_input.press("Enter")
    results = page.locator("[data-kb-results] li")
    expect(results.first).to_be_visible(timeout=LIVE_MS)
    first_question = results.first.locator(".desk-kb-q").inner_text()
    results.first.locator("[data-kb-attach]").click()
    expect(results.first.locator("[data-kb-attach]")).to_have_attribute("data-attached", re.compile(r"^\d+$"))
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "desktop-call.png")

    # a business dialog: the customer's verification in a frame, without the app's chrome; the desk stays
    page.click('[data-open-dialog="verify"]')
    dialog = page.locator("[data-desk-dialog]")
    expect(dialog).to_be_visible()
    frame = page.frame_locator("[data-dialog-frame]")
    expect(frame.locator("#verify")).to_be_visible(timeout=LIVE_MS)
    expect(frame.locator(".topbar")).to_have_count(0)
    page.click("[data-dialog-close]")
    expect(dialog).to_be_hidden()
    expect(page.locator("[data-connected]")).to_be_visible()

    # a second agent is ready; a blind transfer to them leaves the first in wrap-up
    second = browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai").new_page()
    second.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(second, base, "C0402")
    second.click("[data-go-ready]")
    expect(second.locator("[data-presence-badge]")).to_have_attribute("data-presence-badge", "ready")
    call = page.locator("[data-connected]")
    call.locator("details.phone-more summary").first.click()
    call.locator("input[name=staff_no]").fill("C0402")
    call.locator("[data-transfer]").click()
    expect(second.locator("[data-ringing]")).to_be_visible(timeout=LIVE_MS)
    second.click("[data-accept]")
    expect(second.locator("[data-connected]")).to_be_visible(timeout=LIVE_MS)
    expect(page.locator("[data-connected]")).to_have_count(0, timeout=LIVE_MS)
    expect(page.locator("[data-presence-badge]")).to_have_attribute("data-presence-badge", "wrap_up", timeout=LIVE_MS)
    expect(second.locator('[data-section="customer"] [data-customer-name]')).to_have_text("林*雯")
    expect(second.locator("[data-script-greeting]")).to_contain_text("C0402")

    # the second agent hangs up (Alt+E): the wrap-up lists the entry the first agent attached; going ready
    # before it is saved is refused, in words; Alt+W goes to it, and saving it makes the agent ready
    second.keyboard.press("Alt+E")
    wrap = second.locator("[data-wrapup]")
    expect(wrap).to_be_visible(timeout=LIVE_MS)
    expect(wrap.locator("textarea[name=kb_entries]")).to_have_value(re.compile(re.escape(first_question[:8])))
    second.keyboard.press("Alt+R")
    expect(second.locator("[data-phone-errors] .alert-error")).to_be_visible(timeout=LIVE_MS)
    expect(second.locator("[data-presence-badge]")).to_have_attribute("data-presence-badge", "wrap_up")
    second.keyboard.press("Alt+W")
    category = wrap.locator("select[name=category_id]")
    expect(category).to_be_focused()
    category.select_option(label="余额与明细")
    wrap.locator("select[name=result]").select_option("resolved")
    wrap.locator("textarea[name=summary]").fill("客户银行卡遗失，已说明挂失流程并办理临时挂失。")
    wrap.locator("[data-wrapup-ready]").click()
    expect(second.locator("[data-wrapup]")).to_have_count(0, timeout=LIVE_MS)
    expect(second.locator("[data-presence-badge]")).to_have_attribute("data-presence-badge", "ready")
    page.keyboard.press("Alt+R")  # the first agent owes no wrap-up after a transfer
    expect(page.locator("[data-presence-badge]")).to_have_attribute("data-presence-badge", "ready", timeout=LIVE_MS)
    assert not errors, errors
    second.context.close()
