"""The consent ledger (R3.1): no field group without consent or legal basis, withdrawal stops use,
and the data subject's export lists everything held and why."""

from __future__ import annotations

import datetime as dt
import json

from kefu.core import clock
from tests.customers.helpers import BASE, WORDS, agent, audit_rows, consent, create

PHONE = "13800135678"
ID_NO = "110101199001011234"


async def test_field_groups_are_declared_with_purposes(rt, client):
    _, h = await agent(rt, client)
    r = await client.get(BASE + "/field-groups", headers=h)
    assert r.status_code == 200
    groups = {g["name"]: g for g in r.json()}
    assert set(groups) == {"identity", "contact", "profile", "marketing"}
    assert groups["contact"]["purpose"] == "service contact"
    assert "phones" in groups["contact"]["fields"]
    assert groups["profile"]["purpose"] == "suitability"
    assert groups["marketing"]["purpose"] == "product recommendation"
    assert "AML" in groups["identity"]["legal_basis"]
    assert groups["marketing"]["legal_basis"] is None


async def test_each_group_needs_consent_or_legal_basis(rt, client):
    _, h = await agent(rt, client)
    for body, group in (
        ({"email": "a@example.com"}, "contact"),
        ({"occupation": "教师"}, "profile"),
        ({"tags": ["理财"]}, "marketing"),
    ):
        r = await client.post(BASE, headers=h, json={"name": "张三", **body})
        assert r.status_code == 409, r.text
        assert r.json()["field_group"] == group
        assert r.json()["code"] == "consent_required"
    # identity is held under the legal basis in configuration; without it, it needs consent too
    c = await create(client, h, name="张三", id_type="resident_id", id_number=ID_NO)
    assert c["consent"]["identity"] == "legal_basis"
    rt.settings.consent_legal_basis = {}
    r = await client.post(BASE, headers=h, json={"name": "李四", "id_type": "resident_id",
                                                   "id_number": "110101199202021234"})  # fmt: skip
    assert r.status_code == 409
    assert r.json()["field_group"] == "identity"
    c2 = await create(client, h, name="李四", id_type="resident_id", id_number="110101199202021234",
                      consents=[consent("identity", channel="branch")])  # fmt: skip
    assert c2["consent"]["identity"] == "consented"
    # a consent recorded later lets the update through
    r = await client.patch(f"{BASE}/{c['id']}", headers=h, json={"occupation": "教师"})
    assert r.status_code == 409
    r = await client.post(f"{BASE}/{c['id']}/consents", headers=h, json=consent("profile"))
    assert r.status_code == 201, r.text
    assert r.json()["purpose"] == "suitability"
    assert r.json()["words_shown"] == WORDS
    assert r.json()["in_force"]
    r = await client.patch(f"{BASE}/{c['id']}", headers=h, json={"occupation": "教师", "income_band": "50k-100k"})
    assert r.status_code == 200
    assert r.json()["occupation"] == "教师"


async def test_withdrawal_stops_use_and_keeps_the_data_blocked(rt, client):
    staff, h = await agent(rt, client)
    c = await create(client, h, name="张三明", tags=["理财", "基金"], marketing_contact="13700001111",
                     consents=[consent("marketing", channel="app")])  # fmt: skip
    assert c["tags"] == ["基金", "理财"]
    assert c["marketing_contact"] == "137****1111"
    consent_id = (await client.get(f"{BASE}/{c['id']}/consents", headers=h)).json()[0]["id"]
    r = await client.post(f"{BASE}/{c['id']}/consents/{consent_id}/withdraw", headers=h,
                          json={"channel": "phone", "note": "customer asked on the call"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["withdrawn_by"] == staff.id
    assert r.json()["in_force"] is False
    prof = (await client.get(f"{BASE}/{c['id']}", headers=h)).json()
    assert prof["tags"] == []
    assert prof["marketing_contact"] is None
    assert "marketing" in prof["withheld"]
    assert prof["consent"]["marketing"] == "withdrawn"
    r = await client.patch(f"{BASE}/{c['id']}", headers=h, json={"tags": ["保险"]})
    assert r.status_code == 409
    assert r.json()["field_group"] == "marketing"
    assert r.json()["consent_state"] == "withdrawn"
    r = await client.post(f"{BASE}/{c['id']}/reveal", headers=h,
                          json={"field": "marketing_contact", "purpose": "call back about an offer"})  # fmt: skip
    assert r.status_code == 409
    # erasing the blocked fields stays possible
    r = await client.patch(f"{BASE}/{c['id']}", headers=h, json={"tags": []})
    assert r.status_code == 200
    r = await client.post(f"{BASE}/{c['id']}/consents/{consent_id}/withdraw", headers=h, json={"channel": "phone"})
    assert r.status_code == 409
    history = (await client.get(f"{BASE}/{c['id']}/consents", headers=h)).json()
    assert len(history) == 1
    assert history[0]["withdrawn_channel"] == "phone"
    entries = await audit_rows(rt, "customer.consent_")
    assert [e.action for e in entries] == ["customer.consent_grant", "customer.consent_withdraw"]


async def test_withdrawn_contact_consent_stops_sms_codes(rt, client):
    _, h = await agent(rt, client)
    c = await create(client, h, name="张三明", phones=[{"phone": PHONE}], id_type="resident_id", id_number=ID_NO,
                     consents=[consent("contact")])  # fmt: skip
    cid = (await client.get(f"{BASE}/{c['id']}/consents", headers=h)).json()[0]["id"]
    await client.post(f"{BASE}/{c['id']}/consents/{cid}/withdraw", headers=h, json={"channel": "phone"})
    v = (await client.post(f"{BASE}/{c['id']}/verifications", headers=h, json={})).json()
    r = await client.post(f"{BASE}/verifications/{v['id']}/sms", headers=h, json={"id_last6": ID_NO[-6:]})
    assert r.status_code == 409
    assert r.json()["field_group"] == "contact"
    assert (await client.get(f"{BASE}/{c['id']}", headers=h)).json()["phones"] == []


async def test_expired_consent_is_not_in_force(rt, client):
    _, h = await agent(rt, client)
    expires = (clock.now() + dt.timedelta(days=30)).isoformat()
    c = await create(client, h, name="张三", occupation="工程师", consents=[consent("profile", expires_at=expires)])
    assert c["occupation"] == "工程师"
    clock.freeze(clock.now() + dt.timedelta(days=31))
    _, h = await agent(rt, client)
    prof = (await client.get(f"{BASE}/{c['id']}", headers=h)).json()
    assert prof["consent"]["profile"] == "expired"
    assert prof["occupation"] is None
    r = await client.post(f"{BASE}/{c['id']}/consents", headers=h, json=consent("profile", expires_at=expires))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "expires_at"


async def test_export_lists_everything_held_and_why(rt, client):
    _, h = await agent(rt, client)
    c = await create(client, h, name="欧阳晓明", gender="M", phones=[{"phone": PHONE}], id_type="resident_id",
                     id_number=ID_NO, birth_date="1990-01-01", email="xm@example.com", address="上海市浦东新区世纪大道100号",
                     occupation="教师", income_band="100k-300k", tags=["理财"], marketing_contact="xm@example.com",
                     consents=[consent("contact"), consent("profile"), consent("marketing")])  # fmt: skip
    await client.post(f"{BASE}/{c['id']}/phones", headers=h, json={"phone": "13912345678"})
    old = [
        p for p in (await client.get(f"{BASE}/{c['id']}", headers=h)).json()["phones"] if p["phone"].startswith("139")
    ]
    await client.delete(f"{BASE}/{c['id']}/phones/{old[0]['id']}", headers=h)
    marketing = [x for x in (await client.get(f"{BASE}/{c['id']}/consents", headers=h)).json()
                 if x["field_group"] == "marketing"][0]  # fmt: skip
    await client.post(f"{BASE}/{c['id']}/consents/{marketing['id']}/withdraw", headers=h, json={"channel": "web"})

    r = await client.post(f"{BASE}/{c['id']}/export", headers=h, json={"purpose": "data subject access request"})
    assert r.status_code == 403, "agents cannot export"
    _, sup = await agent(rt, client, ["supervisor"])
    r = await client.post(f"{BASE}/{c['id']}/export", headers=sup, json={"purpose": "x"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "purpose"
    r = await client.post(f"{BASE}/{c['id']}/export", headers=sup, json={"purpose": "data subject access request"})
    assert r.status_code == 200, r.text
    out = r.json()
    rec = out["customer"]
    assert rec["name"] == "欧阳晓明"
    assert rec["id_number"] == ID_NO
    assert rec["birth_date"] == "1990-01-01"
    assert rec["email"] == "xm@example.com"
    assert rec["address"].startswith("上海市")
    assert rec["occupation"] == "教师"
    assert rec["tags"] == ["理财"], "withdrawn data is kept (blocked) and the export says so"
    assert {p["phone"] for p in out["phones"]} == {PHONE, "13912345678"}
    assert any(p["removed_at"] for p in out["phones"])
    groups = {g["name"]: g for g in out["field_groups"]}
    assert groups["marketing"]["state"] == "withdrawn"
    assert groups["marketing"]["in_use"] is False
    assert groups["identity"]["legal_basis"]
    assert groups["contact"]["purpose"] == "service contact"
    assert len(out["consents"]) == 3
    assert any(x["withdrawn_at"] for x in out["consents"])
    assert all(x["words_shown"] == WORDS for x in out["consents"])
    assert out["credentials"] == {"pin_set": False, "security_questions": []}
    entry = (await audit_rows(rt, "customer.export"))[-1]
    assert entry.purpose == "data subject access request"
    assert ID_NO not in (entry.after or "")
    assert PHONE not in (entry.after or "")
    assert json.loads(entry.after)["consents"] == 3
