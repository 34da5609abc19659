"""Merging duplicates keeps every history; reveal needs purpose and clearance and is audited."""

from __future__ import annotations

import json

from kefu.customers import credentials
from tests.customers.helpers import BASE, agent, audit_rows, consent, create
from tests.factories import raw_rows

ID_NO = "110101199001011234"


async def test_merge_keeps_history_and_emits_an_event(rt, client):
    _, h = await agent(rt, client)
    target = await create(client, h, name="张三明", phones=[{"phone": "13800135678"}], consents=[consent("contact")])
    source = await create(client, h, name="张三明", phones=[{"phone": "13912345678"}], id_type="resident_id",
                          id_number=ID_NO, occupation="教师", consents=[consent("contact"), consent("profile")])  # fmt: skip
    async with rt.db.transaction() as s:
        await credentials.set_pin(s, customer_id=source["id"], pin="482916")
    v = (await client.post(f"{BASE}/{source['id']}/verifications", headers=h, json={})).json()
    body = {"source_id": source["id"], "reason": "same person, two records"}
    assert (await client.post(f"{BASE}/{target['id']}/merge", headers=h, json=body)).status_code == 403
    _, lead = await agent(rt, client, ["team_lead"])
    r = await client.post(f"{BASE}/{target['id']}/merge", headers=lead, json=body)
    assert r.status_code == 200, r.text
    merged = r.json()
    assert {p["phone"] for p in merged["phones"]} == {"138****5678", "139****5678"}
    assert merged["id_number"] == "110***********1234"
    assert merged["occupation"] == "教师"
    src = (await client.get(f"{BASE}/{source['id']}", headers=h)).json()
    assert src["status"] == "merged"
    assert src["merged_into_id"] == target["id"]
    # look-ups by the duplicate's phone or ID lead to the survivor
    for q in ({"phone": "13912345678"}, {"id_number": ID_NO}):
        assert [x["id"] for x in (await client.post(BASE + "/lookup", headers=h, json=q)).json()] == [target["id"]]
    history = (await client.get(f"{BASE}/{target['id']}/consents", headers=h)).json()
    assert len(history) == 3
    assert {x["origin_customer_id"] for x in history} == {None, source["id"]}
    # the duplicate is closed for work; the survivor carries the PIN; the old verification stays linked
    assert (await client.patch(f"{BASE}/{source['id']}", headers=h, json={"tier": "gold"})).status_code == 409
    assert (await client.post(f"{BASE}/{target['id']}/merge", headers=lead, json=body)).status_code == 409
    _, sup = await agent(rt, client, ["supervisor"])
    out = (await client.post(f"{BASE}/{target['id']}/export", headers=sup, json={"purpose": "access request"})).json()
    assert out["credentials"]["pin_set"] is True
    assert [m["id"] for m in out["merged_records"]] == [source["id"]]
    assert [x["id"] for x in out["verifications"]] == [v["id"]]
    events = await raw_rows(rt, "SELECT name, payload FROM event_outbox WHERE name = 'customer.merged'")
    assert json.loads(events[0].payload) == {"source_id": source["id"], "target_id": target["id"]}
    entry = (await audit_rows(rt, "customer.merge"))[0]
    assert entry.purpose == "same person, two records"
    assert "13912345678" not in entry.after


async def test_merge_refuses_different_people_and_itself(rt, client):
    _, lead = await agent(rt, client, ["team_lead"])
    a = await create(client, lead, name="张三", id_type="resident_id", id_number=ID_NO)
    b = await create(client, lead, name="张三", id_type="resident_id", id_number="110101199202021234")
    r = await client.post(f"{BASE}/{a['id']}/merge", headers=lead, json={"source_id": b["id"], "reason": "dup"})
    assert r.status_code == 409
    r = await client.post(f"{BASE}/{a['id']}/merge", headers=lead, json={"source_id": a["id"], "reason": "dup"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "source_id"


async def test_reveal_needs_purpose_and_clearance_and_is_audited(rt, client):
    staff, h = await agent(rt, client)
    c = await create(client, h, name="欧阳晓明", phones=[{"phone": "13800135678"}], id_type="resident_id",
                     id_number=ID_NO, consents=[consent("contact")])  # fmt: skip
    url = f"{BASE}/{c['id']}/reveal"
    r = await client.post(url, headers=h, json={"field": "phone", "purpose": "ok"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "purpose"
    r = await client.post(url, headers=h, json={"field": "phone", "purpose": "call back as promised"})
    assert r.status_code == 200
    assert r.json()["value"] == "13800135678"
    r = await client.post(url, headers=h, json={"field": "name", "purpose": "address the caller"})
    assert r.json()["value"] == "欧阳晓明"
    r = await client.post(url, headers=h, json={"field": "id_number", "purpose": "check the ID"})
    assert r.status_code == 403, "agents hold C2 clearance; the ID number is C3"
    _, ch = await agent(rt, client, ["complaint_handler"])
    assert (await client.post(url, headers=ch, json={"field": "phone", "purpose": "call back"})).status_code == 403
    sup_staff, sup = await agent(rt, client, ["supervisor"])
    r = await client.post(url, headers=sup, json={"field": "id_number", "purpose": "AML check requested"})
    assert r.status_code == 200
    assert r.json()["value"] == ID_NO
    entries = [e for e in await audit_rows(rt, "pii.reveal") if e.object_type == "customer"]
    assert [(e.actor, e.purpose) for e in entries] == [
        (staff.staff_no, "call back as promised"), (staff.staff_no, "address the caller"),
        (sup_staff.staff_no, "AML check requested"),
    ]  # fmt: skip
    assert all(ID_NO not in (e.after or "") and "13800135678" not in (e.after or "") for e in entries)
