"""Customer search and the masked customer page: reveal with a purpose, consents, who may see it."""

from __future__ import annotations

from kefu.core.crypto import mask_phone
from tests.customers.helpers import audit_rows
from tests.factories import make_staff
from tests.web.desk_helpers import PHONE, make_desk, post, url
from tests.web.helpers import web_login


async def _search(client, d, kind: str, q: str):
    return await client.post("/customers", data={"csrf_token": d.token, "kind": kind, "q": q})


async def test_search_by_phone_shows_masked_results(rt, client):
    d = await make_desk(rt, client)
    home = await client.get("/")
    assert 'data-nav="customers"' in home.text
    assert (await client.get("/customers")).status_code == 200
    r = await _search(client, d, "phone", "+86 137-0024-6810")
    assert r.status_code == 200
    assert f'href="/customers/{d.customer.id}"' in r.text
    assert mask_phone(PHONE) in r.text
    assert PHONE not in r.text
    assert "137-0024-6810" not in r.text
    assert "欧阳明华" not in r.text
    assert "共找到 1 位客户" in r.text
    by_id = await _search(client, d, "id_number", d.id_number)
    assert f'href="/customers/{d.customer.id}"' in by_id.text
    assert d.id_number not in by_id.text
    by_no = await _search(client, d, "customer_no", d.customer.customer_no[:6])
    assert f'href="/customers/{d.customer.id}"' in by_no.text
    by_name = await _search(client, d, "name", "欧*")
    assert f'href="/customers/{d.customer.id}"' in by_name.text
    none = await _search(client, d, "phone", "13900000000")
    assert "没有找到符合条件的客户" in none.text
    masked = await _search(client, d, "id_number", d.id_number)
    assert "110***********" in masked.text, "the query is echoed masked"


async def test_customer_page_is_masked_and_opening_it_is_audited(rt, client):
    d = await make_desk(rt, client)
    page = await client.get(url(d))
    assert page.status_code == 200
    html = page.text
    for clear in (PHONE, d.id_number, "欧阳明华", d.savings_no):
        assert clear not in html
    assert mask_phone(PHONE) in html
    assert "欧**华" in html or "欧*华" in html
    assert "身份核实" in html
    assert "余额须核实身份（L1）后查询" in html
    assert "¥" not in html.split('id="accounts"')[1].split("</section>")[0]
    views = await audit_rows(rt, "customer.view")
    assert len(views) == 1


async def test_reveal_needs_a_purpose_and_is_audited(rt, client):
    d = await make_desk(rt, client)
    page = await client.get(url(d))
    phone_option = page.text.split('value="phone:')[1].split('"')[0]
    r = await post(client, d, "/reveal", field=f"phone:{phone_option}", purpose=" ")
    assert r.status_code == 422
    assert PHONE not in r.text
    assert "填写内容有误" in r.text
    r = await post(client, d, "/reveal", field=f"phone:{phone_option}", purpose="客户要求核对预留手机号")
    assert r.status_code == 200
    assert f'<strong class="revealed" data-revealed>{PHONE}</strong>' in r.text
    assert r.headers["cache-control"] == "no-store"
    rows = await audit_rows(rt, "pii.reveal")
    assert rows[-1].purpose == "客户要求核对预留手机号"
    denied = await post(client, d, "/reveal", field="id_number", purpose="核对证件号码")
    assert denied.status_code == 403, "agents hold C2 clearance; ID numbers are C3"
    assert d.id_number not in denied.text


async def test_consent_grant_and_withdraw(rt, client):
    d = await make_desk(rt, client)
    r = await post(client, d, "/consents", field_group="marketing", channel="phone", words_shown=" ")
    assert r.status_code == 422
    r = await post(client, d, "/consents", field_group="marketing", channel="phone",
                   words_shown="您是否同意本行向您推荐理财产品？客户回答：同意。")  # fmt: skip
    assert r.status_code == 303
    page = await client.get(r.headers["location"])
    assert "授权已记录" in page.text
    assert "您是否同意本行向您推荐理财产品" in page.text
    grants = await audit_rows(rt, "customer.consent_grant")
    consent_id = grants[-1].object_id
    assert consent_id == str(d.customer.id)
    import re

    ids = re.findall(r"/consents/(\d+)/withdraw", page.text)
    assert len(ids) == 2  # contact (from the fixture) and marketing
    r = await post(client, d, f"/consents/{max(map(int, ids))}/withdraw", channel="phone", note="客户来电要求撤回")
    assert r.status_code == 303
    page = await client.get(r.headers["location"])
    assert "撤回授权已记录" in page.text
    assert "已撤回" in page.text
    again = await post(client, d, f"/consents/{max(map(int, ids))}/withdraw", channel="phone")
    assert again.status_code == 409
    assert len(await audit_rows(rt, "customer.consent_withdraw")) == 1


async def test_roles_without_customer_read_get_the_friendly_403(rt, client):
    d = await make_desk(rt, client)
    client.cookies.clear()
    admin = await make_staff(rt, roles=["auditor"])
    await web_login(client, admin)
    home = await client.get("/")
    assert 'data-nav="customers"' not in home.text
    for path in ("/customers", url(d)):
        r = await client.get(path)
        assert r.status_code == 403
        assert "无权访问" in r.text
    denied = await audit_rows(rt, "auth.denied")
    assert denied


async def test_complaint_handler_reads_without_business(rt, client):
    d = await make_desk(rt, client)
    client.cookies.clear()
    handler = await make_staff(rt, roles=["complaint_handler"])
    await web_login(client, handler)
    page = await client.get(url(d))
    assert page.status_code == 200
    assert "身份核实" not in page.text
    assert 'id="accounts"' not in page.text
    assert "/reveal" not in page.text


async def test_unknown_customer_is_a_404_page(rt, client):
    await make_desk(rt, client)
    r = await client.get("/customers/999999")
    assert r.status_code == 404
    assert "找不到该页面或记录" in r.text
