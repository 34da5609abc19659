"""Helpers for the page tests: read CSRF tokens from HTML and sign in through the login form."""

from __future__ import annotations

import re

import pyotp
from httpx import AsyncClient, Response

from kefu.staff.models import Staff
from tests.factories import PASSWORD

_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


def csrf_of(html: str) -> str:
    m = _CSRF.search(html)
    assert m, "no csrf_token field on the page"
    return m.group(1)


async def post_login(client: AsyncClient, staff_no: str, password: str = PASSWORD) -> Response:
    page = await client.get("/login")
    assert page.status_code == 200
    return await client.post(
        "/login", data={"staff_no": staff_no, "password": password, "csrf_token": csrf_of(page.text), "next": "/"}
    )


async def web_login(client: AsyncClient, staff: Staff, password: str = PASSWORD) -> str:
    """Sign in through the pages (with the TOTP step when enabled); returns the session's CSRF token."""
    r = await post_login(client, staff.staff_no, password)
    assert r.status_code == 303, r.text
    if r.headers["location"].startswith("/login/totp"):
        page = await client.get("/login/totp")
        assert staff.totp_secret
        r = await client.post(
            "/login/totp", data={"code": pyotp.TOTP(staff.totp_secret).now(), "csrf_token": csrf_of(page.text)}
        )
        assert r.status_code == 303, r.text
    assert r.headers["location"] == "/"
    home = await client.get("/")
    assert home.status_code == 200, home.text
    return csrf_of(home.text)
