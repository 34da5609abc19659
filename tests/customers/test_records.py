"""Customer records: creation under consent, blind-index look-up, masking, the audited profile view,
search by masked name, phones, and validation that never turns into a 500."""

from __future__ import annotations

import json

from tests.customers.helpers import BASE, agent, audit_rows, consent, create

PHONE = "13800135678"
ID_NO = "11010119900101123X"


async def test_storing_contact_without_consent_is_refused(rt, client):
    _, h = await agent(rt, client)
    r = await client.post(BASE, headers=h, json={"name": "张三明", "phones": [{"phone": PHONE}]})
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == "consent_required"
    assert body["field_group"] == "contact"
    assert "contact" in body["detail"]
    r = await client.post(BASE + "/lookup", headers=h, json={"phone": PHONE})
    assert r.json() == [], "a refused creation stores nothing"


async def test_lookup_by_phone_and_id_through_blind_index(rt, client):
    _, h = await agent(rt, client)
    c = await create(client, h, name="张三明", phones=[{"phone": "+86 138 0013 5678"}], id_type="resident_id",
                     id_number=ID_NO.lower(), birth_date="1990-01-01", consents=[consent("contact")])  # fmt: skip
    for phone in ("13800135678", "+86 138-0013-5678", "0086 138 0013 5678", "(138) 0013 5678"):
        r = await client.post(BASE + "/lookup", headers=h, json={"phone": phone})
        assert r.status_code == 200, r.text
        assert [x["id"] for x in r.json()] == [c["id"]], phone
    for id_number in (ID_NO, ID_NO.lower(), "110101 19900101 123X"):
        r = await client.post(BASE + "/lookup", headers=h, json={"id_number": id_number})
        assert [x["id"] for x in r.json()] == [c["id"]], id_number
    r = await client.post(BASE + "/lookup", headers=h, json={"phone": "13900000000"})
    assert r.json() == []
    # the stored columns hold ciphertext and keyed hashes, never the clear values
    rows = await _raw_customer(rt, c["id"])
    assert ID_NO not in rows
    assert PHONE not in rows
    r = await client.post(BASE + "/lookup", headers=h, json={})
    assert r.status_code == 422


async def _raw_customer(rt, customer_id: int) -> str:
    from tests.factories import raw_rows

    a = await raw_rows(rt, "SELECT * FROM customers WHERE id = :i", i=customer_id)
    b = await raw_rows(rt, "SELECT * FROM customer_phones WHERE customer_id = :i", i=customer_id)
    return json.dumps([list(map(str, r)) for r in a + b], ensure_ascii=False)


async def test_factory_customers_are_found_too(rt, client):
    from tests.factories import make_customer

    made = await make_customer(rt, name="李四", phone="13911112222", id_number="110101199203034567")
    _, h = await agent(rt, client)
    r = await client.post(BASE + "/lookup", headers=h, json={"phone": "+8613911112222"})
    assert [x["id"] for x in r.json()] == [made.id]
    r = await client.post(BASE + "/lookup", headers=h, json={"id_number": "110101199203034567"})
    assert [x["id"] for x in r.json()] == [made.id]
    assert r.json()[0]["name"] == "李*"


async def test_profile_is_masked_and_opening_it_is_audited(rt, client):
    staff, h = await agent(rt, client)
    c = await create(client, h, name="欧阳晓明", phones=[{"phone": PHONE}], id_type="resident_id", id_number=ID_NO,
                     email="xiaoming@example.com", address="北京市东城区东长安街1号", occupation="教师",
                     income_band="100k-300k", consents=[consent("contact"), consent("profile")])  # fmt: skip
    r = await client.get(f"{BASE}/{c['id']}", headers=h)
    assert r.status_code == 200
    body = r.json()
    assert body["name"] == "欧**明"
    assert body["phones"][0]["phone"] == "138****5678"
    assert body["id_number"] == "110***********123X"
    assert body["email"] == "x***@example.com"
    assert body["address"] == "北京市东城区****"
    assert body["occupation"] == "教师"
    assert body["consent"] == {"identity": "legal_basis", "contact": "consented", "profile": "consented",
                               "marketing": "none"}  # fmt: skip
    views = await audit_rows(rt, "customer.view")
    assert len(views) == 1
    assert views[0].object_id == str(c["id"])
    assert views[0].actor == staff.staff_no
    # list and search pages are not recorded as views
    await client.get(BASE, headers=h, params={"name": "欧"})
    await client.post(BASE + "/lookup", headers=h, json={"phone": PHONE})
    assert len(await audit_rows(rt, "customer.view")) == 1
    created = await audit_rows(rt, "customer.create")
    assert PHONE not in created[0].after
    assert ID_NO not in created[0].after
    assert "138****5678" in created[0].after


async def test_search_by_masked_name_and_customer_no(rt, client):
    _, h = await agent(rt, client)
    a = await create(client, h, name="张三明")
    b = await create(client, h, name="张小明")
    await create(client, h, name="王五")
    r = await client.get(BASE, headers=h, params={"name": "张*明"})
    assert r.status_code == 200
    assert {x["id"] for x in r.json()["items"]} == {a["id"], b["id"]}
    r = await client.get(BASE, headers=h, params={"name": "张"})
    assert r.json()["total"] == 2
    r = await client.get(BASE, headers=h, params={"customer_no": a["customer_no"]})
    assert [x["id"] for x in r.json()["items"]] == [a["id"]]
    r = await client.get(BASE, headers=h, params={"name": "%"})
    assert r.json()["total"] == 0, "LIKE wildcards are searched literally"
    r = await client.get(BASE, headers=h)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "name"
    # complaint handlers view; administrators and auditors hold no customer data
    _, ch = await agent(rt, client, ["complaint_handler"])
    assert (await client.get(BASE, headers=ch, params={"name": "张"})).status_code == 200
    assert (await client.post(BASE, headers=ch, json={"name": "赵六"})).status_code == 403
    for role in ("admin", "auditor", "qa_inspector"):
        _, hh = await agent(rt, client, [role])
        assert (await client.get(BASE, headers=hh, params={"name": "张"})).status_code == 403, role


async def test_phones_add_remove_and_update(rt, client):
    _, h = await agent(rt, client)
    c = await create(client, h, name="张三明", phones=[{"phone": PHONE}], consents=[consent("contact")])
    r = await client.post(f"{BASE}/{c['id']}/phones", headers=h, json={"phone": "13912345678", "label": "work"},
                          params={"primary": "true"})  # fmt: skip
    assert r.status_code == 201, r.text
    new_id = r.json()["id"]
    assert r.json()["phone"] == "139****5678"
    assert r.json()["is_primary"]
    r = await client.post(f"{BASE}/{c['id']}/phones", headers=h, json={"phone": "+86 139 1234 5678"})
    assert r.status_code == 409
    r = await client.delete(f"{BASE}/{c['id']}/phones/{new_id}", headers=h)
    assert r.status_code == 204
    r = await client.post(BASE + "/lookup", headers=h, json={"phone": "13912345678"})
    assert r.json() == [], "a removed phone no longer finds the customer"
    prof = (await client.get(f"{BASE}/{c['id']}", headers=h)).json()
    assert [p["phone"] for p in prof["phones"]] == ["138****5678"]
    assert prof["phones"][0]["is_primary"]
    r = await client.patch(f"{BASE}/{c['id']}", headers=h, json={"tier": "gold", "locale": "en", "name": "张大明"})
    assert r.status_code == 200
    assert r.json()["tier"] == "gold"
    assert r.json()["name"] == "张*明"
    upd = await audit_rows(rt, "customer.update")
    assert '"tier":"normal"' in upd[-1].before
    assert '"tier":"gold"' in upd[-1].after
    assert len(await audit_rows(rt, "customer.phone_")) == 2


async def test_bad_input_is_422_naming_the_field(rt, client):
    _, h = await agent(rt, client)
    cases = [
        ({"name": ""}, "name"),
        ({"name": "张三", "id_type": "resident_id", "id_number": "12345"}, "id_number"),
        ({"name": "张三", "id_number": "110101199001011234"}, "id_type"),
        ({"name": "张三", "id_type": "resident_id", "id_number": "110101199001011234", "birth_date": "1991-01-01"},
         "birth_date"),
        ({"name": "张三", "phones": [{"phone": "abc"}]}, "phones.0.phone"),
        ({"name": "张\x00三"}, "name"),
        ({"name": "张三", "tags": ["x" * 31]}, "tags.0"),
        ({"name": "张三", "unknown": 1}, "unknown"),
        ({"name": "张三", "consents": [{"field_group": "nope", "channel": "phone", "words_shown": "x"}]},
         "consents.0.field_group"),
    ]  # fmt: skip
    for body, field in cases:
        r = await client.post(BASE, headers=h, json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in {e["field"] for e in r.json()["errors"]}, (body, r.json())
    assert (await client.get(f"{BASE}/{2**63}", headers=h)).status_code == 422
    assert (await client.get(f"{BASE}/999999", headers=h)).status_code == 404
