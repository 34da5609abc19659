"""The web shell as a whole: routes declare permissions, nav follows roles, languages, errors."""

from __future__ import annotations

import json
import string
from pathlib import Path

from kefu.core import i18n
from kefu.core.auth import iter_routes, route_permissions
from tests.factories import make_staff, make_team
from tests.web.helpers import csrf_of, web_login

LOCALE_DIR = Path(i18n.__file__).resolve().parent.parent / "locales"


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_catalogues_have_identical_keys_and_placeholders():
    cats = {loc: json.loads((LOCALE_DIR / f"{loc}.json").read_text(encoding="utf-8")) for loc in i18n.LOCALES}
    keys = {loc: set(c) for loc, c in cats.items()}
    assert keys["zh-Hans"] == keys["zh-Hant"] == keys["en"]
    for key in keys["zh-Hans"]:
        shapes = {loc: _placeholders(cats[loc][key]) for loc in i18n.LOCALES}
        assert shapes["zh-Hans"] == shapes["zh-Hant"] == shapes["en"], key
        assert all(cats[loc][key].strip() for loc in i18n.LOCALES), key


def test_t_falls_back_and_formats():
    assert i18n.t("login.title", "en") == "Staff sign-in"
    assert i18n.t("login.title", "xx") == "员工登录"
    assert i18n.t("no.such.key", "en") == "no.such.key"
    assert "5" in i18n.t("login.error.locked", "zh-Hant", minutes=5)
    assert i18n.choose_locale(None, "en") == "en"
    assert i18n.choose_locale("zh-Hant", "en") == "zh-Hant"
    assert i18n.choose_locale("bogus", None) == "zh-Hans"


async def test_every_page_route_declares_require_or_public(app):
    checked = 0
    for route in iter_routes(app):
        if getattr(route, "path", "").startswith("/static"):
            continue
        if not hasattr(route, "dependant") or not route.endpoint.__module__.startswith("kefu.web"):
            continue
        is_public, perms = route_permissions(route)
        assert is_public or perms, f"{route.path} declares neither require() nor public()"
        checked += 1
    assert checked >= 15


async def test_nav_follows_roles(rt, client):
    agent = await make_staff(rt, roles=["agent"])
    await web_login(client, agent)
    home = (await client.get("/")).text
    assert 'data-nav="account"' in home
    assert 'data-nav="staff"' not in home
    assert 'data-nav="audit"' not in home
    client.cookies.clear()
    admin = await make_staff(rt, roles=["admin"])
    await web_login(client, admin)
    home = (await client.get("/")).text
    assert 'data-nav="staff"' in home
    assert 'data-nav="audit"' not in home
    client.cookies.clear()
    auditor = await make_staff(rt, roles=["auditor"])
    await web_login(client, auditor)
    home = (await client.get("/")).text
    assert 'data-nav="staff"' in home
    assert 'data-nav="audit"' in home


async def test_forbidden_page_is_friendly_and_audited(rt, client):
    agent = await make_staff(rt, roles=["agent"])
    await web_login(client, agent)
    r = await client.get("/staff")
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("text/html")
    assert "无权访问" in r.text
    audit_api = await client.get("/api/v1/audit")  # the API keeps problem+json
    assert audit_api.status_code == 403
    assert audit_api.headers["content-type"].startswith("application/problem+json")


async def test_form_post_without_csrf_token_is_refused(rt, client):
    admin = await make_staff(rt, roles=["admin"])
    await web_login(client, admin)
    r = await client.post("/staff/new", data={"staff_no": "X1", "name": "某某", "roles": ["agent"]})
    assert r.status_code == 403
    assert "表单安全校验未通过" in r.text


async def test_language_switch_changes_text(rt, client):
    r = await client.get("/lang/en", params={"next": "/login"})
    assert r.status_code == 303
    assert r.headers["location"] == "/login"
    assert "kefu_lang=en" in r.headers["set-cookie"]
    page = await client.get("/login")
    assert "Staff sign-in" in page.text
    assert 'lang="en"' in page.text
    await client.get("/lang/zh-Hant")
    page = await client.get("/login")
    assert "員工登入" in page.text
    assert "工號" in page.text
    bad = await client.get("/lang/en", params={"next": "https://evil.example/"})
    assert bad.headers["location"] == "/"


async def test_staff_locale_is_used_without_cookie(rt, client):
    agent = await make_staff(rt, roles=["agent"], locale="en")
    await web_login(client, agent)
    home = await client.get("/")
    assert "Hello," in home.text
    client.cookies.set("kefu_lang", "zh-Hans")
    assert "您好" in (await client.get("/")).text


async def test_home_shows_real_profile(rt, client):
    team = await make_team(rt, name="信用卡一组")
    lead = await make_staff(rt, roles=["team_lead"], team_id=team)
    await web_login(client, lead)
    home = (await client.get("/")).text
    assert "信用卡一组" in home
    assert "班组长" in home
    assert "本次登录时间" in home
    account = (await client.get("/account")).text
    assert "****" in account  # masked phone


async def test_account_two_factor_enrolment_when_signed_in(rt, client):
    import re

    import pyotp

    agent = await make_staff(rt, roles=["agent"])
    await web_login(client, agent)
    page = await client.get("/account/two-factor")
    assert page.status_code == 200
    assert "<svg" in page.text
    m = re.search(r"data-secret>([A-Z2-7 ]+)<", page.text)
    assert m
    r = await client.post(
        "/account/two-factor",
        data={"csrf_token": csrf_of(page.text), "code": pyotp.TOTP(m.group(1).replace(" ", "")).now()},
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/account?done=twofactor"
    assert "已开启" in (await client.get("/account?done=twofactor")).text


async def test_unknown_staff_id_is_a_404_page(rt, client):
    admin = await make_staff(rt, roles=["admin"])
    await web_login(client, admin)
    r = await client.get("/staff/999999")
    assert r.status_code == 404
    assert "找不到" in r.text
    r = await client.get("/staff/not-a-number")
    assert r.status_code == 400
