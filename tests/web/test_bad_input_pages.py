"""Bad input on the complaint pages comes back as a message next to the form (or a problem+json 4xx from
the API), never a 500: look-alike digits ("²", "١٢"), negative and huge numbers, dates at the edges of
the calendar, empty values. Also the request body limits of the public form and the page upload, and
the public form's rate limit that counts only complaints actually registered (invalid posts have their
own, more generous limit). Generated data only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from httpx import AsyncClient

from kefu.complaints import repository as complaints_repo
from kefu.complaints.router import INVALID_PER_HOUR
from kefu.complaints.router_case import UPLOAD_BODY_LIMIT
from kefu.core import clock
from kefu.web import desk
from kefu.web.complaint_public import PUBLIC_BODY_LIMIT
from kefu.web.contact_pages import page_number
from tests.complaints.conftest import T0
from tests.factories import make_staff
from tests.web.helpers import csrf_of
from tests.web.test_complaint_pages import MATTER, as_user, post, register

#: what a careless or hostile client puts into a number or a date field
BAD = ("²", "١٢", "-1", "0", "abc", "", " ", "1e9", "\x00", "9" * 40, "0001-01-01T00:00", "9999-12-31T23:59",
       "0001-01-01", "9999-12-31", "2026-02-30", "2026-11-23T25:00")  # fmt: skip
LIMITERS = ("complaint_form_limiter", "complaint_form_invalid_limiter")


@pytest.fixture(autouse=True)
def frozen() -> Iterator[dt.datetime]:
    clock.freeze(T0)
    yield T0
    clock.freeze(None)


def _reset_limits(rt: Any) -> None:
    for key in LIMITERS:
        rt.extras.pop(key, None)


PUBLIC = {"name": "测试客户戊", "phone": "13700137001", "email": "", "business_line": "ebanking",
          "category": "service.wait", "matter": "手机银行转账一直显示处理中，客服电话等了很久没人接。",
          "requested_resolution": "尽快处理转账", "consent": "yes"}  # fmt: skip


def _api_public(**over: Any) -> dict[str, Any]:
    body = {"name": "测试客户己", "phone": "13700137002", "business_line": "ebanking",
            "matter": "手机银行转账一直显示处理中。", "consent": True, "locale": "zh-Hans"}  # fmt: skip
    return {**body, **over}


# ---- the shared parsers ----------------------------------------------------------------------------


def test_ids_and_page_numbers_refuse_lookalike_digits() -> None:
    """``str.isdigit`` is true for "²" and "١٢" but ``int()`` refuses the first: only ASCII digits count."""
    for value in ("²", "١٢", "٣", "-1", "0", "", " ", "1e3", "9" * 18, None):
        assert desk.as_id(value) is None, value
    assert desk.as_id(" 42 ") == 42
    assert desk.as_id("9" * 17) == int("9" * 17)
    for value in ("²", "١٢", "-1", "0", "", "abc", "9" * 40, None):
        assert page_number(value) == 1, value
    assert page_number("3") == 3


# ---- staff pages: every number and date field of every form ------------------------------------------


async def test_case_forms_never_500_on_bad_numbers_and_dates(rt: Any, client: AsyncClient) -> None:
    """Each numeric or date field of the case page's forms and of the registration form, fuzzed: the
    answer is a page (a redirect or the form again with the message), never a 500."""
    handler = await make_staff(rt, roles=["complaint_handler"])
    csrf = await as_user(client, handler)
    case_id = await register(client, csrf)
    base = f"/complaints/{case_id}"
    await post(client, f"{base}/accept", csrf, handler_id=str(handler.id))
    await post(client, f"{base}/move", csrf, to="investigating")
    due = "2026-11-25T17:00"
    forms: list[tuple[str, dict[str, str], str]] = [
        ("/complaints/new", {"channel": "letter", "complainant_name": "测试客户庚", "complainant_phone": "13800138009",
                             "matter": MATTER, "business_line": "cards", "category": "quality.fee",
                             "received_at": "2026-11-20T10:00"}, "contact_id"),
        ("/complaints/new", {"channel": "letter", "complainant_name": "测试客户庚", "complainant_phone": "13800138009",
                             "matter": MATTER, "business_line": "cards", "category": "quality.fee"}, "received_at"),
        ("/complaints/new", {"channel": "phone", "matter": MATTER, "business_line": "cards",
                             "category": "quality.fee"}, "customer_no"),
        ("/complaints/new", {"channel": "phone", "complainant_name": "测试客户庚", "complainant_phone": "13800138009",
                             "matter": MATTER, "business_line": "cards", "category": "quality.fee"}, "subject_staff_no"),
        (f"{base}/details", {"category": "quality.fee", "business_line": "cards", "severity": "normal"},
         "subject_staff_no"),
        (f"{base}/accept", {}, "handler_id"),
        (f"{base}/assign", {}, "handler_id"),
        (f"{base}/response", {"response": "confirmed"}, "satisfaction"),
        (f"{base}/new-facts", {"summary": "客户补充了新的交易流水"}, "received_on"),
        (f"{base}/plan", {"measure": "退还年费", "due_at": due}, "owner_id"),
        (f"{base}/plan", {"measure": "退还年费", "owner_id": str(handler.id)}, "due_at"),
        (f"{base}/evidence/link", {"kind": "contact"}, "ref"),
        (f"{base}/evidence/link", {"kind": "transaction"}, "ref"),
        (f"{base}/merge", {"reason": "重复投诉"}, "into"),
        (f"{base}/reveal", {"purpose": "回电核实"}, "field"),
        (f"{base}/extensions/1/decide", {"note": "同意"}, "decision"),
    ]  # fmt: skip
    for url, data, name in forms:
        for value in BAD:
            r = await client.post(url, data={"csrf_token": csrf, **data, name: value})
            assert r.status_code < 500, (url, name, value, r.text[:1000])
            if r.status_code != 303:
                assert "alert-error" in r.text, (url, name, value)
    for path in ("/complaints?page={}", "/complaints/new?contact={}", f"{base}?done={{}}", "/contacts?page={}"):
        for value in BAD:
            r = await client.get(path.format(quote(value)))
            assert r.status_code < 500, (path, value, r.text[:1000])
    r = await client.get("/complaints/new?contact=²")
    assert r.status_code == 200


async def test_register_form_bad_contact_and_letter_time_are_field_errors(rt: Any, client: AsyncClient) -> None:
    """A contact id that is not a number, and a letter's arrival time at the edge of the calendar (it
    overflowed when turned into UTC), are messages on the form."""
    agent = await make_staff(rt, roles=["agent"])
    csrf = await as_user(client, agent)
    letter = {"csrf_token": csrf, "channel": "letter", "complainant_name": "测试客户辛", "complainant_phone": "13800138008",
              "matter": MATTER, "business_line": "cards", "category": "quality.fee"}  # fmt: skip
    for value in ("0001-01-01T00:00", "9999-12-31T23:59"):
        r = await client.post("/complaints/new", data={**letter, "received_at": value})
        assert r.status_code == 422, (value, r.text[:2000])
        assert "alert-error" in r.text
    for value in ("²", "abc", "-3"):
        r = await client.post(
            "/complaints/new", data={**letter, "received_at": "2026-11-20T10:00", "contact_id": value}
        )
        assert r.status_code == 422, (value, r.text[:2000])
        assert "alert-error" in r.text


async def test_satisfaction_that_is_not_a_number_is_a_field_error(rt: Any, client: AsyncClient) -> None:
    """The customer's satisfaction: "abc" was silently stored as none and "²" was a 500; both are now
    a message next to the response form and nothing is recorded. Empty means not given."""
    handler = await make_staff(rt, roles=["complaint_handler"])
    csrf = await as_user(client, handler)
    case_id = await register(client, csrf)
    base = f"/complaints/{case_id}"
    await post(client, f"{base}/accept", csrf, handler_id=str(handler.id))
    await post(client, f"{base}/move", csrf, to="investigating")
    await post(client, f"{base}/findings", csrf, responsible_party="card_center", root_cause="fee_policy")
    await post(client, f"{base}/decide", csrf, decision="经核实年费属误扣，已全额退还，并向您致歉。")
    for value in ("abc", "²", "-1", "4.5", "9" * 40):
        r = await post(client, f"{base}/response", csrf, expect=422, response="confirmed", satisfaction=value)
        assert 'data-status="decided"' in r.text, value
    await post(client, f"{base}/response", csrf, expect=422, response="confirmed", satisfaction="6")
    await post(client, f"{base}/response", csrf, response="confirmed", satisfaction=" 4 ")
    async with rt.db.transaction() as s:
        case = await complaints_repo.get(s, case_id)
        assert case is not None
        assert (case.status, case.satisfaction) == ("confirmed", 4)


async def test_bulletin_times_at_the_edge_of_the_calendar_are_field_errors(rt: Any, client: AsyncClient) -> None:
    """``kb_common.parse_local`` is shared with the bulletin board: a far time is a message there too."""
    sup = await make_staff(rt, roles=["supervisor"])
    csrf = await as_user(client, sup)
    for name in ("valid_from", "valid_to"):
        for value in ("0001-01-01T00:00", "0001-01-01 00:00", "9999-12-31T23:59"):
            r = await client.post("/bulletins", data={"csrf_token": csrf, "title": "系统升级通知", "body": "今晚暂停服务。",
                                                      "priority": "normal", name: value})  # fmt: skip
            assert r.status_code == 422, (name, value, r.text[:2000])
            assert "alert-error" in r.text


# ---- the public form ----------------------------------------------------------------------------------


async def test_public_form_fields_never_500(rt: Any, client: AsyncClient) -> None:
    rt.settings.complaint_form_per_hour = 1000
    token = csrf_of((await client.get("/complaint")).text)
    for name in ("name", "phone", "email", "business_line", "category", "matter", "requested_resolution", "consent"):
        for value in BAD:
            _reset_limits(rt)
            r = await client.post("/complaint", data={**PUBLIC, name: value, "csrf_token": token})
            assert r.status_code < 500, (name, value, r.text[:1000])
            if r.status_code != 303:
                assert "data-form-error" in r.text, (name, value)
    for n, s in (("²", "²"), ("TS20261123-000001", "9" * 40), ("", "")):
        assert (await client.get(f"/complaint/done?n={n}&s={s}")).status_code == 303


async def test_public_form_counts_only_registered_complaints(rt: Any, client: AsyncClient) -> None:
    """Posts with errors do not use up the hourly allowance of complaints (page and API share it)."""
    rt.settings.complaint_form_per_hour = 2
    _reset_limits(rt)
    token = csrf_of((await client.get("/complaint")).text)
    for bad in ({"matter": ""}, {"phone": "12", "email": ""}, {"business_line": "nope"}, {"consent": ""}):
        r = await client.post("/complaint", data={**PUBLIC, **bad, "csrf_token": token})
        assert r.status_code == 422, (bad, r.text[:2000])
    r = await client.post("/api/v1/complaints/public", json=_api_public(business_line="nope"))
    assert r.status_code == 422
    r = await client.post("/api/v1/complaints/public", json=_api_public(consent=False))
    assert r.status_code == 422
    r = await client.post("/complaint", data={**PUBLIC, "csrf_token": token})
    assert r.status_code == 303, r.text[:2000]
    r = await client.post("/api/v1/complaints/public", json=_api_public())
    assert r.status_code == 201, r.text
    r = await client.post("/complaint", data={**PUBLIC, "csrf_token": token})
    assert r.status_code == 429
    assert "data-form-error" in r.text
    r = await client.post("/api/v1/complaints/public", json=_api_public())
    assert r.status_code == 429


async def test_invalid_posts_have_their_own_limit(rt: Any, client: AsyncClient) -> None:
    """Bursts of invalid posts are refused after INVALID_PER_HOUR an hour (the page, the API and posts the
    API's schema refuses all count), so the form cannot be used to probe the validation."""
    rt.settings.complaint_form_per_hour = 5
    _reset_limits(rt)
    token = csrf_of((await client.get("/complaint")).text)
    for i in range(INVALID_PER_HOUR):
        if i % 3 == 0:
            r = await client.post("/complaint", data={**PUBLIC, "matter": "", "csrf_token": token})
        elif i % 3 == 1:
            r = await client.post("/api/v1/complaints/public", json=_api_public(name=""))  # the schema refuses it
        else:
            r = await client.post("/api/v1/complaints/public", json=_api_public(consent=False))
        assert r.status_code == 422, (i, r.text[:1000])
    r = await client.post("/complaint", data={**PUBLIC, "csrf_token": token})
    assert r.status_code == 429
    assert "data-form-error" in r.text
    r = await client.post("/api/v1/complaints/public", json=_api_public())
    assert r.status_code == 429
    assert r.json()["code"] == "too_many_requests"


async def test_public_form_name_as_long_as_the_service_allows(rt: Any, client: AsyncClient) -> None:
    """The page used to cut the name to 60 characters without a word; the service allows 80. Longer is a
    message on the form, with what was typed kept."""
    rt.settings.complaint_form_per_hour = 10
    _reset_limits(rt)
    token = csrf_of((await client.get("/complaint")).text)
    name = "测试" * 35  # 70 characters
    r = await client.post("/complaint", data={**PUBLIC, "name": name, "csrf_token": token})
    assert r.status_code == 303, r.text[:2000]
    number = r.headers["location"].split("n=")[1].split("&")[0]
    async with rt.db.transaction() as s:
        case = await complaints_repo.by_number(s, number)
        assert case is not None
        assert case.complainant_name == name
    too_long = "测" * 81
    r = await client.post("/complaint", data={**PUBLIC, "name": too_long, "csrf_token": token})
    assert r.status_code == 422
    assert "data-form-error" in r.text
    assert too_long in r.text
    assert 'id="cp-name"' in r.text
    r = await client.post("/complaint", data={**PUBLIC, "matter": "长" * 4001, "csrf_token": token})
    assert r.status_code == 422
    assert "data-form-error" in r.text


async def test_public_form_body_is_small(rt: Any, client: AsyncClient) -> None:
    """The anonymous form refuses bodies above PUBLIC_BODY_LIMIT with 413 (nothing stored), while the
    longest legitimate complaint (every field full of Chinese text, percent-encoded) still fits."""
    rt.settings.complaint_form_per_hour = 10
    _reset_limits(rt)
    token = csrf_of((await client.get("/complaint")).text)
    r = await client.post("/complaint", data={**PUBLIC, "matter": "x" * PUBLIC_BODY_LIMIT, "csrf_token": token})
    assert r.status_code == 413
    full = {**PUBLIC, "name": "名" * 80, "email": "a" * 60 + "@example.com", "matter": "事" * 4000,
            "requested_resolution": "退" * 2000, "csrf_token": token}  # fmt: skip
    r = await client.post("/complaint", data=full)
    assert r.status_code == 303, r.text[:2000]
    assert int(r.request.headers["content-length"]) > 40_000  # the test is near the limit


async def test_page_upload_has_the_api_upload_body_limit(rt: Any, client: AsyncClient) -> None:
    """The page's evidence upload refuses a body over the API's limit before reading it."""
    handler = await make_staff(rt, roles=["complaint_handler"])
    csrf = await as_user(client, handler)
    case_id = await register(client, csrf)
    headers = {"content-type": "multipart/form-data; boundary=kefu", "content-length": str(UPLOAD_BODY_LIMIT + 1)}
    for url in (f"/complaints/{case_id}/evidence", f"/api/v1/complaints/{case_id}/evidence"):
        r = await client.post(url, content=b"--kefu--\r\n", headers=headers)
        assert r.status_code == 413, (url, r.status_code, r.text[:500])


async def test_knowledge_report_periods_at_the_edge_of_the_calendar_are_not_500(app, client, rt):
    """A period ending on 0001-01-01 (date arithmetic would overflow) falls back to the default period."""
    from tests.web.helpers import web_login

    editor = await make_staff(rt, roles=["kb_editor", "kb_reviewer"])
    await web_login(client, editor)
    for path in ("/kb/report?end=0001-01-01", "/kb/workbench/unmatched?end=0001-01-01&start=9999-12-31"):
        r = await client.get(path)
        assert r.status_code == 200, (path, r.status_code)
