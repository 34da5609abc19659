"""Demo customers: generated people (never real ones) with consents, phones and phone-banking secrets.

Everything here is made up from a seeded random generator: names come from the staff demo's
``fake_name``, resident ID numbers have the GB 11643 layout (a real county code, a birth date, a
sequence number whose parity gives the gender, and the ISO 7064 MOD 11-2 check digit) but are drawn
at random, mobile numbers use real prefixes with random digits, e-mails use the reserved
``.example`` domain. The rows are written in bulk through the models (not through the audited
per-customer services, which would take minutes for a thousand people) with the same invariants:
a consent record for every field group stored that needs one, blind indexes under the service's
contexts, and credentials hashed with Argon2id.

DEMO ONLY: the phone-banking PIN of a demo customer is the last 6 digits of the customer number, so
that a tester can verify any demo caller. Because the rule is public, the demo secrets are hashed
with a reduced Argon2id cost (the parameters travel inside each hash, so verification works as usual).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import clock
from kefu.core.crypto import blind_index, mask_name
from kefu.core.errors import ValidationFailed
from kefu.customers.credentials import check_pin_policy, normalise_answer
from kefu.customers.fields import FIELD_GROUPS, legal_bases
from kefu.customers.models import Customer, CustomerConsent, CustomerCredential, CustomerPhone
from kefu.customers.service import ID_CONTEXT, PHONE_CONTEXT
from kefu.staff.demo import SURNAMES, fake_mobile, fake_name
from kefu.staff.passwords import hasher

COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "慕容", "司徒", "令狐")

# (county-level code, province, city, district): real codes, so the numbers look plausible
REGIONS = [
    ("110101", "北京市", "", "东城区"), ("110105", "北京市", "", "朝阳区"), ("110108", "北京市", "", "海淀区"),
    ("310104", "上海市", "", "徐汇区"), ("310115", "上海市", "", "浦东新区"), ("120101", "天津市", "", "和平区"),
    ("500103", "重庆市", "", "渝中区"), ("440106", "广东省", "广州市", "天河区"),
    ("440304", "广东省", "深圳市", "福田区"), ("440305", "广东省", "深圳市", "南山区"),
    ("330106", "浙江省", "杭州市", "西湖区"), ("330203", "浙江省", "宁波市", "海曙区"),
    ("320102", "江苏省", "南京市", "玄武区"), ("320506", "江苏省", "苏州市", "吴中区"),
    ("510107", "四川省", "成都市", "武侯区"), ("420106", "湖北省", "武汉市", "武昌区"),
    ("430102", "湖南省", "长沙市", "芙蓉区"), ("610113", "陕西省", "西安市", "雁塔区"),
    ("370102", "山东省", "济南市", "历下区"), ("370202", "山东省", "青岛市", "市南区"),
    ("350203", "福建省", "厦门市", "思明区"), ("410105", "河南省", "郑州市", "金水区"),
    ("210102", "辽宁省", "沈阳市", "和平区"), ("230103", "黑龙江省", "哈尔滨市", "南岗区"),
    ("340104", "安徽省", "合肥市", "蜀山区"), ("360102", "江西省", "南昌市", "东湖区"),
    ("530102", "云南省", "昆明市", "五华区"), ("450103", "广西壮族自治区", "南宁市", "青秀区"),
]  # fmt: skip
STREETS = ("人民路", "解放路", "中山路", "建设路", "和平路", "长江路", "文化路", "新华路", "光明街", "学府路")

# occupation -> (income kind, monthly income range in yuan)
OCCUPATIONS: list[tuple[str, str, int, int]] = [
    ("软件工程师", "salary", 15000, 40000), ("教师", "salary", 6000, 15000), ("医生", "salary", 10000, 30000),
    ("公务员", "salary", 7000, 15000), ("销售经理", "salary", 8000, 30000), ("会计", "salary", 6000, 15000),
    ("护士", "salary", 6000, 12000), ("工厂技术员", "salary", 5000, 9000), ("外卖骑手", "salary", 5000, 10000),
    ("律师", "salary", 15000, 60000), ("自由职业", "business", 4000, 20000), ("个体经营者", "business", 5000, 50000),
    ("企业主", "business", 30000, 200000), ("退休人员", "pension", 3000, 8000), ("学生", "allowance", 1500, 3000),
]  # fmt: skip
TIERS = [("normal", 70), ("gold", 15), ("platinum", 8), ("diamond", 5), ("private", 2)]
TIER_FACTOR = {"normal": 1.0, "gold": 1.5, "platinum": 2.5, "diamond": 4.0, "private": 8.0}
LOCALES = [("zh-Hans", 85), ("zh-Hant", 10), ("en", 5)]
TAGS = ("基金意向", "房贷需求", "出境游", "养老规划", "子女教育", "信用卡分期", "保险需求", "贵金属")
QUESTIONS: list[tuple[str, Sequence[str]]] = [
    ("您母亲的姓氏是？", SURNAMES),
    ("您小学所在的城市是？", ("北京", "上海", "广州", "成都", "武汉", "西安", "杭州", "南京", "长沙", "济南")),
    ("您最喜欢的水果是？", ("苹果", "香蕉", "荔枝", "西瓜", "葡萄", "橙子", "芒果", "草莓")),
    ("您第一只宠物的名字是？", ("旺财", "咪咪", "豆豆", "小白", "球球", "花花", "黑子", "团团")),
]
CONSENT_WORDS = {
    "identity": "本行依法保存您的身份证件信息，用于身份核实和反洗钱客户尽职调查。请问您是否同意？",
    "contact": "为便于就您的业务与您联系并向您发送验证码，本行将保存并使用您提供的手机号码、电子邮箱和联系地址。"
    "请问您是否同意？",
    "profile": "为评估产品是否适合您，本行将保存您的职业和收入区间，仅用于适当性评估。请问您是否同意？",
    "marketing": "本行希望根据您的需求向您推荐合适的产品，并通过您指定的联系方式与您联系。您可随时撤回此同意。"
    "请问您是否同意？",
}
CHANNEL_SUFFIX = {"phone": "（坐席朗读，客户口头同意）", "branch": "（客户已签字确认）",
                  "app": "［我已阅读并同意］", "web": "［我已阅读并同意］"}  # fmt: skip
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_check_digit(body: str) -> str:
    """GB 11643 check character (ISO 7064 MOD 11-2) of the first 17 digits."""
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


def valid_resident_id(value: str) -> bool:
    if len(value) != 18 or not value[:17].isdigit() or value[17] not in "0123456789X":
        return False
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return id_check_digit(value[:17]) == value[17]


def demo_pin(customer_no: str) -> str:
    """DEMO ONLY: a demo customer's phone-banking PIN is the last 6 digits of the customer number."""
    return customer_no[-6:]


@dataclass
class Consent:
    group: str
    channel: str
    captured_at: dt.datetime
    expires_at: dt.datetime | None = None
    withdrawn_at: dt.datetime | None = None


@dataclass
class Person:
    customer_no: str
    name: str
    gender: str
    birth_date: str
    id_number: str
    phones: list[tuple[str, str]]
    tier: str
    locale: str
    occupation: str
    income_kind: str
    monthly_income: int  # fen
    created_at: dt.datetime
    city: str
    email: str | None = None
    address: str | None = None
    profile: bool = False  # occupation and income band stored (profile consent given)
    tags: list[str] = field(default_factory=list)
    marketing_contact: str | None = None
    consents: list[Consent] = field(default_factory=list)
    questions: list[tuple[str, str]] = field(default_factory=list)

    @property
    def income_band(self) -> str:
        yearly = self.monthly_income * 12 // 100
        for limit, band in ((50_000, "lt50k"), (100_000, "50k-100k"), (300_000, "100k-300k"), (1_000_000, "300k-1m")):
            if yearly < limit:
                return band
        return "gt1m"


def _weighted(rng: random.Random, choices: list[tuple[str, int]]) -> str:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def _name(rng: random.Random) -> str:
    name = fake_name(rng)
    if rng.random() < 0.03:
        return rng.choice(COMPOUND_SURNAMES) + name[1:]
    return name


def _id_number(rng: random.Random, region: str, birth: dt.date, male: bool) -> str:
    seq = rng.randrange(500) * 2 + (1 if male else 0)
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + id_check_digit(body)


def _customer_no(rng: random.Random, taken: set[str]) -> str:
    while True:
        no = f"C{rng.randrange(10**10):010d}"
        try:
            check_pin_policy(demo_pin(no))
        except ValidationFailed:
            continue
        if no not in taken:
            taken.add(no)
            return no


def _unique(make: Any, taken: set[str], context: str) -> str:
    """A generated value whose blind index is not in ``taken`` (then added to it)."""
    while True:
        value = str(make())
        bidx = blind_index(value, context=context)
        if bidx not in taken:
            taken.add(bidx)
            return value


def _consent(rng: random.Random, group: str, at: dt.datetime) -> Consent:
    channel = rng.choices(["phone", "branch", "app", "web"], weights=[40, 30, 20, 10])[0]
    return Consent(group, channel, at)


def generate(
    rng: random.Random, count: int, *, now: dt.datetime, taken: dict[str, set[str]], progress: Any = None
) -> list[Person]:
    """``count`` people; ``taken`` (see ``taken_values``) holds what is already used and is updated."""
    identity_needs_consent = "identity" not in legal_bases()
    today = clock.local(now).date()
    people: list[Person] = []
    for i in range(count):
        male = rng.random() < 0.5
        occupation, kind, low, high = rng.choice(OCCUPATIONS)
        age = rng.randint(19, 24) if kind == "allowance" else rng.randint(60, 80) if kind == "pension" else None
        birth = today - dt.timedelta(days=365 * (age or rng.randint(23, 59)) + rng.randrange(365))
        code, province, city, district = rng.choice(REGIONS)
        tier = _weighted(rng, TIERS)
        income = int(rng.randint(low, high) * (TIER_FACTOR[tier] if kind != "allowance" else 1)) * 100
        created = now - dt.timedelta(days=rng.randint(400, 3650), seconds=rng.randrange(86400))
        no = _customer_no(rng, taken["customer_no"])
        phones = [(_unique(lambda: fake_mobile(rng), taken["phone"], PHONE_CONTEXT), "mobile")]
        if rng.random() < 0.1:
            phones.append((_unique(lambda: fake_mobile(rng), taken["phone"], PHONE_CONTEXT), "work"))
        p = Person(
            customer_no=no, name=_name(rng), gender="M" if male else "F", birth_date=birth.isoformat(),
            id_number=_unique(functools.partial(_id_number, rng, code, birth, male), taken["id_number"], ID_CONTEXT), phones=phones,
            tier=tier, locale=_weighted(rng, LOCALES), occupation=occupation, income_kind=kind,
            monthly_income=income, created_at=created, city=city or province,
        )  # fmt: skip
        if identity_needs_consent:
            p.consents.append(_consent(rng, "identity", created))
        p.consents.append(_consent(rng, "contact", created))
        if rng.random() < 0.6:
            p.email = f"{no.lower()}@kefu-demo.example"
        if rng.random() < 0.8:
            p.address = (f"{province}{city}{district}{rng.choice(STREETS)}{rng.randint(1, 999)}号"
                         f"{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元{rng.randint(1, 32)}0{rng.randint(1, 6)}室")  # fmt: skip
        if rng.random() < 0.55:
            p.profile = True
            p.consents.append(_consent(rng, "profile", created))
        roll = rng.random()
        if roll < 0.3:
            at = max(created + (now - created) * rng.uniform(0.2, 0.95), now - dt.timedelta(days=1000))
            consent = _consent(rng, "marketing", at)
            consent.expires_at = at + dt.timedelta(days=3 * 365)
            p.consents.append(consent)
            p.tags = sorted(rng.sample(TAGS, rng.randint(1, 3)))
            p.marketing_contact = p.email or phones[0][0]
        elif roll < 0.34:  # consented once, then withdrew: the marketing fields were erased
            at = created + (now - created) * rng.uniform(0.1, 0.5)
            consent = _consent(rng, "marketing", at)
            consent.withdrawn_at = at + (now - at) * rng.uniform(0.1, 0.9)
            p.consents.append(consent)
        p.questions = [(q, rng.choice(answers)) for q, answers in rng.sample(QUESTIONS, 3)]
        people.append(p)
        if progress is not None and ((i + 1) % 50 == 0 or i + 1 == count):
            progress("customers", i + 1, count)
    return people


async def taken_values(session: AsyncSession) -> dict[str, set[str]]:
    """What stored customers already use: customer numbers, and the blind indexes of phones and ID numbers
    (so a demo caller's phone or ID number finds exactly one customer)."""
    nos = set((await session.execute(select(Customer.customer_no))).scalars().all())
    phones = set((await session.execute(select(CustomerPhone.phone_bidx))).scalars().all())
    ids = set((await session.execute(select(Customer.id_number_bidx))).scalars().all())
    return {"customer_no": nos, "phone": phones, "id_number": {i for i in ids if i}}


async def write(session: AsyncSession, people: list[Person], *, staff_ids: list[int]) -> list[int]:
    """Write the people with their phones, consents and credentials; returns their customer ids."""
    rows = [
        {
            "customer_no": p.customer_no, "name": p.name, "name_mask": mask_name(p.name), "gender": p.gender,
            "birth_date": p.birth_date, "id_type": "resident_id", "id_number": p.id_number,
            "id_number_bidx": blind_index(p.id_number, context=ID_CONTEXT), "email": p.email, "address": p.address,
            "occupation": p.occupation if p.profile else None, "income_band": p.income_band if p.profile else None,
            "tier": p.tier, "locale": p.locale, "tags": json.dumps(p.tags, ensure_ascii=False),
            "marketing_contact": p.marketing_contact, "status": "active", "merged_into_id": None,
            "created_at": p.created_at, "updated_at": p.created_at,
        }
        for p in people
    ]  # fmt: skip
    ids = await reserve_ids(session, Customer, len(rows))
    await session.execute(insert(Customer), [{"id": i, **row} for i, row in zip(ids, rows, strict=True)])
    phones, consents, creds = [], [], []
    pin_hasher = hasher(1, 1024)
    for k, (cid, p) in enumerate(zip(ids, people, strict=True)):
        for j, (number, label) in enumerate(p.phones):
            phones.append({"customer_id": cid, "phone": number, "phone_bidx": blind_index(number, context=PHONE_CONTEXT),
                           "label": label, "is_primary": j == 0, "created_at": p.created_at})  # fmt: skip
        for c in p.consents:
            group = FIELD_GROUPS[c.group]
            consents.append({
                "customer_id": cid, "field_group": c.group, "purpose": group.purpose, "scope": group.scope,
                "channel": c.channel, "words_shown": CONSENT_WORDS[c.group] + CHANNEL_SUFFIX[c.channel],
                "captured_by": staff_ids[k % len(staff_ids)], "captured_at": c.captured_at,
                "expires_at": c.expires_at, "withdrawn_at": c.withdrawn_at,
                "withdrawn_by": staff_ids[(k + 1) % len(staff_ids)] if c.withdrawn_at else None,
                "withdrawn_channel": "phone" if c.withdrawn_at else None,
                "withdrawn_note": "客户来电要求停止产品推荐" if c.withdrawn_at else None,
            })  # fmt: skip
        questions = [{"question": q, "answer_hash": pin_hasher.hash(normalise_answer(a))} for q, a in p.questions]
        creds.append({
            "customer_id": cid, "pin_hash": pin_hasher.hash(demo_pin(p.customer_no)), "pin_set_at": p.created_at,
            "pin_failures": 0, "pin_locked_until": None, "questions": json.dumps(questions, ensure_ascii=False),
            "created_at": p.created_at, "updated_at": p.created_at,
        })  # fmt: skip
    await session.execute(insert(CustomerPhone), phones)
    await session.execute(insert(CustomerConsent), consents)
    await session.execute(insert(CustomerCredential), creds)
    return ids


async def reserve_ids(session: AsyncSession, model: Any, n: int) -> list[int]:
    """``n`` fresh primary keys of ``model``'s table, so bulk inserts need no RETURNING round trip per row:
    from the sequence on PostgreSQL; on SQLite the transaction began IMMEDIATE and holds the write lock,
    so the ids after the largest one stay free until it commits."""
    if n == 0:
        return []
    table = model.__tablename__
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        stmt = text(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, :n)")  # noqa: S608 - table name from the model
        return [int(i) for i in (await session.execute(stmt, {"n": n})).scalars().all()]
    top = int((await session.execute(select(func.coalesce(func.max(model.id), 0)))).scalar_one())
    return list(range(top + 1, top + n + 1))


async def agent_ids(session: AsyncSession) -> list[int]:
    """Staff who captured the demo consents: the agents (any staff when there is no agent)."""
    from kefu.staff.models import Staff, StaffRole

    ids = await session.execute(
        select(StaffRole.staff_id).where(StaffRole.role == "agent").order_by(StaffRole.staff_id)
    )
    found = list(ids.scalars().all())
    if not found:
        found = list((await session.execute(select(Staff.id).order_by(Staff.id))).scalars().all())
    return found
