"""Demo center: teams and staff of every role, with generated (never real) names and passwords."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass

import pyotp
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import context
from kefu.staff import repository as repo
from kefu.staff import service

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国文辉玉兰晨宇浩然子涵欣怡梓萱思远嘉怡俊杰雨婷"

TEAMS = [
    ("T-SAV", "储蓄业务组", "Savings and deposits"),
    ("T-CARD", "信用卡组", "Credit cards"),
    ("T-EBANK", "电子银行组", "E-banking"),
    ("T-LOAN", "贷款业务组", "Loans"),
    ("T-CMP", "投诉处理组", "Complaints"),
    ("T-QA", "质检培训组", "Quality and training"),
]

# (staff_no, roles, team code)
ACCOUNTS: list[tuple[str, list[str], str | None]] = [
    ("A0001", ["admin"], None),
    ("S0001", ["supervisor"], None),
    ("U0001", ["auditor"], None),
    ("W0001", ["wfm_planner"], None),
    ("Q0001", ["qa_inspector"], "T-QA"),
    ("K0001", ["kb_editor"], "T-QA"),
    ("K0002", ["kb_reviewer"], "T-QA"),
    ("C0001", ["complaint_handler"], "T-CMP"),
    ("C0002", ["complaint_handler"], "T-CMP"),
    ("L1001", ["team_lead", "agent"], "T-SAV"),
    ("L1002", ["team_lead", "agent"], "T-CARD"),
    ("L1003", ["team_lead", "agent"], "T-EBANK"),
    ("L1004", ["team_lead", "agent"], "T-LOAN"),
]
AGENTS_PER_TEAM = 4


@dataclass
class DemoAccount:
    staff_no: str
    name: str
    roles: list[str]
    team: str | None
    password: str
    totp_secret: str | None


def fake_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def fake_mobile(rng: random.Random) -> str:
    return rng.choice(["138", "139", "150", "158", "186", "188", "135", "177"]) + f"{rng.randrange(10**8):08d}"


def demo_password() -> str:
    return "Demo-" + secrets.token_urlsafe(8) + str(secrets.randbelow(10))


async def load(session: AsyncSession, *, seed: int = 20261123) -> list[DemoAccount]:
    """Create the demo center. Returns the accounts with their one-time-shown secrets."""
    ctx = context.current()
    ctx.actor_label = "demo-loader"
    rng = random.Random(seed)  # noqa: S311 - generated demo names, not secrets
    team_ids: dict[str, int] = {}
    for code, name, desc in TEAMS:
        existing = await repo.get_team_by_code(session, code)
        team_ids[code] = (existing or await service.create_team(session, code=code, name=name, description=desc)).id
    accounts = list(ACCOUNTS)
    n = 10001
    for code in ("T-SAV", "T-CARD", "T-EBANK", "T-LOAN"):
        for _ in range(AGENTS_PER_TEAM):
            accounts.append((str(n), ["agent"], code))
            n += 1
    out: list[DemoAccount] = []
    from kefu.core import runtime

    required = set(runtime.get().settings.totp_required_roles)
    for staff_no, roles, team in accounts:
        name = fake_name(rng)
        if await repo.get_staff_by_no(session, staff_no) is not None:
            continue
        password = demo_password()
        s = await service.create_staff(
            session, staff_no=staff_no, name=name, roles=roles, password=password,
            team_id=team_ids[team] if team else None, phone=fake_mobile(rng),
            email=f"{staff_no.lower()}@kefu-demo.example", must_change_password=False,
        )  # fmt: skip
        secret = None
        if required & set(roles):
            secret = pyotp.random_base32()
            s.totp_secret = secret
            s.totp_enabled = True
        out.append(DemoAccount(staff_no, name, roles, team, password, secret))
    await session.flush()
    return out
