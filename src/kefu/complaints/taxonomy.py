"""The complaint taxonomy: the category tree (R5.5: quality, service, general, emergency), business
lines, root causes, responsible parties (R5.3) and the reasons for a risk of escalation beyond the bank
(越级投诉, R5.6). Codes are stored; labels come in the three UI locales.

The category tree can be replaced by ``KEFU_COMPLAINT_CATEGORIES`` (JSON of the same shape as
``CATEGORY_TREE``); the other lists are fixed here because reports compare them across periods.
"""

from __future__ import annotations

from typing import Any

Labels = dict[str, str]


def _l(hans: str, hant: str, en: str) -> Labels:
    return {"zh-Hans": hans, "zh-Hant": hant, "en": en}


CATEGORY_TREE: dict[str, dict[str, Any]] = {
    "quality": {
        "labels": _l("质量类", "質量類", "Quality"),
        "children": {
            "quality.product": {"labels": _l("产品质量", "產品質量", "Product quality")},
            "quality.fee": {"labels": _l("收费定价", "收費定價", "Fees and pricing")},
            "quality.system": {"labels": _l("系统故障", "系統故障", "System fault")},
        },
    },
    "service": {
        "labels": _l("服务类", "服務類", "Service"),
        "children": {
            "service.attitude": {"labels": _l("服务态度", "服務態度", "Staff attitude")},
            "service.wait": {"labels": _l("等候时间", "等候時間", "Waiting time")},
            "service.error": {"labels": _l("操作差错", "操作差錯", "Handling error")},
            "service.promise": {"labels": _l("承诺未兑现", "承諾未兌現", "Broken promise")},
        },
    },
    "general": {
        "labels": _l("一般类", "一般類", "General"),
        "children": {
            "general.policy": {"labels": _l("制度政策", "制度政策", "Policy")},
            "general.advice": {"labels": _l("意见建议", "意見建議", "Suggestion")},
        },
    },
    "emergency": {
        "labels": _l("紧急类", "緊急類", "Emergency"),
        "children": {
            "emergency.fraud": {"labels": _l("盗刷诈骗", "盜刷詐騙", "Fraud")},
            "emergency.outage": {"labels": _l("重大服务中断", "重大服務中斷", "Major outage")},
        },
    },
}

BUSINESS_LINES: dict[str, Labels] = {
    "cards": _l("借记卡", "借記卡", "Debit cards"),
    "accounts": _l("账户", "賬戶", "Accounts"),
    "transfers": _l("转账汇款", "轉賬匯款", "Transfers"),
    "ebanking": _l("电子银行", "電子銀行", "E-banking"),
    "credit_cards": _l("信用卡", "信用卡", "Credit cards"),
    "loans": _l("贷款", "貸款", "Loans"),
    "deposits": _l("存款", "存款", "Deposits"),
    "wealth": _l("理财", "理財", "Wealth management"),
    "forex": _l("外汇", "外匯", "Foreign exchange"),
    "branches": _l("网点服务", "網點服務", "Branches"),
    "service_center": _l("客服中心", "客服中心", "Service center"),
    "other": _l("其他", "其他", "Other"),
}

ROOT_CAUSES: dict[str, Labels] = {
    "product_design": _l("产品设计", "產品設計", "Product design"),
    "fee_policy": _l("收费政策", "收費政策", "Fee policy"),
    "system_fault": _l("系统故障", "系統故障", "System fault"),
    "staff_attitude": _l("员工态度", "員工態度", "Staff attitude"),
    "staff_error": _l("员工差错", "員工差錯", "Staff error"),
    "process_gap": _l("流程缺陷", "流程缺陷", "Process gap"),
    "information_disclosure": _l("信息披露不充分", "信息披露不充分", "Information disclosure"),
    "third_party": _l("第三方原因", "第三方原因", "Third party"),
    "customer_misunderstanding": _l("客户误解", "客戶誤解", "Customer misunderstanding"),
    "fraud": _l("欺诈", "欺詐", "Fraud"),
    "other": _l("其他", "其他", "Other"),
}

RESPONSIBLE_PARTIES: dict[str, Labels] = {
    "service_center": _l("客服中心", "客服中心", "Service center"),
    "branch": _l("网点", "網點", "Branch"),
    "card_center": _l("卡中心", "卡中心", "Card center"),
    "it": _l("信息科技部", "信息科技部", "IT"),
    "product_dept": _l("产品部门", "產品部門", "Product department"),
    "third_party": _l("第三方", "第三方", "Third party"),
    "customer": _l("客户自身", "客戶自身", "Customer"),
    "none": _l("无责任方", "無責任方", "None"),
}

ESCALATION_REASONS: dict[str, Labels] = {
    "threatens_regulator": _l("扬言向监管投诉", "揚言向監管投訴", "Threatens to go to the regulator"),
    "threatens_media": _l("扬言向媒体曝光", "揚言向媒體曝光", "Threatens to go to the media"),
    "repeated_contacts": _l("反复来电", "反覆來電", "Repeated contacts"),
    "large_amount": _l("涉及金额较大", "涉及金額較大", "Large amount"),
    "vulnerable_customer": _l("特殊群体客户", "特殊群體客戶", "Vulnerable customer"),
    "group_complaint": _l("群体性投诉", "群體性投訴", "Group complaint"),
    "other": _l("其他", "其他", "Other"),
}

SEVERITIES: dict[str, Labels] = {
    "low": _l("轻微", "輕微", "Low"),
    "normal": _l("一般", "一般", "Normal"),
    "high": _l("较重", "較重", "High"),
    "major": _l("重大", "重大", "Major"),
}


def tree(settings: Any | None) -> dict[str, dict[str, Any]]:
    """The configured category tree (``settings.complaint_categories``) or the default."""
    custom = getattr(settings, "complaint_categories", None) if settings is not None else None
    return custom if custom else CATEGORY_TREE


def _labels(node: Any, code: str) -> Labels:
    labels = node.get("labels") if isinstance(node, dict) else None
    if not isinstance(labels, dict):
        return _l(code, code, code)
    return {loc: str(labels.get(loc) or labels.get("zh-Hans") or code) for loc in ("zh-Hans", "zh-Hant", "en")}


def categories(settings: Any | None) -> list[dict[str, Any]]:
    """``[{"code", "labels": {zh-Hans, zh-Hant, en}, "children": [{"code", "labels"}]}]`` in tree order."""
    out = []
    for code, node in tree(settings).items():
        children = node.get("children", {}) if isinstance(node, dict) else {}
        out.append({
            "code": code, "labels": _labels(node, code),
            "children": [{"code": c, "labels": _labels(n, c)} for c, n in children.items()],
        })  # fmt: skip
    return out


def leaf_codes(settings: Any | None) -> set[str]:
    """The codes a complaint's category may take (a top-level code without children is a leaf too)."""
    out: set[str] = set()
    for top in categories(settings):
        if top["children"]:
            out.update(c["code"] for c in top["children"])
        else:
            out.add(top["code"])
    return out


def top_of(code: str) -> str:
    """``service.attitude`` → ``service``."""
    return code.split(".", 1)[0]


def category_labels(settings: Any | None) -> dict[str, Labels]:
    """Labels of every category code (top levels and leaves)."""
    out: dict[str, Labels] = {}
    for top in categories(settings):
        out[top["code"]] = top["labels"]
        for child in top["children"]:
            out[child["code"]] = child["labels"]
    return out


def label(mapping_or_code: dict[str, Labels] | str, code: str | None, locale: str) -> str:
    """The label of ``code`` in ``mapping_or_code`` (a dict above, or its name: "business_lines",
    "root_causes", "responsible_parties", "escalation_reasons", "severities", "categories") in
    ``locale``; the code itself when unknown, "" for None."""
    if code is None:
        return ""
    if isinstance(mapping_or_code, str):
        mapping = _NAMED.get(mapping_or_code)
        if mapping is None and mapping_or_code == "categories":
            from kefu.core import runtime

            try:
                settings: Any = runtime.get().settings
            except RuntimeError:
                settings = None
            mapping = category_labels(settings)
        if mapping is None:
            return code
    else:
        mapping = mapping_or_code
    labels = mapping.get(code)
    if not labels:
        return code
    return labels.get(locale) or labels.get("zh-Hans") or code


_NAMED: dict[str, dict[str, Labels]] = {
    "business_lines": BUSINESS_LINES,
    "root_causes": ROOT_CAUSES,
    "responsible_parties": RESPONSIBLE_PARTIES,
    "escalation_reasons": ESCALATION_REASONS,
    "severities": SEVERITIES,
}


def as_dict(settings: Any | None) -> dict[str, Any]:
    """Everything a form needs (GET /api/v1/complaints/taxonomy)."""

    def flat(m: dict[str, Labels]) -> list[dict[str, Any]]:
        return [{"code": k, "labels": v} for k, v in m.items()]

    return {
        "categories": categories(settings),
        "business_lines": flat(BUSINESS_LINES),
        "root_causes": flat(ROOT_CAUSES),
        "responsible_parties": flat(RESPONSIBLE_PARTIES),
        "escalation_reasons": flat(ESCALATION_REASONS),
        "severities": flat(SEVERITIES),
    }
