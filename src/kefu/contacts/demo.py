"""Demo and seed data of the contacts domain: a bank's wrap-up category tree.

``seed_categories`` is idempotent: it inserts the categories whose code is missing and leaves the
others (and any an operator renamed or deactivated) alone.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts import repository as repo
from kefu.contacts.models import WrapupCategory
from kefu.core import audit, clock

Node = tuple[str, str, str, str, tuple["Node", ...]]  # code, zh-Hans, zh-Hant, en, children

CATEGORIES: tuple[Node, ...] = (
    ("account", "账户/储蓄", "賬戶/儲蓄", "Accounts and savings", (
        ("account.open", "开户咨询", "開戶諮詢", "Account opening", ()),
        ("account.balance", "余额与明细", "餘額與明細", "Balance and transactions", ()),
        ("account.rates", "存款利率", "存款利率", "Deposit rates", ()),
        ("account.freeze", "账户冻结/解冻", "賬戶凍結/解凍", "Account freeze / unfreeze", ()),
    )),
    ("card", "银行卡", "銀行卡", "Bank cards", (
        ("card.loss", "挂失", "掛失", "Loss report", ()),
        ("card.release", "解挂", "解掛", "Loss release", ()),
        ("card.activate", "激活", "啟用", "Activation", ()),
        ("card.replace", "补换卡", "補換卡", "Replacement", ()),
    )),
    ("credit_card", "信用卡", "信用卡", "Credit cards", (
        ("credit_card.bill", "账单", "賬單", "Statement", ()),
        ("credit_card.limit", "额度", "額度", "Credit limit", ()),
        ("credit_card.instalment", "分期", "分期", "Instalments", ()),
        ("credit_card.fee", "年费", "年費", "Annual fee", ()),
    )),
    ("loan", "贷款", "貸款", "Loans", (
        ("loan.mortgage", "住房贷款", "住房貸款", "Mortgage", ()),
        ("loan.consumer", "消费贷款", "消費貸款", "Consumer loan", ()),
        ("loan.repayment", "还款", "還款", "Repayment", ()),
    )),
    ("ebanking", "电子银行", "電子銀行", "E-banking", (
        ("ebanking.mobile", "手机银行", "手機銀行", "Mobile banking", ()),
        ("ebanking.online", "网上银行", "網上銀行", "Online banking", ()),
        ("ebanking.password", "密码重置", "密碼重設", "Password reset", ()),
    )),
    ("forex", "外汇", "外匯", "Foreign exchange", (
        ("forex.rate", "汇率查询", "匯率查詢", "Exchange rates", ()),
        ("forex.exchange", "购汇/结汇", "購匯/結匯", "Currency purchase / sale", ()),
    )),
    ("transfer", "转账汇款", "轉賬匯款", "Transfers and remittances", (
        ("transfer.failed", "转账失败", "轉賬失敗", "Failed transfer", ()),
        ("transfer.limit", "转账限额", "轉賬限額", "Transfer limits", ()),
        ("transfer.crossborder", "跨境汇款", "跨境匯款", "Cross-border remittance", ()),
    )),
    ("complaint", "投诉建议", "投訴建議", "Complaints and suggestions", (
        ("complaint.service", "服务投诉", "服務投訴", "Service complaint", ()),
        ("complaint.business", "业务投诉", "業務投訴", "Product complaint", ()),
        ("complaint.suggestion", "意见建议", "意見建議", "Suggestion", ()),
    )),
    ("other", "其他", "其他", "Other", ()),
)  # fmt: skip


async def seed_categories(session: AsyncSession) -> int:
    """Insert the missing demo categories; returns how many were inserted."""
    now = clock.now()
    inserted: list[str] = []

    async def add(nodes: tuple[Node, ...], parent_id: int | None) -> None:
        for sort, (code, hans, hant, en, children) in enumerate(nodes, start=1):
            existing = await repo.category_by_code(session, code)
            if existing is None:
                existing = WrapupCategory(
                    parent_id=parent_id, code=code, name_zh_hans=hans, name_zh_hant=hant, name_en=en, active=True,
                    sort=sort * 10, created_at=now, updated_at=now,
                )  # fmt: skip
                session.add(existing)
                await session.flush()
                inserted.append(code)
            await add(children, existing.id)

    await add(CATEGORIES, None)
    if inserted:
        await audit.record(session, action="wrapup_category.seed", object_type="wrapup_category",
                           object_id="demo", after={"inserted": len(inserted)})  # fmt: skip
    return len(inserted)
