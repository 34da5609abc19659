"""Demo call scripts: the default greeting, confirmation and closing (in Simplified and Traditional
Chinese and English) and the scenarios of the demo queues (lost card, credit cards, complaints, VIP).

``load`` is idempotent: a script that exists for the same scenario, channel and language is left as it is
(a team lead may have edited it); a scenario whose queues are not configured is skipped.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import context
from kefu.routing import config_service
from kefu.scripts import service
from kefu.scripts.models import CallScript

# (scenario, name, queues, channel, locale, greeting, confirmation, closing, notes)
SCRIPTS: list[tuple[str, str, list[str], str, str, str, str, str, str]] = [
    ("default", "通用话术", [], "phone", "zh-Hans",
     "您好，{customer}，很高兴为您服务，我是客服代表{agent_no}号，请问有什么可以帮您？",
     "为了保障您的账户安全，需要先核实一下您的身份，请问您的证件号码后四位是多少？",
     "请问还有其他可以帮您的吗？感谢您的来电，祝您生活愉快，再见！",
     "全程使用礼貌用语；核实身份前不透露任何账户信息。"),
    ("default", "通用話術", [], "phone", "zh-Hant",
     "您好，{customer}，很高興為您服務，我是客服代表{agent_no}號，請問有什麼可以幫您？",
     "為了保障您的帳戶安全，需要先核實一下您的身分，請問您的證件號碼後四位是多少？",
     "請問還有其他可以幫您的嗎？感謝您的來電，祝您生活愉快，再見！",
     "全程使用禮貌用語；核實身分前不透露任何帳戶資訊。"),
    ("default", "Standard script", [], "phone", "en",
     "Good day {customer}, thank you for calling. This is agent {agent_no}, how may I help you?",
     "To keep your account safe, may I first confirm your identity: the last four digits of your ID, please?",
     "Is there anything else I can help you with? Thank you for calling, goodbye!",
     "Stay polite throughout; give no account details before the identity is confirmed."),
    ("default", "在线客服话术", [], "chat", "zh-Hans",
     "您好，{customer}，我是在线客服{agent_no}号，很高兴为您服务。",
     "为保障账户安全，办理业务前请先完成身份核实。",
     "感谢您的咨询，如有其他问题欢迎随时联系我们。",
     ""),
    ("card_loss", "银行卡挂失", ["cards"], "phone", "zh-Hans",
     "您好，{customer}，我是客服代表{agent_no}号，请问您是需要办理银行卡挂失吗？请不要着急，我马上为您处理。",
     "为了尽快保护您的资金，请提供持卡人证件号码后四位，并确认丢失的是哪一张卡。",
     "您的卡片已经临时挂失，请在五日内携带身份证件到任一网点办理正式挂失和补卡。感谢来电，再见！",
     "先口头挂失（临时），再提示正式挂失时限；询问是否有可疑交易，需要时转欺诈处理。"),
    ("credit_cards", "信用卡业务", ["credit_cards"], "phone", "zh-Hans",
     "您好，{customer}，信用卡专线客服代表{agent_no}号为您服务，请问有什么可以帮您？",
     "为保障您的用卡安全，请提供卡号后四位及持卡人证件号码后四位。",
     "请按时还款以免影响个人征信。感谢您的来电，再见！",
     "涉及额度调整、分期、年费减免时按最新业务公告答复。"),
    ("complaints", "投诉受理", ["complaints"], "phone", "zh-Hans",
     "您好，{customer}，我是客服代表{agent_no}号，非常抱歉给您带来不便，请您详细说说遇到的问题。",
     "为准确登记您的投诉，请确认您的姓名、联系电话，以及希望我们如何处理。",
     "您的投诉已经登记，我们会在规定时限内给您答复，投诉编号会以短信发送给您。感谢您的反馈，再见！",
     "先安抚情绪再记录事实；不承诺处理结果；按要求登记投诉并告知时限。"),
    ("vip", "贵宾服务", ["vip"], "phone", "zh-Hans",
     "尊敬的{customer}，您好！贵宾专线客服代表{agent_no}号竭诚为您服务，请问有什么可以帮您？",
     "为保障您的账户安全，请协助核实您的身份信息。",
     "感谢您一直以来对我行的支持，祝您生活愉快，再见！",
     "优先处理；需要时可直接转接客户经理。"),
]  # fmt: skip


async def load(session: AsyncSession) -> dict[str, Any]:
    """Add the demo scripts that are missing (no commit). Returns ``{"scripts": n added, "skipped": n}``."""
    context.current().actor_label = "demo-loader"
    known = {q.code for q in await config_service.list_queues(session, include_inactive=True)}
    added = skipped = 0
    for scenario, name, queues, channel, locale, greeting, confirmation, closing, notes in SCRIPTS:
        stmt = select(CallScript.id).where(
            CallScript.scenario == scenario, CallScript.channel == channel, CallScript.locale == locale
        )
        if (await session.execute(stmt)).scalar_one_or_none() is not None:
            continue
        if any(q not in known for q in queues):
            skipped += 1
            continue
        await service.create(session, actor=None, data={
            "scenario": scenario, "name": name, "queue_codes": queues, "channel": channel, "locale": locale,
            "greeting": greeting, "confirmation": confirmation, "closing": closing, "notes": notes,
        })  # fmt: skip
        added += 1
    return {"scripts": added, "skipped": skipped}
