"""Complaint pages through httpx (HTML checks on structure, ids and data attributes; the catalogue's
texts are not asserted): who may open the inbox, the registration form and a case page; registering from
a contact (the phone wrap-up link); a case moved through the workflow from its page, with illegal steps
and bad input shown on the page (never a 500); the clock forms (extension request and approval by
someone else, pause, resume, new facts); evidence uploads, links and notes; merge and reveal; the public
form with its anonymous CSRF token, validation, consent and rate limit. Generated data only."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from httpx import AsyncClient

from kefu.core import clock
from kefu.staff.models import Staff
from tests.complaints.conftest import T0
from tests.contacts.conftest import handled
from tests.factories import make_customer, make_staff
from tests.web.helpers import csrf_of, web_login

MATTER = "客户反映信用卡年费在已减免的情况下仍被扣收，要求退还并说明原因。"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def frozen() -> Any:
    clock.freeze(T0)
    yield T0
    clock.freeze(None)


async def as_user(client: AsyncClient, staff: Staff) -> str:
    client.cookies.clear()
    return await web_login(client, staff)


def case_id_of(location: str) -> int:
    m = re.match(r"^/complaints/(\d+)\?done=", location)
    assert m, location
    return int(m.group(1))


async def register(client: AsyncClient, csrf: str, **fields: Any) -> int:
    data = {"csrf_token": csrf, "channel": "phone", "complainant_name": "测试客户甲", "complainant_phone": "13800138000",
            "matter": MATTER, "business_line": "credit_cards", "category": "quality.fee", "severity": "normal",
            "locale": "zh-Hans", **fields}  # fmt: skip
    r = await client.post("/complaints/new", data=data)
    assert r.status_code == 303, r.text[:2000]
    return case_id_of(r.headers["location"])


async def post(client: AsyncClient, url: str, csrf: str, expect: int = 303, **data: Any) -> Any:
    r = await client.post(url, data={"csrf_token": csrf, **data})
    assert r.status_code == expect, (url, r.status_code, r.text[:3000])
    if expect != 303:
        assert "alert-error" in r.text, url  # the message is on the page
    return r


def status_of(html: str) -> str:
    m = re.search(r'<header class="card cp-head[^"]*" id="top" data-case="\d+" data-status="([a-z_]+)"', html)
    assert m, html[:500]
    return m.group(1)


async def test_who_may_open_which_complaint_page(rt: Any, client: AsyncClient, frozen: Any) -> None:
    agent = await make_staff(rt, roles=["agent"])
    agent2 = await make_staff(rt, roles=["agent"])
    handler = await make_staff(rt, roles=["complaint_handler"])
    auditor = await make_staff(rt, roles=["auditor"])
    admin = await make_staff(rt, roles=["admin"])

    for path in ("/complaints", "/complaints/new", "/complaints/1"):
        r = await client.get(path)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/login?next="), path

    csrf = await as_user(client, agent)
    page = await client.get("/complaints")
    assert page.status_code == 200, page.text
    assert "/static/complaints.css" in page.text
    assert 'data-scope="registered"' not in page.text  # a single tab is not shown as tabs
    assert "data-register" in page.text
    assert (await client.get("/complaints/new")).status_code == 200
    case_id = await register(client, csrf)
    own = await client.get(f"/complaints/{case_id}")
    assert own.status_code == 200
    assert "data-no-actions" in own.text
    assert 'data-action="accept"' not in own.text
    assert "data-note" in own.text  # the registrar may add what the complainant says later

    await as_user(client, agent2)
    assert (await client.get(f"/complaints/{case_id}")).status_code == 404  # not theirs: does not exist

    await as_user(client, handler)
    inbox = await client.get("/complaints?scope=unassigned")
    assert inbox.status_code == 200
    for scope in ("mine", "unassigned", "escalated", "all", "registered"):
        assert f'data-scope="{scope}"' in inbox.text
    assert f'data-complaint="{case_id}"' in inbox.text
    case = await client.get(f"/complaints/{case_id}")
    assert 'data-action="accept"' in case.text
    assert 'data-action="refuse"' in case.text

    await as_user(client, auditor)
    assert (await client.get("/complaints?scope=all")).status_code == 200
    assert (await client.get(f"/complaints/{case_id}")).status_code == 200
    assert (await client.get("/complaints/new")).status_code == 403  # auditors read, never register

    await as_user(client, admin)
    for path in ("/complaints", "/complaints/new", f"/complaints/{case_id}"):
        assert (await client.get(path)).status_code == 403, path


async def test_register_from_a_contact_with_the_callers_number(rt: Any, client: AsyncClient, frozen: Any) -> None:
    """R5.1: a complaint taken on a call: ?contact=ID fills the channel and customer; the caller's number
    is used for the notices without being shown."""
    agent = await make_staff(rt, roles=["agent"])
    customer = await make_customer(rt, name="测试客户乙")
    contact = await handled(rt, agent.id, customer_id=customer.id, caller_number="13912345678")
    csrf = await as_user(client, agent)

    form = await client.get(f"/complaints/new?contact={contact.id}")
    assert form.status_code == 200
    assert f'data-from-contact="{contact.id}"' in form.text
    assert f'data-customer="{customer.id}"' in form.text
    assert "13912345678" not in form.text
    assert "139****5678" in form.text
    assert 'name="use_caller" value="1" checked' in form.text

    bad = await client.post("/complaints/new", data={"csrf_token": csrf, "contact_id": str(contact.id), "channel": "phone",
                                                     "matter": "", "business_line": "cards", "category": "quality.fee",
                                                     "use_caller": "1"})  # fmt: skip
    assert bad.status_code == 422
    assert "alert-error" in bad.text
    assert f'data-from-contact="{contact.id}"' in bad.text  # the form comes back as it was

    case_id = await register(client, csrf, contact_id=str(contact.id), complainant_name="", complainant_phone="",
                             use_caller="1")  # fmt: skip
    page = await client.get(f"/complaints/{case_id}?done=registered")
    assert page.status_code == 200
    assert "139****5678" in page.text
    assert "13912345678" not in page.text
    assert f'href="/contacts/{contact.id}"' in page.text

    letter = await client.post("/complaints/new", data={"csrf_token": csrf, "channel": "letter", "received_at": "昨天",
                                                        "complainant_name": "测试客户丁", "complainant_phone": "13800138001",
                                                        "matter": MATTER, "business_line": "cards", "category": "quality.fee"})  # fmt: skip
    assert letter.status_code == 422
    assert "alert-error" in letter.text
    assert (await client.post("/complaints/999999/note", data={"csrf_token": csrf, "text": "补充"})).status_code == 404

    other = await make_staff(rt, roles=["agent"])
    await as_user(client, other)
    hidden = await client.get(f"/complaints/new?contact={contact.id}")
    assert hidden.status_code == 200
    assert "alert-error" in hidden.text


async def test_a_case_moves_through_the_workflow_from_its_page(rt: Any, client: AsyncClient, frozen: Any) -> None:
    """R5.2–R5.4 / issue 6: accept (acknowledgement notice), investigate, findings, a plan node completed
    (progress notice), decide, the customer confirms with satisfaction, close. Illegal steps and bad
    input come back on the page with the service's message."""
    agent = await make_staff(rt, roles=["agent"])
    handler = await make_staff(rt, roles=["complaint_handler"])
    csrf = await as_user(client, agent)
    case_id = await register(client, csrf)
    base = f"/complaints/{case_id}"

    csrf = await as_user(client, handler)
    r = await client.post(f"{base}/accept", data={"handler_id": str(handler.id)})
    assert r.status_code == 403  # no CSRF token: refused
    await post(client, f"{base}/accept", csrf, handler_id=str(handler.id))
    page = (await client.get(base)).text
    assert status_of(page) == "accepted"
    assert 'data-notice="acknowledgement"' in page
    assert re.search(r'data-due="\d{4}-\d{2}-\d{2}"', page)
    inbox = (await client.get("/complaints?scope=mine")).text
    assert f'data-complaint="{case_id}"' in inbox
    assert 'data-clock="ok"' in inbox

    await post(client, f"{base}/move", csrf, expect=422, to="closed")  # not a plain move
    await post(client, f"{base}/move", csrf, to="investigating")
    await post(client, f"{base}/decide", csrf, expect=409, decision="退还年费并致歉。")  # findings first (R5.3)
    await post(client, f"{base}/findings", csrf, expect=422, responsible_party="nobody", root_cause="fee_policy")
    await post(client, f"{base}/findings", csrf, responsible_party="card_center", root_cause="fee_policy",
               note="年费减免规则未同步到扣费系统。")  # fmt: skip
    due = (clock.now() + dt.timedelta(days=2)).astimezone(dt.timezone(dt.timedelta(hours=8)))
    await post(client, f"{base}/plan", csrf, expect=422, measure="退还年费", owner_id=str(handler.id), due_at="")
    await post(client, f"{base}/plan", csrf, measure="退还已扣年费并致电客户说明", owner_id=str(handler.id),
               due_at=due.strftime("%Y-%m-%dT%H:%M"))  # fmt: skip
    await post(client, f"{base}/move", csrf, to="plan_agreed")
    await post(client, f"{base}/move", csrf, to="resolving")
    page = (await client.get(base)).text
    node = re.search(r'data-node="(\d+)" data-node-status="open"', page)
    assert node, page
    await post(client, f"{base}/plan/{node.group(1)}/complete", csrf, outcome="已退还年费 200 元。", notify="1")
    page = (await client.get(base)).text
    assert 'data-notice="progress"' in page
    await post(client, f"{base}/decide", csrf, decision="经核实年费属误扣，已全额退还，并向您致歉。")
    await post(client, f"{base}/response", csrf, expect=422, response="confirmed", satisfaction="9")
    await post(client, f"{base}/response", csrf, response="confirmed", satisfaction="5", note="客户表示满意。")
    await post(client, f"{base}/close", csrf, note="客户确认，结案。")
    page = (await client.get(base)).text
    assert status_of(page) == "closed"
    for kind in ("acknowledgement", "progress", "decision", "closed"):
        assert f'data-notice="{kind}"' in page, kind
    assert 'data-action="reopen"' in page
    await post(client, f"{base}/close", csrf, expect=409)  # closed already: the page says what is allowed


async def test_extension_needs_another_approver_and_pause_resume_new_facts(
    rt: Any, client: AsyncClient, frozen: Any
) -> None:
    """办法 / issue 6: an extension is asked by the handler and approved by someone else holding the
    permission; outside appraisal pauses the clock; new facts restart it (not from a future day)."""
    handler = await make_staff(rt, roles=["complaint_handler"])
    supervisor = await make_staff(rt, roles=["supervisor"])
    csrf = await as_user(client, handler)
    case_id = await register(client, csrf)
    base = f"/complaints/{case_id}"
    await post(client, f"{base}/accept", csrf, handler_id=str(handler.id))
    await post(client, f"{base}/extension", csrf, expect=422, reason="")
    await post(client, f"{base}/extension", csrf, reason="需调取多家机构交易记录，案情复杂。")
    page = (await client.get(base)).text
    change = re.search(r'data-pending-extension="(\d+)" data-level="1"', page)
    assert change
    assert "data-extension-decide" not in page
    await post(client, f"{base}/extensions/{change.group(1)}/decide", csrf, expect=403, decision="approve")

    assert "data-pending-approvals" not in (await client.get("/complaints")).text  # not the handler's to decide
    csrf_s = await as_user(client, supervisor)
    assert f'data-approval="{case_id}"' in (await client.get("/complaints")).text  # the approver's queue
    page = (await client.get(base)).text
    assert "data-extension-decide" in page
    await post(client, f"{base}/extensions/{change.group(1)}/decide", csrf_s, decision="approve", note="同意。")
    page = (await client.get(base)).text
    assert 'data-extension-level="1"' in page
    assert 'data-notice="extension"' in page

    csrf = await as_user(client, handler)
    await post(client, f"{base}/pause", csrf, reason="送第三方司法鉴定笔迹")
    page = (await client.get(base)).text
    assert 'data-clock="paused"' in page
    assert "data-resume" in page
    await post(client, f"{base}/pause", csrf, expect=409, reason="再次暂停")
    await post(client, f"{base}/resume", csrf)
    future = (clock.now() + dt.timedelta(days=3)).date().isoformat()
    await post(client, f"{base}/new-facts", csrf, expect=422, received_on=future, summary="客户补充了新的交易流水")
    await post(
        client, f"{base}/new-facts", csrf, expect=422, received_on="2026-13-01", summary="客户补充了新的交易流水"
    )
    await post(client, f"{base}/new-facts", csrf, received_on=clock.now().date().isoformat(),
               summary="客户补充了新的交易流水")  # fmt: skip
    page = (await client.get(base)).text
    for kind in ("pause", "resume", "restart"):
        assert f'data-notice="{kind}"' in page, kind
    assert 'data-change="restart"' in page
    assert 'data-extension-level="0"' in page


async def test_evidence_merge_and_reveal(rt: Any, client: AsyncClient, frozen: Any) -> None:
    """R5.3 evidence (files checked and stored, links, notes); merge of a duplicate (issue 6); reveal of
    the complainant's phone with a purpose (convention 8)."""
    handler = await make_staff(rt, roles=["complaint_handler"])
    csrf = await as_user(client, handler)
    first = await register(client, csrf)
    second = await register(client, csrf, matter=MATTER + "（客户再次来电）")
    base = f"/complaints/{first}"
    await post(client, f"{base}/accept", csrf, handler_id=str(handler.id))
    await post(client, f"{base}/move", csrf, to="investigating")

    r = await client.post(f"{base}/evidence", data={"csrf_token": csrf, "note": "扣费截图"},
                          files={"file": ("扣费截图.png", PNG, "image/png")})  # fmt: skip
    assert r.status_code == 303, r.text[:2000]
    r = await client.post(
        f"{base}/evidence", data={"csrf_token": csrf}, files={"file": ("empty.txt", b"", "text/plain")}
    )
    assert r.status_code == 422
    assert "alert-error" in r.text
    r = await client.post(f"{base}/evidence", data={"csrf_token": csrf},
                          files={"file": ("run.exe", b"MZ\x90\x00" + b"\x00" * 60, "application/octet-stream")})  # fmt: skip
    assert r.status_code == 422
    assert "alert-error" in r.text
    await post(client, f"{base}/evidence/note", csrf, text="已联系卡中心核对减免记录。")
    await post(client, f"{base}/evidence/link", csrf, expect=404, kind="contact", ref="999999")  # shown on the page
    page = (await client.get(base)).text
    assert page.count("data-evidence=") == 2
    assert 'data-kind="file"' in page
    assert 'data-kind="note"' in page
    link = re.search(r'href="(/api/v1/complaints/evidence/\d+/file)" download', page)
    assert link, page
    download = await client.get(link.group(1))  # the evidence API, with the page's session
    assert download.status_code == 200
    assert download.content == PNG

    await post(client, f"{base}/reveal", csrf, expect=422, field="phone", purpose="")
    r = await client.post(f"{base}/reveal", data={"csrf_token": csrf, "field": "phone", "purpose": "回电核实扣费情况"})
    assert r.status_code == 200
    assert 'data-revealed="phone"' in r.text
    assert "13800138000" in r.text

    number = re.search(r"<span data-case-number>([A-Z0-9-]+)</span>", page)
    assert number
    await post(client, f"/complaints/{second}/merge", csrf, expect=422, into="TS00000000-000000", reason="重复投诉")
    own = re.search(r"<span data-case-number>([A-Z0-9-]+)</span>", (await client.get(f"/complaints/{second}")).text)
    assert own
    await post(client, f"/complaints/{second}/merge", csrf, expect=409, into=own.group(1), reason="重复投诉")  # itself
    r = await post(client, f"/complaints/{second}/merge", csrf, into=number.group(1), reason="同一事项重复投诉")
    assert r.headers["location"].startswith(f"/complaints/{first}?done=merged")
    primary = (await client.get(f"/complaints/{first}")).text
    assert f'data-merged-case="{second}"' in primary
    dup = (await client.get(f"/complaints/{second}")).text
    assert status_of(dup) == "merged"
    assert "data-no-actions" in dup


async def test_public_form_csrf_validation_consent_and_rate_limit(rt: Any, client: AsyncClient, frozen: Any) -> None:
    """R5.1: the online form works without signing in, refuses a post without its own token, needs the
    consent to the processing of personal data, and limits registered complaints per address per hour
    (the posts with errors below do not use the allowance of 2)."""
    rt.settings.complaint_form_per_hour = 2
    page = await client.get("/complaint")
    assert page.status_code == 200
    assert "kefu_csrf" in page.headers.get("set-cookie", "")
    assert "/static/complaints.css" in page.text
    assert 'data-lang="en"' in page.text
    token = csrf_of(page.text)
    fields = {"name": "测试客户丙", "phone": "13700137000", "email": "", "business_line": "ebanking",
              "category": "service.wait", "matter": "手机银行转账一直显示处理中，客服电话等了很久没人接。",
              "requested_resolution": "尽快处理转账", "consent": "yes"}  # fmt: skip

    r = await client.post("/complaint", data={**fields, "csrf_token": "forged"})
    assert r.status_code == 403
    assert "data-form-error" in r.text
    r = await client.post("/complaint", data={**fields, "consent": "", "csrf_token": token})
    assert r.status_code == 422
    assert "data-form-error" in r.text
    assert 'aria-invalid="true"' in r.text
    assert "测试客户丙" in r.text  # what was typed comes back
    r = await client.post("/complaint", data={**fields, "matter": "", "category": "", "csrf_token": token})
    assert r.status_code == 422
    assert "data-form-error" in r.text

    r = await client.post("/complaint", data={**fields, "csrf_token": token})
    assert r.status_code == 303, r.text[:2000]
    done_url = r.headers["location"]
    assert done_url.startswith("/complaint/done?n=TS")
    done = await client.get(done_url)
    number = re.search(r"data-case-number>([A-Z0-9-]+)<", done.text)
    assert done.status_code == 200
    assert number
    assert number.group(1) in done_url
    forged = await client.get(done_url.split("&s=")[0] + "&s=" + "0" * 32)
    assert forged.status_code == 303
    assert forged.headers["location"] == "/complaint"

    handler = await make_staff(rt, roles=["complaint_handler"])
    await as_user(client, handler)
    inbox = (await client.get("/complaints?scope=unassigned")).text
    assert f'data-number="{number.group(1)}"' in inbox

    client.cookies.clear()
    token = csrf_of((await client.get("/complaint")).text)
    assert (await client.post("/complaint", data={**fields, "csrf_token": token})).status_code == 303
    r = await client.post("/complaint", data={**fields, "csrf_token": token})
    assert r.status_code == 429
    assert "data-form-error" in r.text
