"""Factories for staff and sign-in; every value is generated, never a real person."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pyotp
from httpx import AsyncClient

from kefu.core import runtime
from kefu.staff import service
from kefu.staff.demo import fake_mobile, fake_name
from kefu.staff.models import Staff

_counter = itertools.count(1)
_rng = random.Random(7)  # generated test data
PASSWORD = "Test-pass-2026x"


async def make_staff(
    rt: runtime.Runtime,
    *,
    roles: list[str],
    team_id: int | None = None,
    password: str = PASSWORD,
    totp: bool = False,
    **kw: Any,
) -> Staff:
    staff_no = kw.pop("staff_no", None) or f"T{next(_counter):05d}"
    async with rt.db.transaction() as s:
        st = await service.create_staff(
            s, staff_no=staff_no, name=kw.pop("name", None) or fake_name(_rng), roles=roles, password=password,
            team_id=team_id, phone=kw.pop("phone", None) or fake_mobile(_rng), must_change_password=False, **kw,
        )  # fmt: skip
        if totp:
            st.totp_secret = pyotp.random_base32()
            st.totp_enabled = True
        staff_id = st.id
    async with rt.db.transaction() as s:
        from kefu.staff import repository

        loaded = await repository.get_staff(s, staff_id)
        assert loaded is not None
        return loaded


async def make_team(rt: runtime.Runtime, code: str | None = None, name: str = "测试组") -> int:
    async with rt.db.transaction() as s:
        t = await service.create_team(s, code=code or f"TT{next(_counter)}", name=name)
        return t.id


async def token_for(client: AsyncClient, staff: Staff, password: str = PASSWORD) -> str:
    body: dict[str, Any] = {"username": staff.staff_no, "password": password}
    if staff.totp_enabled and staff.totp_secret:
        body["totp"] = pyotp.TOTP(staff.totp_secret).now()
    r = await client.post("/api/v1/auth/token", json=body)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


async def auth_headers(client: AsyncClient, staff: Staff, password: str = PASSWORD) -> dict[str, str]:
    return {"Authorization": f"Bearer {await token_for(client, staff, password)}"}
