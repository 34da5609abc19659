"""Demo banking: accounts, cards and a year of transactions for the generated demo customers.

``load`` creates the demo customers (kefu.customers.demo) and their books in the caller's
transaction. The year is simulated in time order so that every movement is a balanced ledger
transaction against the bank's internal account or another demo account, no account ever goes below
its floor (a payment that would is left out, as the bank would refuse it), and each posting carries
the running balance; account balances are the sums of their postings, so ``ledger.verify`` holds.
Rows are written with bulk inserts (a thousand customers and ~70,000 transactions in seconds), and
one audit entry records the load. Account and card numbers use the fictitious 6299 prefix of
kefu.banking.ledger, with a Luhn check digit, encrypted, blind-indexed and masked the same way.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.banking import ledger
from kefu.banking.models import Account, AccountType, Card, CardStatus, LedgerTransaction, Posting
from kefu.core import audit, clock, context, runtime
from kefu.core.crypto import blind_index, mask_card
from kefu.core.errors import Conflict
from kefu.customers import demo as people_demo

Progress = Callable[[str, int, int], None]
BANK = -1  # the bank's internal account in the simulation
CREDIT_LIMIT = {"normal": (10_000, 30_000), "gold": (30_000, 80_000), "platinum": (80_000, 150_000),
                "diamond": (150_000, 300_000), "private": (300_000, 1_000_000)}  # yuan  # fmt: skip
MERCHANTS = ("美团外卖", "京东商城", "淘宝", "星巴克", "中国石化加油站", "盒马鲜生", "滴滴出行", "万达影城", "永辉超市",
             "屈臣氏", "海底捞", "优衣库", "苏宁易购", "麦当劳", "瑞幸咖啡", "全家便利店")  # fmt: skip
TRAVEL = ("携程旅行", "12306铁路客票", "中国国际航空", "华住酒店集团", "东方航空")
COMPANIES = ("华信科技有限公司", "东方制造股份有限公司", "长城物流有限公司", "明德教育集团", "星河医疗集团",
             "蓝海贸易有限公司", "启航软件有限公司", "瑞丰建设工程有限公司")  # fmt: skip
TRANSFER_MEMOS = ("转账", "还钱", "AA聚餐", "红包", "代付", "生日礼金", "借款")


@dataclass
class DemoCaller:
    name: str
    phone: str
    customer_no: str
    pin: str
    tier: str
    locale: str
    answers: list[tuple[str, str]]


@dataclass
class DemoSummary:
    customers: int = 0
    accounts: int = 0
    cards: int = 0
    transactions: int = 0
    postings: int = 0
    refused: int = 0  # generated payments left out because the account could not pay them
    callers: list[DemoCaller] = field(default_factory=list)


@dataclass
class _Acct:
    owner: int
    type: str
    limit: int
    opened_at: dt.datetime
    number: str
    target: int
    balance: int = 0
    count: int = 0


#: an amount in fen, or a rule computing it from the balances at that moment (interest, repayments)
Amount = int | Callable[[list[int]], int]
#: (time, order, ledger kind, memo, from account, to account, amount)
Event = tuple[dt.datetime, int, str, str, int, int, Amount]


def _whole(fen: float, unit: int = 100) -> int:
    """An amount in fen rounded to whole yuan (or another unit)."""
    return int(round(fen / unit)) * unit


def _luhn(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def _number(rng: random.Random, prefix: str, digits: int, taken: set[str], context: str) -> str:
    while True:
        value = _luhn(prefix + "".join(rng.choice("0123456789") for _ in range(digits)))
        bidx = blind_index(value, context=context)
        if bidx not in taken:
            taken.add(bidx)
            return value


class _Year:
    """Builds one customer's events over the last 365 days, in the center's local time."""

    def __init__(self, rng: random.Random, now: dt.datetime, tz: ZoneInfo) -> None:
        self.rng, self.now, self.tz = rng, now, tz
        self.start = now - dt.timedelta(days=365)
        self.events: list[Event] = []
        local = now.astimezone(tz).date().replace(day=1)
        self.months = [(local.year + (local.month - 1 - k) // 12, (local.month - 1 - k) % 12 + 1) for k in range(13)]

    def at(self, day: dt.date, hours: tuple[int, int] = (8, 22)) -> dt.datetime | None:
        t = dt.datetime(day.year, day.month, day.day, self.rng.randint(*hours), self.rng.randrange(60),
                        self.rng.randrange(60), tzinfo=self.tz).astimezone(dt.UTC)  # fmt: skip
        return t if self.start < t < self.now else None

    def random_at(self) -> dt.datetime:
        return self.start + (self.now - self.start) * self.rng.random()

    def add(self, when: dt.datetime | None, kind: str, memo: str, src: int, dst: int, amount: Amount) -> None:
        if when is not None and (not isinstance(amount, int) or amount > 0):
            self.events.append((when, len(self.events), kind, memo, src, dst, amount))

    def monthly(self, day: int, kind: str, memo: str, src: int, dst: int, amount: Callable[[], Amount]) -> None:
        for year, month in self.months:
            self.add(self.at(dt.date(year, month, day)), kind, memo, src, dst, amount())

    def yuan(self, low: float, high: float) -> int:
        return round(self.rng.uniform(low, high) * 100)


def _interest(account: int) -> Callable[[list[int]], int]:
    """Quarterly interest on a demand deposit: 0.35 % a year on the balance at that moment."""
    return lambda bal: max(bal[account], 0) * 35 // 40_000


def _repay(card: int, source: int, limits: list[int]) -> Callable[[list[int]], int]:
    """Pay the card's outstanding balance in full, or as much as the source account can."""
    return lambda bal: min(max(-bal[card], 0), bal[source] + limits[source])


def _plan(year: _Year, p: people_demo.Person, mine: dict[str, int], accts: list[_Acct], others: list[int]) -> None:
    rng, income = year.rng, p.monthly_income
    limits = [a.limit for a in accts]
    sav, cur, cc = mine["savings"], mine.get("current"), mine.get("credit_card")
    year.add(year.start + dt.timedelta(minutes=1), "opening", "期初余额", BANK, sav,
             _whole(income * rng.uniform(0.5, 4)))  # fmt: skip
    if cur is not None:
        year.add(year.start + dt.timedelta(minutes=2), "opening", "期初余额", BANK, cur, year.yuan(5_000, 80_000))
    payday = rng.randint(5, 25)
    memo = {"salary": f"代发工资 {rng.choice(COMPANIES)}", "pension": f"养老金 {p.city}社保中心",
            "allowance": "生活费 家庭汇款", "business": "经营收入"}[p.income_kind]  # fmt: skip
    kind = "salary" if p.income_kind in ("salary", "pension") else "income"
    year.monthly(payday, kind, memo, BANK, sav, lambda: _whole(income * rng.uniform(0.9, 1.1)))
    if p.income_kind == "salary" and rng.random() < 0.6:
        bonus_month = rng.choice([ym for ym in year.months if ym[1] in (1, 2)])
        year.add(year.at(dt.date(*bonus_month, 28)), "salary", "年终奖", BANK, sav, _whole(income * rng.uniform(1, 3)))
    for month in (3, 6, 9, 12):
        y = next((y for y, m in year.months if m == month), year.months[0][0])
        year.add(year.at(dt.date(y, month, 21), (1, 2)), "interest", "活期结息", BANK, sav,
                 _interest(sav))  # fmt: skip
    bill_day = rng.randint(5, 28)
    for k, year_month in enumerate(year.months[::2]):  # electricity every two months, water every four
        when = year.at(dt.date(*year_month, bill_day))
        year.add(when, "utility", f"电费 国网{p.city}供电公司", sav, BANK, year.yuan(80, 700))
        if k % 2 == 0:
            year.add(when, "utility", f"水费 {p.city}自来水公司", sav, BANK, year.yuan(40, 260))
    for _ in range(rng.randint(0, 4)):
        year.add(year.random_at(), "utility", "话费充值 中国移动", sav, BANK, rng.choice((5000, 10000, 20000)))
    for _ in range(rng.randint(0, 3)):
        year.add(year.random_at(), "cash", "ATM取现", sav, BANK, rng.randint(2, 30) * 10_000)
    if others and rng.random() < 0.12:  # rents a flat from another demo customer
        landlord, rent = rng.choice(others), _whole(income * rng.uniform(0.2, 0.4), 100_00)
        year.monthly(rng.randint(1, 5), "transfer", "房租", sav, landlord, lambda: rent)
    for _ in range(rng.randint(1, 4) if others else 0):
        year.add(year.random_at(), "transfer", rng.choice(TRANSFER_MEMOS), sav, rng.choice(others),
                 _whole(income * rng.uniform(0.01, 0.3)))  # fmt: skip
    if cur is not None:
        for _ in range(rng.randint(10, 25)):
            year.add(year.random_at(), "income", f"货款 {rng.choice(COMPANIES)}", BANK, cur, year.yuan(2_000, 60_000))
        for _ in range(rng.randint(10, 25)):
            year.add(year.random_at(), "payment", f"支付货款 {rng.choice(COMPANIES)}", cur, BANK,
                     year.yuan(1_000, 50_000))  # fmt: skip
    if cc is not None:
        year.monthly(rng.randint(5, 25), "repayment", "信用卡还款", sav, cc, lambda: _repay(cc, sav, limits))
        _spend(year, cc, accts[cc].target - 6, income)
    planned = sum(1 for e in year.events if sav in (e[4], e[5])) + 3  # about 3 transfers come in from others
    _spend(year, sav, accts[sav].target - planned, income)


def _spend(year: _Year, account: int, n: int, income: int) -> None:
    """Card payments at merchants (at least a few), sized to the customer's income."""
    for _ in range(max(n, 3)):
        travel = year.rng.random() < 0.08
        merchant = year.rng.choice(TRAVEL if travel else MERCHANTS)
        amount = year.yuan(300, 5_000) if travel else round(year.rng.uniform(15, 0.04 * income / 100 + 30) * 100)
        year.add(year.random_at(), "card_payment", f"消费 {merchant}", account, BANK, amount)


def _simulate(events: list[Event], accts: list[_Acct], bank_balance: int, masks: list[str], bank_mask: str,
              ) -> tuple[list[dict[str, Any]], list[list[tuple[int, int, int, str]]], int, int]:  # fmt: skip
    """Apply the events in time order; returns transactions, their postings, the bank's balance, refusals."""
    bal = [0] * len(accts)
    floor = [-a.limit for a in accts]
    txns: list[dict[str, Any]] = []
    legs: list[list[tuple[int, int, int, str]]] = []
    refused = 0
    for at, _, kind, memo, src, dst, rule in sorted(events, key=lambda e: (e[0], e[1])):
        amount = rule if isinstance(rule, int) else rule(bal)
        if amount <= 0:
            continue
        if src != BANK and bal[src] - amount < floor[src]:
            refused += 1
            continue
        out: list[tuple[int, int, int, str]] = []
        for acct, signed, other in ((src, -amount, dst), (dst, amount, src)):
            if acct == BANK:
                bank_balance += signed
                out.append((BANK, signed, bank_balance, masks[other]))
            else:
                bal[acct] += signed
                accts[acct].count += 1
                out.append((acct, signed, bal[acct], bank_mask if other == BANK else masks[other]))
        txns.append({"kind": kind, "memo": memo[:120], "created_at": at})
        legs.append(out)
    for a, b in zip(accts, bal, strict=True):
        a.balance = b
    return txns, legs, bank_balance, refused


def _card_state(rng: random.Random, now: dt.datetime) -> dict[str, Any]:
    roll, days = rng.random(), runtime.get().settings.banking_temporary_loss_days
    state: dict[str, Any] = {"status": CardStatus.ACTIVE.value, "loss_reported_at": None, "loss_expires_at": None,
                             "formal_loss_at": None}  # fmt: skip
    if roll < 0.04:
        reported = now - dt.timedelta(hours=rng.randint(1, 24 * (days - 1)))
        state.update(status=CardStatus.TEMPORARY_LOSS.value, loss_reported_at=reported,
                     loss_expires_at=reported + dt.timedelta(days=days))  # fmt: skip
    elif roll < 0.06:
        state.update(status=CardStatus.FROZEN.value)
    elif roll < 0.07:
        reported = now - dt.timedelta(days=rng.randint(6, 60))
        state.update(status=CardStatus.FORMAL_LOSS.value, loss_reported_at=reported, formal_loss_at=reported)
    return state


async def load(
    session: AsyncSession, *, customers: int = 1000, seed: int = 20261123, progress: Progress | None = None
) -> DemoSummary:
    """Create ``customers`` demo customers with accounts, cards and a year of transactions (no commit)."""
    rng = random.Random(seed)  # noqa: S311 - generated demo data, not secrets
    now = clock.now()
    tz = ZoneInfo(runtime.get().settings.timezone)
    context.current().actor_label = "demo-loader"
    staff_ids = await people_demo.agent_ids(session)
    if not staff_ids:
        raise Conflict("Load the demo staff first: demo consents are captured by a staff member.")
    people = people_demo.generate(rng, customers, now=now, taken=await people_demo.taken_values(session),
                                  progress=progress)  # fmt: skip
    customer_ids = await people_demo.write(session, people, staff_ids=staff_ids)
    taken_accounts = set((await session.execute(select(Account.account_no_bidx))).scalars().all())
    taken_cards = set((await session.execute(select(Card.card_no_bidx))).scalars().all())
    accts: list[_Acct] = []
    owned: list[dict[str, int]] = []
    for i, p in enumerate(people):
        mine: dict[str, int] = {}
        opened = p.created_at + dt.timedelta(days=rng.randint(0, 30))
        kinds = [(AccountType.SAVINGS.value, 0)]
        if rng.random() < (0.8 if p.income_kind == "business" else 0.25):
            kinds.append((AccountType.CURRENT.value, rng.choice((0, 0, 500_000, 2_000_000, 5_000_000))))
        if rng.random() < (0.1 if p.income_kind == "allowance" else 0.45):
            kinds.append((AccountType.CREDIT_CARD.value, rng.randint(*CREDIT_LIMIT[p.tier]) // 1000 * 100_000))
        for type_, limit in kinds:
            mine[type_] = len(accts)
            number = _number(rng, "6299", 14, taken_accounts, ledger.ACCOUNT_CONTEXT)
            accts.append(_Acct(i, type_, limit, opened, number, target=rng.randint(20, 55)))
        owned.append(mine)
    savings = [m["savings"] for m in owned]
    bank = await ledger.internal_account(session)
    await ledger.lock_accounts(session, [bank.id])
    bank_start = int((await session.execute(select(Account.balance).where(Account.id == bank.id))).scalar_one())
    events: list[Event] = []
    for i, p in enumerate(people):
        year = _Year(rng, now, tz)
        _plan(year, p, owned[i], accts, [s for s in rng.sample(savings, min(8, len(savings))) if s != savings[i]])
        events.extend(year.events)
        if progress is not None and ((i + 1) % 50 == 0 or i + 1 == len(people)):
            progress("transactions", i + 1, len(people))
    masks = [ledger.mask_account(a.number) for a in accts]
    txns, legs, bank_end, refused = _simulate(events, accts, bank_start, masks, bank.account_no_mask)
    account_rows = [
        {"account_no": a.number, "account_no_bidx": ledger.account_bidx(a.number), "account_no_mask": masks[k],
         "customer_id": customer_ids[a.owner], "type": a.type, "currency": "CNY", "overdraft_limit": a.limit,
         "balance": a.balance, "status": "active", "opened_at": a.opened_at}
        for k, a in enumerate(accts)
    ]  # fmt: skip
    account_ids = await people_demo.reserve_ids(session, Account, len(account_rows))
    await session.execute(insert(Account), [{"id": i, **r} for i, r in zip(account_ids, account_rows, strict=True)])
    cards = []
    for k, a in enumerate(accts):
        if a.type == AccountType.CURRENT.value and rng.random() < 0.5:
            continue
        kind = "credit" if a.type == AccountType.CREDIT_CARD.value else "debit"
        number = _number(rng, "629951" if kind == "credit" else "629901", 9, taken_cards, ledger.CARD_CONTEXT)
        issued = a.opened_at + dt.timedelta(days=rng.randint(0, 10))
        state = _card_state(rng, now)
        activated = None if kind == "credit" and state["status"] == "active" and rng.random() < 0.1 else issued
        cards.append({"card_no": number, "card_no_bidx": blind_index(number, context=ledger.CARD_CONTEXT),
                      "card_no_mask": mask_card(number), "account_id": account_ids[k], "kind": kind,
                      "activated_at": activated, "issued_at": issued,
                      "updated_at": state["loss_reported_at"] or issued, **state})  # fmt: skip
    await session.execute(insert(Card), cards)
    batch = 5000
    for start in range(0, len(txns), batch):
        chunk = txns[start : start + batch]
        txn_ids = await people_demo.reserve_ids(session, LedgerTransaction, len(chunk))
        await session.execute(insert(LedgerTransaction), [{"id": i, **t} for i, t in zip(txn_ids, chunk, strict=True)])
        postings = [
            {"transaction_id": tid, "account_id": bank.id if acct == BANK else account_ids[acct], "amount": amount,
             "balance_after": after, "counterparty_mask": cp, "created_at": t["created_at"]}
            for tid, t, out in zip(txn_ids, chunk, legs[start : start + batch], strict=True)
            for acct, amount, after, cp in out
        ]  # fmt: skip
        await session.execute(insert(Posting.__table__), postings)  # type: ignore[arg-type]
        if progress is not None:
            progress("writing ledger", start + len(chunk), len(txns))
    await session.execute(
        update(Account).where(Account.id == bank.id).values(balance=Account.balance + (bank_end - bank_start))
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    summary = DemoSummary(customers=len(people), accounts=len(accts), cards=len(cards), transactions=len(txns),
                          postings=sum(len(o) for o in legs), refused=refused)  # fmt: skip
    await audit.record(
        session, action="demo.load_customers", object_type="demo", object_id=seed,
        after={"customers": summary.customers, "accounts": summary.accounts, "cards": summary.cards,
               "transactions": summary.transactions, "postings": summary.postings, "seed": seed,
               "note": "generated fictitious customers; DEMO ONLY phone-banking PIN rule"},
    )  # fmt: skip
    summary.callers = _callers(people)
    return summary


def _callers(people: list[people_demo.Person], n: int = 5) -> list[DemoCaller]:
    """A few demo callers to try verification with: one of each tier first, then any."""
    picked: list[people_demo.Person] = []
    for tier, _ in people_demo.TIERS:
        picked.extend([p for p in people if p.tier == tier][:1])
    chosen = {p.customer_no for p in picked}
    picked.extend(p for p in people[: n * 2] if p.customer_no not in chosen)
    return [
        DemoCaller(
            p.name, p.phones[0][0], p.customer_no, people_demo.demo_pin(p.customer_no), p.tier, p.locale, p.questions
        )  # fmt: skip
        for p in picked[:n]
    ]
