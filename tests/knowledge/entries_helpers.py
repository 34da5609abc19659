"""Helpers of the entries tests (lifecycle, import, routes): the knowledge team of a small center and a
way to call service functions in a transaction of their own (generated data only)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kefu.core import runtime
from tests.factories import auth_headers, make_staff, principal_of

T0 = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # 10:00 on 23 November in Shanghai
ANSWER = "1. 登录手机银行，进入“银行卡”页面。\n2. 选择要挂失的卡，点“挂失”。\n3. 按提示验证身份后提交。"

ROLES = {
    "editor": ["kb_editor"], "editor2": ["kb_editor"], "reviewer": ["kb_reviewer"], "reviewer2": ["kb_reviewer"],
    "agent": ["agent"], "sup": ["supervisor"],
}  # fmt: skip


async def team(rt: runtime.Runtime) -> dict[str, Any]:
    """Editors, reviewers, an agent and a supervisor, as staff rows."""
    return {name: await make_staff(rt, roles=roles) for name, roles in ROLES.items()}


def as_(staff: Any) -> Any:
    """The principal of a staff member, for calling services directly."""
    return principal_of(staff)


async def call(rt: runtime.Runtime, fn: Any, *args: Any, **kw: Any) -> Any:
    """``fn(session, *args, **kw)`` in a transaction of its own (committed when it returns)."""
    async with rt.db.transaction() as s:
        return await fn(s, *args, **kw)


async def headers(client: Any, people: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {name: await auth_headers(client, staff) for name, staff in people.items()}


class Notified:
    """Counts ``index.notify_changed`` calls (monkeypatched in its place)."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, _session: Any) -> None:
        self.calls += 1
