"""The "Done when" flow of the customers and banking issue in a real browser: an agent finds a caller
by phone, verifies them, sees masked accounts, makes a transfer with read-back, reports a card lost
and releases it; an auditor then finds every step in the audit log. Refreshes the desk screenshots."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import PASSWORD, running_server, settings_from, shot, sync_api

pytestmark = pytest.mark.e2e

PHONE = "13655501234"
PIN = "730518"


async def _seed(env: dict[str, str]) -> dict[str, Any]:
    from kefu.core import runtime
    from kefu.customers import consents, credentials
    from kefu.staff import service
    from tests.customers.helpers import WORDS
    from tests.factories import make_account, make_customer, principal_of

    settings = settings_from(env)
    rt = runtime.build(settings)
    try:
        async with rt.db.transaction() as s:
            agent = await service.create_staff(s, staff_no="C0201", name="陈坐席", roles=["agent"], password=PASSWORD,
                                               must_change_password=False)  # fmt: skip
            await service.create_staff(s, staff_no="S0201", name="周审计", roles=["auditor"], password=PASSWORD,
                                       must_change_password=False)  # fmt: skip
        customer = await make_customer(rt, phone=PHONE, name="林晓雯", tier="gold")
        other = await make_customer(rt, name="赵子轩")
        async with rt.db.transaction() as s:
            for group in ("contact", "marketing"):
                await consents.grant(s, actor=principal_of(agent), customer_id=customer.id, field_group=group,
                                     channel="phone", words_shown=WORDS)  # fmt: skip
            await credentials.set_pin(s, customer_id=customer.id, pin=PIN)
            await credentials.set_questions(s, customer_id=customer.id,
                                            questions=[("您小学的校名？", "实验小学"), ("您的出生城市？", "苏州")])  # fmt: skip
        await make_account(rt, customer_id=customer.id, balance=3_256_080, card="debit")
        await make_account(rt, customer_id=customer.id, type="credit_card", overdraft_limit=5_000_000, card="credit")
        _, payee_no, _ = await make_account(rt, customer_id=other.id, balance=10_000)
        return {"customer_id": customer.id, "payee_no": payee_no}
    finally:
        await rt.close()
        runtime.install(None)


@pytest.fixture(scope="module")
def desk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_server(tmp_path_factory, "desk", lambda env: asyncio.run(_seed(env))) as srv:
        yield srv


def _sign_in(pg: Any, base: str, staff_no: str) -> None:
    pg.goto(base + "/login")
    pg.fill("#staff_no", staff_no)
    pg.fill("#password", PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_url(base + "/")


def test_agent_serves_a_caller_and_the_auditor_sees_every_step(desk_server: dict[str, Any], page: Any,
                                                               browser: Any) -> None:  # fmt: skip
    base, cid = desk_server["base"], desk_server["customer_id"]
    expect = sync_api.expect
    _sign_in(page, base, "C0201")
    page.click('[data-nav="customers"]')
    page.select_option("#kind", "phone")
    page.fill("#q", "136 5550 1234")
    page.click("button:has-text('查询')")
    expect(page.locator("table.table tbody tr")).to_have_count(1)
    expect(page.locator("table.table tbody tr")).to_contain_text("136****1234")
    assert PHONE not in page.content()
    shot(page, "customer-search.png")

    page.click("[data-open-customer]")
    page.wait_for_url(f"{base}/customers/{cid}")
    expect(page.locator("[data-phones]")).to_contain_text("136****1234")
    expect(page.locator("#accounts")).to_contain_text("余额须核实身份")
    assert PHONE not in page.content()
    page.fill("#contact_ref", "CALL-20261123-0042")
    shot(page, "customer-page.png")
    page.click("[data-verify-start]")
    page.wait_for_url(re.compile(r"done=verify_start"))
    page.fill("#pin", PIN)
    page.click("button:has-text('校验密码')")
    expect(page.locator("#verify .alert-success")).to_contain_text("核实通过，当前级别 L2")
    expect(page.locator("[data-verify-level]")).to_have_attribute("data-verify-level", "2")
    page.locator("[data-balance-of]").first.click()
    expect(page.locator("[data-balance]")).to_contain_text("32,560.80")
    page.locator("#verify").scroll_into_view_if_needed()
    shot(page, "verification.png")

    page.click("[data-transfer]")
    page.fill("#to_account_no", desk_server["payee_no"])
    page.fill("#amount", "1500")
    page.fill("#memo", "还款")
    page.click("[data-preview]")
    expect(page.locator("[data-readback] .script")).to_contain_text("1,500.00")
    assert desk_server["payee_no"] not in page.locator("[data-readback] .readback-facts").inner_text()
    shot(page, "transfer-readback.png")
    page.click("[data-execute]")
    expect(page.locator(".alert-success")).to_contain_text("转账成功")
    reference = page.locator("[data-reference]").inner_text()
    assert reference.isdigit()

    page.click("text=返回客户页面")
    page.locator('[data-card-op="temporary-loss"]').first.click()
    expect(page.locator("[data-readback] .script")).to_contain_text("临时挂失")
    shot(page, "card-loss.png")
    page.click("[data-execute]")
    page.wait_for_url(re.compile(r"done=card_loss_temporary"))
    expect(page.locator('[data-card-status="temporary_loss"]')).to_have_count(1)
    page.locator('[data-card-op="release"]').first.click()
    page.click("[data-execute]")
    page.wait_for_url(re.compile(r"done=card_release"))
    expect(page.locator('[data-card-status="temporary_loss"]')).to_have_count(0)

    other = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    auditor = other.new_page()
    _sign_in(auditor, base, "S0201")
    auditor.goto(f"{base}/audit?object_type=customer&object_id={cid}")
    for action in ("customer.view", "banking.balance", "banking.history", "banking.transfer",
                   "banking.card_loss_temporary", "banking.card_release"):  # fmt: skip
        expect(auditor.locator(".audit-entry", has_text=action).first).to_be_visible()
    auditor.goto(f"{base}/audit?action=customer.verify_start")
    expect(auditor.locator(".audit-entry")).to_have_count(1)
    auditor.goto(f"{base}/audit?action=customer.verify")
    expect(auditor.locator(".audit-entry.outcome-ok")).to_have_count(1)
    other.close()
