"""Online chat in a real browser: a customer opens the widget (/chat), the bot answers from the knowledge base,
the customer asks for an agent; the agent's desktop rings the chat in a tab beside the call, the agent
accepts and replies, the customer sees the reply and who serves them, the customer panel follows the chat's
tab and the agent identifies the visitor by search, the agent ends it and the wrap-up is
owed; the supervisor's wallboard shows the chat channel and the call scripts page lists the scripts.
Refreshes chat-widget.png, desktop-chat.png and scripts.png."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import PASSWORD, context_page, running_server, settings_from, shot, sign_in, sync_api

pytestmark = pytest.mark.e2e
LIVE_MS = 15_000


async def _seed(env: dict[str, str]) -> dict[str, Any]:
    from kefu.core import runtime
    from kefu.knowledge import demo as kb_demo
    from kefu.scripts import demo as scripts_demo
    from kefu.staff import service
    from tests.factories import make_customer
    from tests.web.phone_helpers import setup_routing

    rt = runtime.build(settings_from(env))
    rt.settings.kb_rerank = False
    try:
        async with rt.db.transaction() as s:
            agent = await service.create_staff(s, staff_no="C0501", name="周文", roles=["agent"], password=PASSWORD,
                                               must_change_password=False)  # fmt: skip
            await service.create_staff(s, staff_no="S0501", name="赵主管", roles=["supervisor"], password=PASSWORD,
                                       must_change_password=False)  # fmt: skip
        await setup_routing(rt, agent)
        await make_customer(rt, name="林静怡", phone="13912345601")
        async with rt.db.transaction() as s:
            await kb_demo.seed(s)
            await scripts_demo.load(s)
        return {}
    finally:
        await rt.close()
        runtime.install(None)


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_server(tmp_path_factory, "chat", lambda env: asyncio.run(_seed(env))) as srv:
        yield srv


def test_customer_chats_with_the_bot_then_an_agent_on_the_desktop(chat_server: dict[str, Any], browser: Any) -> None:
    base = chat_server["base"]
    expect = sync_api.expect
    customer = context_page(browser, {"width": 420, "height": 760})
    agent = context_page(browser)
    errors: list[str] = []
    for pg in (customer, agent):
        pg.on("pageerror", lambda exc: errors.append(str(exc)))

    sign_in(agent, base, "C0501", "/phone")
    agent.click("[data-go-ready]")
    expect(agent.locator("[data-presence-badge]")).to_have_attribute("data-presence-badge", "ready", timeout=LIVE_MS)

    # the customer opens the widget and asks the bot
    customer.goto(base + "/chat")
    expect(customer.locator("h1")).to_have_text("在线客服")
    customer.fill("#cw-name", "林女士")
    customer.click("[data-begin]")
    log = customer.locator("[data-log]")
    expect(log.locator('[data-sender="bot"]').first).to_contain_text("智能客服")
    customer.fill("#cw-text", "借记卡丢了怎么挂失")
    customer.press("#cw-text", "Enter")
    expect(log.locator('[data-sender="customer"]')).to_have_count(1, timeout=LIVE_MS)
    expect(log.locator('[data-sender="bot"]')).to_have_count(2, timeout=LIVE_MS)
    expect(log.locator('[data-sender="bot"]').last).to_contain_text("挂失")
    shot(customer, "chat-widget.png")

    # hand-over: the chat rings on the agent's desktop, beside the (empty) call area
    customer.click("[data-handover]")
    expect(log.locator('[data-sender="system"]').last).to_contain_text("转接人工", timeout=LIVE_MS)
    accept = agent.locator("[data-dd-accept]")
    expect(accept).to_be_visible(timeout=LIVE_MS)
    accept.click()
    expect(log.locator('[data-sender="system"]').last).to_contain_text("C0501", timeout=LIVE_MS)
    panel = agent.locator("[data-digital-desk]")
    expect(panel.locator(".dd-msg.customer").first).to_contain_text(
        "借记卡丢了怎么挂失", timeout=LIVE_MS
    )  # bot part kept
    agent.fill("[data-dd-text]", "您好，我是客服 C0501，请问卡是什么时候丢失的？")
    agent.click("[data-dd-send]")
    expect(log.locator('[data-sender="agent"]')).to_contain_text("什么时候丢失", timeout=LIVE_MS)
    customer.fill("#cw-text", "今天上午，在地铁上")
    customer.press("#cw-text", "Enter")
    expect(panel.locator(".dd-msg.customer").last).to_contain_text("今天上午", timeout=LIVE_MS)

    # the customer panel and the script follow the chat tab; the agent finds the visitor and confirms them
    panel.locator("[data-dd-tab]").first.click()
    side = agent.locator('[data-section="customer"]')
    expect(side.locator("[data-about]")).to_be_visible(timeout=LIVE_MS)
    expect(agent.locator('[data-section="script"]')).to_contain_text("在线", timeout=LIVE_MS)
    side.locator("#desk-find-kind").select_option("name")
    side.locator("[data-find-input]").fill("林")
    side.locator("[data-find-input]").press("Enter")
    pick = agent.locator("[data-pick-customer]")
    expect(pick).to_have_count(1, timeout=LIVE_MS)
    pick.click()
    expect(side.locator("[data-customer-panel]")).to_be_visible(timeout=LIVE_MS)
    expect(side.locator("[data-about]")).to_be_visible()
    expect(panel.locator("[data-dd-tab]").first).to_contain_text("林", timeout=LIVE_MS)  # the tab names them now
    shot(agent, "desktop-chat.png")

    # the agent ends the chat: the customer is told, the wrap-up is owed on the desktop
    agent.click("[data-dd-close]")
    expect(customer.locator("[data-status]")).to_have_text("对话已结束", timeout=LIVE_MS)
    expect(panel.locator(".dd-tab.wrap_up")).to_have_count(1, timeout=LIVE_MS)

    # the supervisor's wallboard counts the chat on its channel row; the call scripts are edited at /scripts
    board = context_page(browser)
    board.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(board, base, "S0501", "/wallboard")
    expect(board.locator("body")).to_contain_text("在线", timeout=LIVE_MS)
    board.goto(base + "/scripts")
    expect(board.locator("main")).to_contain_text("default")
    shot(board, "scripts.png")
    assert not errors, errors
