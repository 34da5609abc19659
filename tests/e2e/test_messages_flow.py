"""SMS nobody has answered, in a real browser: a customer texts the service number while no agent serves them;
the agent opens 待回复消息 from the menu, takes the message, reads the thread on the contact page and answers
it from the reply form; the message leaves the list. Refreshes messages.png."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import PASSWORD, context_page, running_server, settings_from, shot, sign_in, sync_api

pytestmark = pytest.mark.e2e
SECRET = "e2e-sms-webhook-secret"


async def _seed(env: dict[str, str]) -> dict[str, Any]:
    from kefu.core import runtime
    from kefu.staff import service

    env["KEFU_SMS_WEBHOOK_SECRET"] = SECRET
    rt = runtime.build(settings_from(env))
    try:
        async with rt.db.transaction() as s:
            await service.create_staff(s, staff_no="C0601", name="钱晓", roles=["agent"], password=PASSWORD,
                                       must_change_password=False)  # fmt: skip
        return {}
    finally:
        await rt.close()
        runtime.install(None)


@pytest.fixture(scope="module")
def sms_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_server(tmp_path_factory, "sms", lambda env: asyncio.run(_seed(env))) as srv:
        yield srv


def _text_in(base: str, text: str, msg_id: str) -> None:
    from kefu.channels.router import sms_signature

    raw = json.dumps({"from": "13700135699", "to": "95588", "text": text, "id": msg_id}, ensure_ascii=False).encode()
    ts = str(int(time.time()))
    r = httpx.post(base + "/api/v1/channels/sms/inbound", content=raw, timeout=10,
                   headers={"content-type": "application/json", "X-Kefu-Timestamp": ts,
                            "X-Kefu-Signature": sms_signature(SECRET, ts, raw)})  # fmt: skip
    assert r.status_code == 200, r.text


def test_an_agent_takes_and_answers_an_unanswered_sms(sms_server: dict[str, Any], browser: Any) -> None:
    base = sms_server["base"]
    expect = sync_api.expect
    _text_in(base, "你好，我的网银登录不了，提示密码错误", "e2e-1")
    agent = context_page(browser)
    errors: list[str] = []
    agent.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(agent, base, "C0601", "/")
    agent.click('nav a[href="/messages"]')
    row = agent.locator("[data-awaiting]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("无人负责")
    expect(row).not_to_contain_text("13700135699")  # masked
    shot(agent, "messages.png")
    row.locator("[data-take]").click()
    expect(agent.locator("[data-channel-messages]")).to_contain_text("网银登录不了")
    expect(agent.locator(".alert-success")).to_contain_text("已接手")
    agent.fill("#cr-text", "")
    agent.click("[data-reply-send]")  # the browser asks for the text first (required)
    expect(agent.locator("#cr-text")).to_be_focused()
    agent.fill("#cr-text", "您好，请在网银登录页点击“忘记密码”重置，或致电客服热线。")
    agent.click("[data-reply-send]")
    expect(agent.locator(".alert-success")).to_contain_text("回复已提交发送")
    expect(agent.locator("[data-channel-messages] [data-direction=outbound]")).to_have_count(1)
    agent.goto(base + "/messages")
    expect(agent.locator("[data-awaiting]")).to_have_count(0)
    expect(agent.locator("main")).to_contain_text("没有待回复的消息")
    assert not errors, errors
