"""Notices to the complainant (R5.2 acknowledgement with the promised date, R5.4 progress at each plan node,
and every change of the regulator's clock: 《银行业保险业消费投诉处理管理办法》 extension / pause / restart
notices).

``send`` writes one outbox message per channel the complainant has (SMS if a phone, e-mail if an address;
neither: a ``letter`` notice with no message, which staff print and post) and one ``Notice`` row each, plus
a timeline entry. Outbox rows are part of the caller's transaction (convention 2): a rollback leaves no
message and no notice, and SMS delivery starts only after commit (``channels.sms``).

Texts are the i18n keys ``complaint.notice.<kind>`` (and ``complaint.notice.subject``) in the complaint's
locale. A key missing from the catalogue falls back to the built-in texts below (the same wording), so
notices never go out as a bare key.
"""

from __future__ import annotations

import datetime as dt
import string
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.channels import email as email_channel
from kefu.channels import sms as sms_channel
from kefu.complaints.common import timeline
from kefu.complaints.models import Complaint, Notice
from kefu.core import audit, clock, i18n, runtime

KINDS = ("acknowledgement", "not_accepted", "extension", "pause", "resume", "restart", "progress", "decision",
         "closed", "reopened", "merged")  # fmt: skip
MESSAGE_KIND = "complaint_notice"

_HANS = {
    "subject": "投诉{number}处理通知",
    "acknowledgement": "尊敬的客户：您的投诉已受理，编号{number}。给您带来不便，我们深表歉意。我们将在{due_date}前"
    "将处理结果告知您，其间如有进展会及时与您联系。",
    "not_accepted": "尊敬的客户：很抱歉，您的投诉（编号{number}）未能受理，原因：{reason}。如有疑问，欢迎致电我们的"
    "客服热线，我们会耐心为您解答。",
    "extension": "尊敬的客户：您的投诉（编号{number}）情况较为复杂，我们需要更多时间核实，处理期限延长至{due_date}，"
    "原因：{reason}。给您带来不便，敬请谅解。",
    "pause": "尊敬的客户：您的投诉（编号{number}）需由第三方进行鉴定或检测（{reason}），其间不计入处理期限。鉴定完成后"
    "我们会立即继续处理并告知您。",
    "resume": "尊敬的客户：您的投诉（编号{number}）已恢复处理，我们将在{due_date}前告知处理结果。感谢您的耐心等待。",
    "restart": "尊敬的客户：我们已收到您就投诉（编号{number}）提供的新情况，将重新核实，处理期限更新为{due_date}。"
    "感谢您的配合。",
    "progress": "尊敬的客户：您的投诉（编号{number}）有新进展：{measure}。{outcome}我们会继续跟进，直至问题解决。",
    "decision": "尊敬的客户：您的投诉（编号{number}）已有处理结果：{decision_summary}。如您对结果有异议，请告知我们。"
    "再次为给您带来的不便致歉。",
    "closed": "尊敬的客户：您的投诉（编号{number}）已办结。感谢您的理解与支持，欢迎继续对我们的服务提出宝贵意见。",
    "reopened": "尊敬的客户：您的投诉（编号{number}）已重新处理，我们将在{due_date}前告知处理结果。给您带来不便，"
    "深表歉意。",
    "merged": "尊敬的客户：您的投诉（编号{number}）与投诉{primary}属同一事项，已合并处理，后续进展将以编号{primary}"
    "通知您。",
}
_HANT = {
    "subject": "投訴{number}處理通知",
    "acknowledgement": "尊敬的客戶：您的投訴已受理，編號{number}。給您帶來不便，我們深表歉意。我們將在{due_date}前"
    "將處理結果告知您，其間如有進展會及時與您聯繫。",
    "not_accepted": "尊敬的客戶：很抱歉，您的投訴（編號{number}）未能受理，原因：{reason}。如有疑問，歡迎致電我們的"
    "客服熱線，我們會耐心為您解答。",
    "extension": "尊敬的客戶：您的投訴（編號{number}）情況較為複雜，我們需要更多時間核實，處理期限延長至{due_date}，"
    "原因：{reason}。給您帶來不便，敬請諒解。",
    "pause": "尊敬的客戶：您的投訴（編號{number}）需由第三方進行鑑定或檢測（{reason}），其間不計入處理期限。鑑定完成後"
    "我們會立即繼續處理並告知您。",
    "resume": "尊敬的客戶：您的投訴（編號{number}）已恢復處理，我們將在{due_date}前告知處理結果。感謝您的耐心等待。",
    "restart": "尊敬的客戶：我們已收到您就投訴（編號{number}）提供的新情況，將重新核實，處理期限更新為{due_date}。"
    "感謝您的配合。",
    "progress": "尊敬的客戶：您的投訴（編號{number}）有新進展：{measure}。{outcome}我們會繼續跟進，直至問題解決。",
    "decision": "尊敬的客戶：您的投訴（編號{number}）已有處理結果：{decision_summary}。如您對結果有異議，請告知我們。"
    "再次為給您帶來的不便致歉。",
    "closed": "尊敬的客戶：您的投訴（編號{number}）已辦結。感謝您的理解與支持，歡迎繼續對我們的服務提出寶貴意見。",
    "reopened": "尊敬的客戶：您的投訴（編號{number}）已重新處理，我們將在{due_date}前告知處理結果。給您帶來不便，"
    "深表歉意。",
    "merged": "尊敬的客戶：您的投訴（編號{number}）與投訴{primary}屬同一事項，已合併處理，後續進展將以編號{primary}"
    "通知您。",
}
_EN = {
    "subject": "Your complaint {number}",
    "acknowledgement": "Dear customer, we have accepted your complaint, number {number}, and we are sorry for the "
    "trouble. We will let you know our decision by {due_date} and keep you informed in the meantime.",
    "not_accepted": "Dear customer, we are sorry that we cannot accept your complaint {number}: {reason}. If you "
    "have questions, please call our service hotline.",
    "extension": "Dear customer, your complaint {number} needs more time to look into. We now expect to reply by "
    "{due_date}. Reason: {reason}. We apologise for the wait.",
    "pause": "Dear customer, your complaint {number} needs an outside appraisal or test ({reason}); that time does "
    "not count towards our deadline. We will continue as soon as it is done and let you know.",
    "resume": "Dear customer, we are handling your complaint {number} again and will reply by {due_date}. Thank "
    "you for your patience.",
    "restart": "Dear customer, thank you for the new information on your complaint {number}. We will look into it "
    "again and reply by {due_date}.",
    "progress": "Dear customer, there is progress on your complaint {number}: {measure}. {outcome} We will keep "
    "following it up until it is resolved.",
    "decision": "Dear customer, here is our decision on your complaint {number}: {decision_summary}. If you do not "
    "agree, please tell us. We apologise again for the trouble.",
    "closed": "Dear customer, your complaint {number} is now closed. Thank you for your understanding; we welcome "
    "your feedback on our service at any time.",
    "reopened": "Dear customer, we are handling your complaint {number} again and will reply by {due_date}. We are "
    "sorry for the trouble.",
    "merged": "Dear customer, your complaint {number} concerns the same matter as complaint {primary}; we now "
    "handle them together and will write to you under number {primary}.",
}
#: the built-in texts (the same wording as the catalogue keys ``complaint.notice.*``)
BUILTIN: dict[str, dict[str, str]] = {"zh-Hans": _HANS, "zh-Hant": _HANT, "en": _EN}


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def _fmt(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def text_for(key: str, locale: str, params: dict[str, Any]) -> str:
    """The notice text ``complaint.notice.<key>`` in ``locale`` with ``params`` filled in (missing ones blank)."""
    loc = i18n.normalise(locale) or i18n.DEFAULT_LOCALE
    full = f"complaint.notice.{key}"
    if i18n.has(full, loc):
        template = i18n.catalogue(loc)[full]
    else:
        template = BUILTIN.get(loc, _HANS).get(key) or _HANS.get(key, full)
    values = _Blank({k: _fmt(v) for k, v in params.items()})
    return string.Formatter().vformat(template, (), values)


#: free-text parameters and how much of each a notice quotes: an SMS stays a few segments long, an e-mail or
#: letter quotes more (the complainant hears the whole decision from the handler anyway)
FREE_TEXT = ("reason", "measure", "outcome", "decision_summary")
SMS_QUOTE = 70
LONG_QUOTE = 300


def _cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def params_for(complaint: Complaint, params: dict[str, Any] | None, *, quote: int = LONG_QUOTE) -> dict[str, Any]:
    out: dict[str, Any] = {"number": complaint.number, "due_date": complaint.due_date}
    out.update(params or {})
    for key in FREE_TEXT:
        if isinstance(out.get(key), str):
            out[key] = _cut(out[key], quote)
    return out


async def send(
    session: AsyncSession, *, complaint: Complaint, kind: str, params: dict[str, Any] | None = None
) -> list[Notice]:
    """Queue the ``kind`` notice on every channel the complainant has (in the caller's transaction)."""
    if kind not in KINDS:
        raise ValueError(f"unknown notice kind {kind!r}")
    values = params_for(complaint, params)
    locale = complaint.locale or i18n.DEFAULT_LOCALE
    body = text_for(kind, locale, values)
    now = clock.now()
    notices: list[Notice] = []
    if complaint.complainant_phone:
        signature = runtime.get().settings.sms_signature
        short = text_for(kind, locale, params_for(complaint, params, quote=SMS_QUOTE))
        msg = await sms_channel.get_port().send(session, recipient=complaint.complainant_phone,
                                                body=signature + short, kind=MESSAGE_KIND,
                                                customer_id=complaint.customer_id)  # fmt: skip
        notices.append(Notice(complaint_id=complaint.id, kind=kind, channel="sms", message_id=msg.id, created_at=now))
    if complaint.complainant_email:
        msg = await email_channel.get_port().send(session, recipient=complaint.complainant_email,
                                                  subject=text_for("subject", locale, values), body=body,
                                                  kind=MESSAGE_KIND, customer_id=complaint.customer_id)  # fmt: skip
        notices.append(Notice(complaint_id=complaint.id, kind=kind, channel="email", message_id=msg.id, created_at=now))
    if not notices:  # no phone and no e-mail: staff print the letter from the case page
        notices.append(Notice(complaint_id=complaint.id, kind=kind, channel="letter", message_id=None, created_at=now))
    session.add_all(notices)
    await session.flush()
    channels = ", ".join(n.channel for n in notices)
    await timeline(session, complaint, "notice", f"notice {kind}: {channels}", detail=body)
    await audit.record(session, action="complaint.notice", object_type="complaint", object_id=complaint.id,
                       after={"kind": kind, "channels": [n.channel for n in notices], "locale": locale})  # fmt: skip
    return notices


def letter_text(complaint: Complaint, notice: Notice, params: dict[str, Any] | None = None) -> str:
    """The text of a ``letter`` notice, for printing (same wording as the SMS/e-mail)."""
    return text_for(notice.kind, complaint.locale or i18n.DEFAULT_LOCALE, params_for(complaint, params))
