"""Sign-in through the pages: password, lockout, CSRF, the two-factor step, enrolment, sign-out."""

from __future__ import annotations

import re

import pyotp

from kefu.core import audit
from kefu.core.auth import SESSION_COOKIE
from kefu.staff import repository
from tests.factories import PASSWORD, make_staff
from tests.web.helpers import csrf_of, post_login, web_login


async def test_login_page_is_chinese_by_default(client):
    r = await client.get("/login")
    assert r.status_code == 200
    assert "员工登录" in r.text
    assert "工号" in r.text
    assert 'lang="zh-Hans"' in r.text
    assert "kefu_csrf" in r.headers["set-cookie"]


async def test_login_success_sets_session_cookie(rt, client):
    agent = await make_staff(rt, roles=["agent"])
    r = await post_login(client, agent.staff_no)
    assert r.status_code == 303
    assert r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    home = await client.get("/")
    assert home.status_code == 200
    assert agent.name in home.text
    assert agent.staff_no in home.text


async def test_wrong_password_shows_message_and_keeps_staff_no(rt, client):
    agent = await make_staff(rt, roles=["agent"])
    r = await post_login(client, agent.staff_no, "Wrong-pass-123")
    assert r.status_code == 401
    assert "工号或密码错误" in r.text
    assert f'value="{agent.staff_no}"' in r.text
    assert SESSION_COOKIE not in r.headers.get("set-cookie", "")


async def test_lockout_is_counted_and_shown(rt, client):
    agent = await make_staff(rt, roles=["agent"])
    for _ in range(rt.settings.lockout_threshold - 1):
        r = await post_login(client, agent.staff_no, "Wrong-pass-123")
        assert r.status_code == 401
    r = await post_login(client, agent.staff_no, "Wrong-pass-123")
    assert r.status_code == 423
    assert "账户已锁定" in r.text
    r = await post_login(client, agent.staff_no, PASSWORD)  # even the right password is refused now
    assert r.status_code == 423
    async with rt.db.transaction() as s:
        staff = await repository.get_staff(s, agent.id)
        assert staff is not None
        assert staff.locked_until is not None
        assert (await audit.verify(s)).ok


async def test_login_without_csrf_token_is_refused(rt, client):
    agent = await make_staff(rt, roles=["agent"])
    await client.get("/login")
    r = await client.post("/login", data={"staff_no": agent.staff_no, "password": PASSWORD})
    assert r.status_code == 403
    assert "表单安全校验未通过" in r.text
    r = await client.post("/login", data={"staff_no": agent.staff_no, "password": PASSWORD, "csrf_token": "forged"})
    assert r.status_code == 403


async def test_totp_step(rt, client):
    rt.settings.totp_required_roles = ["admin"]
    admin = await make_staff(rt, roles=["admin"], totp=True)
    r = await post_login(client, admin.staff_no)
    assert r.status_code == 303
    assert r.headers["location"] == "/login/totp"
    assert "kefu_pending=" in r.headers["set-cookie"]
    assert (await client.get("/")).status_code == 303  # a pending sign-in is not a session
    page = await client.get("/login/totp")
    assert "双因素验证" in page.text
    token = csrf_of(page.text)
    bad = await client.post("/login/totp", data={"code": "000000", "csrf_token": token})
    assert bad.status_code == 401
    assert "动态验证码错误" in bad.text
    assert admin.totp_secret
    ok = await client.post("/login/totp", data={"code": pyotp.TOTP(admin.totp_secret).now(), "csrf_token": token})
    assert ok.status_code == 303
    assert ok.headers["location"] == "/"
    home = await client.get("/")
    assert home.status_code == 200
    assert admin.name in home.text
    # the pending step cannot be replayed
    again = await client.get("/login/totp")
    assert again.status_code == 303
    assert "expired" in again.headers["location"]


async def test_enrolment_flow(rt, client):
    rt.settings.totp_required_roles = ["admin"]
    admin = await make_staff(rt, roles=["admin"])
    r = await post_login(client, admin.staff_no)
    assert r.headers["location"] == "/login/enrol"
    page = await client.get("/login/enrol")
    assert page.status_code == 200
    assert "<svg" in page.text
    assert "设置双因素验证" in page.text
    secret = re.search(r"data-secret>([A-Z2-7 ]+)<", page.text)
    assert secret
    key = secret.group(1).replace(" ", "")
    reload = await client.get("/login/enrol")  # a reload keeps the same key
    assert secret.group(1) in reload.text
    bad = await client.post("/login/enrol", data={"code": "123456", "csrf_token": csrf_of(page.text)})
    assert bad.status_code == 401
    assert "验证码不匹配" in bad.text
    ok = await client.post("/login/enrol", data={"code": pyotp.TOTP(key).now(), "csrf_token": csrf_of(page.text)})
    assert ok.status_code == 303
    assert ok.headers["location"] == "/"
    async with rt.db.transaction() as s:
        staff = await repository.get_staff(s, admin.id)
        assert staff is not None
        assert staff.totp_enabled


async def test_logout_needs_csrf_and_ends_session(rt, client):
    agent = await make_staff(rt, roles=["agent"])
    token = await web_login(client, agent)
    refused = await client.post("/logout")
    assert refused.status_code == 403
    r = await client.post("/logout", data={"csrf_token": token})
    assert r.status_code == 303
    assert r.headers["location"] == "/login"
    client.cookies.clear()
    assert (await client.get("/")).status_code == 303


async def test_unauthenticated_page_redirects_to_login_with_next(client):
    r = await client.get("/staff?q=abc")
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=%2Fstaff%3Fq%3Dabc")
    login = await client.get(r.headers["location"])
    assert 'name="next" value="/staff?q=abc"' in login.text


async def test_open_redirect_is_refused(rt, client):
    agent = await make_staff(rt, roles=["agent"])
    page = await client.get("/login")
    r = await client.post(
        "/login",
        data={"staff_no": agent.staff_no, "password": PASSWORD, "csrf_token": csrf_of(page.text),
              "next": "//evil.example/"},
    )  # fmt: skip
    assert r.headers["location"] == "/"


async def test_must_change_password_redirects_every_page(rt, client):
    agent = await make_staff(rt, roles=["agent"])
    async with rt.db.transaction() as s:
        staff = await repository.get_staff(s, agent.id)
        assert staff is not None
        staff.must_change_password = True
    r = await post_login(client, agent.staff_no)
    assert r.status_code == 303
    for path in ("/", "/account", "/staff"):
        r = await client.get(path)
        assert r.status_code in (303, 403)
        if r.status_code == 303:
            assert r.headers["location"] == "/account/password"
    page = await client.get("/account/password")
    assert page.status_code == 200
    assert "请先修改初始密码" in page.text
    token = csrf_of(page.text)
    mismatch = await client.post("/account/password", data={"csrf_token": token, "current_password": PASSWORD,
                                                             "new_password": "New-pass-2027a", "confirm_password": "x"})  # fmt: skip
    assert mismatch.status_code == 422
    assert "不一致" in mismatch.text
    same = await client.post("/account/password", data={"csrf_token": token, "current_password": PASSWORD,
                                                         "new_password": PASSWORD, "confirm_password": PASSWORD})  # fmt: skip
    assert "不能与当前密码相同" in same.text
    weak = await client.post("/account/password", data={"csrf_token": token, "current_password": PASSWORD,
                                                         "new_password": "short", "confirm_password": "short"})  # fmt: skip
    assert weak.status_code == 422
    assert "不符合要求" in weak.text
    ok = await client.post("/account/password", data={"csrf_token": token, "current_password": PASSWORD,
                                                       "new_password": "New-pass-2027a", "confirm_password": "New-pass-2027a"})  # fmt: skip
    assert ok.status_code == 303
    assert ok.headers["location"] == "/account?done=password"
    assert (await client.get("/")).status_code == 200
