"""Browser tests of the web shell: a real uvicorn server, Debian's chromium driven by Playwright.

They also refresh the screenshots in docs/screenshots/ (1366x768). Skipped when chromium is missing.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest

from tests.e2e.conftest import PASSWORD, VIEWPORT, running_server, settings_from, shot, sync_api

pytestmark = pytest.mark.e2e
TOTP_SECRET = pyotp.random_base32()


async def _seed(env: dict[str, str]) -> dict[str, Any]:
    from kefu.core import runtime
    from kefu.staff import service

    settings = settings_from(env)
    rt = runtime.build(settings)
    try:
        async with rt.db.transaction() as s:
            team = await service.create_team(s, code="CARD1", name="信用卡服务一组")
            admin = await service.create_staff(
                s, staff_no="A0001", name="王管理", roles=["admin"], password=PASSWORD, must_change_password=False,
                phone="13800001111", email="admin@example.com",
            )  # fmt: skip
            admin.totp_secret = TOTP_SECRET
            admin.totp_enabled = True
            await service.create_staff(s, staff_no="S0001", name="李审计", roles=["auditor"], password=PASSWORD,
                                       must_change_password=False)  # fmt: skip
            await service.create_staff(s, staff_no="C0001", name="张坐席", roles=["agent"], password=PASSWORD,
                                       team_id=team.id, must_change_password=False, phone="13912345678")  # fmt: skip
            return {"team_id": team.id}
    finally:
        await rt.close()
        runtime.install(None)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_server(tmp_path_factory, "e2e", lambda env: asyncio.run(_seed(env))) as srv:
        yield srv


def _sign_in(page: Any, base: str, staff_no: str) -> None:
    page.goto(base + "/login")
    page.fill("#staff_no", staff_no)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def test_admin_creates_and_suspends_staff_auditor_verifies(server: dict[str, Any], page: Any, browser: Any) -> None:
    base = server["base"]
    page.goto(base + "/login")
    sync_api.expect(page.locator("h1")).to_have_text("员工登录")
    shot(page, "login.png")
    _sign_in(page, base, "A0001")
    page.wait_for_url(re.compile(r"/login/totp"))
    page.fill("#code", pyotp.TOTP(TOTP_SECRET).now())
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    sync_api.expect(page.locator("h1")).to_contain_text("王管理")
    sync_api.expect(page.locator('[data-nav="staff"]')).to_be_visible()
    shot(page, "home-admin.png")

    page.click('[data-nav="staff"]')
    page.click("a[href='/staff/new']")
    page.fill("#staff_no", "C0100")
    page.fill("#name", "赵新人")
    page.check("input[name=roles][value=agent]")
    page.select_option("#team_id", str(server["team_id"]))
    page.fill("#password", "First-pass-2026")
    page.fill("#phone", "13600001234")
    page.fill("#email", "zhao@example.com")
    page.click("button:has-text('创建账户')")
    page.wait_for_url(re.compile(r"/staff/\d+\?done=created"))
    staff_id = re.search(r"/staff/(\d+)", page.url).group(1)  # type: ignore[union-attr]
    sync_api.expect(page.locator(".alert-success")).to_contain_text("员工账户已创建")
    sync_api.expect(page.locator("dd.masked").first).to_have_text("136****1234")

    page.fill("#reason", "试用期内暂停")
    page.click("button[value=suspended]")
    page.wait_for_url(re.compile(rf"/staff/{staff_id}\?done=status"))
    sync_api.expect(page.locator(".page-head .badge")).to_have_text("已停用")
    page.fill("#purpose", "核实入职登记信息")
    page.click("button:has-text('查看')")
    sync_api.expect(page.locator("[data-revealed]")).to_have_text("13600001234")
    shot(page, "staff-detail.png")
    page.goto(base + "/staff")
    sync_api.expect(page.locator("table.table tbody tr")).to_have_count(4)
    shot(page, "staff-list.png")

    other = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    audit_page = other.new_page()
    _sign_in(audit_page, base, "S0001")
    audit_page.wait_for_url(base + "/")
    audit_page.click('[data-nav="audit"]')
    audit_page.fill("#f-object_id", staff_id)
    audit_page.click("button:has-text('查询')")
    entries = audit_page.locator(".audit-entry")
    sync_api.expect(entries.first).to_contain_text("pii.reveal")
    sync_api.expect(audit_page.locator(".audit-entry", has_text="staff.suspended")).to_have_count(1)
    sync_api.expect(audit_page.locator(".audit-entry", has_text="staff.create")).to_have_count(1)
    audit_page.locator(".audit-entry", has_text="staff.suspended").locator("summary").click()
    sync_api.expect(audit_page.locator(".audit-entry details[open] pre").first).to_contain_text('"status": "active"')
    shot(audit_page, "audit.png")
    audit_page.click("[data-verify]")
    sync_api.expect(audit_page.locator(".alert-success")).to_contain_text("校验通过")
    other.close()


def test_agent_sees_no_staff_administration(server: dict[str, Any], page: Any) -> None:
    base = server["base"]
    _sign_in(page, base, "C0001")
    page.wait_for_url(base + "/")
    sync_api.expect(page.locator('[data-nav="account"]')).to_be_visible()
    sync_api.expect(page.locator('[data-nav="staff"]')).to_have_count(0)
    sync_api.expect(page.locator('[data-nav="audit"]')).to_have_count(0)
    sync_api.expect(page.locator(".card").first).to_contain_text("信用卡服务一组")
    response = page.goto(base + "/staff")
    assert response is not None
    assert response.status == 403
    sync_api.expect(page.locator("h1")).to_contain_text("无权访问")


def test_language_switch(server: dict[str, Any], page: Any) -> None:
    base = server["base"]
    page.goto(base + "/login")
    page.click(".lang-menu summary")
    page.click("a[data-lang=en]")
    sync_api.expect(page.locator("h1")).to_have_text("Staff sign-in")
    sync_api.expect(page.locator("html")).to_have_attribute("lang", "en")
    shot(page, "login-en.png")
    page.click(".lang-menu summary")
    page.click("a[data-lang=zh-Hant]")
    sync_api.expect(page.locator("h1")).to_have_text("員工登入")
    _sign_in(page, base, "C0001")
    page.wait_for_url(base + "/")
    sync_api.expect(page.locator('[data-nav="account"]')).to_have_text("我的帳戶")
    page.click(".lang-menu summary")
    page.click("a[data-lang=zh-Hans]")
    sync_api.expect(page.locator('[data-nav="account"]')).to_have_text("我的账户")
