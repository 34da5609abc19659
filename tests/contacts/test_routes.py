"""The contacts API: every route against the permission matrix, scoping (out of scope is a 404, as for
staff), problem+json answers, masking, the wrap-up, follow-ups, categories, timeline and stats."""

from __future__ import annotations

import datetime as dt
import re

from kefu.contacts import demo
from kefu.contacts import repository as repo
from kefu.core import clock
from kefu.core.auth import route_permissions
from kefu.core.permissions import MATRIX, Role
from tests.contacts.conftest import handled, open_contact
from tests.customers.helpers import audit_rows
from tests.factories import api_routes, auth_headers, make_customer, make_staff, make_team

PROBLEM = "application/problem+json"
PHONE = "13800135678"
PREFIXES = ("/api/v1/contacts", "/api/v1/follow-ups", "/api/v1/wrapup-categories")


def _ops(app):
    out = []
    for r in api_routes(app):
        if getattr(r, "path", "").startswith(PREFIXES):
            _, perms = route_permissions(r)
            out += [(m, r.path, perms) for m in sorted(r.methods or ()) if m != "HEAD"]
    return out


async def _seed(rt) -> dict[str, int]:
    async with rt.db.transaction() as s:
        await demo.seed_categories(s)
        return {c.code: c.id for c in await repo.categories(s)}


async def test_every_contacts_route_matches_the_matrix(rt, app, client):
    ops = _ops(app)
    assert len(ops) >= 15
    assert all(perms for _, _, perms in ops)
    for role in Role:
        member = await make_staff(rt, roles=[role.value])
        headers = await auth_headers(client, member)
        for method, path, perms in ops:
            url = re.sub(r"\{(\w+)\}", "1", path)
            r = await client.request(method, url, headers=headers, json={} if method in ("POST", "PATCH") else None)
            where = f"{role.value} {method} {path} -> {r.status_code} {r.text[:200]}"
            if set(perms) <= MATRIX[role]:
                assert r.status_code not in (401, 403, 500), where
            else:
                assert r.status_code == 403, where
                assert r.json()["code"] == "permission_denied", where


async def test_contact_scoping_detail_and_masking(rt, client):
    t1, t2 = await make_team(rt), await make_team(rt)
    a1 = await make_staff(rt, roles=["agent"], team_id=t1)
    a2 = await make_staff(rt, roles=["agent"], team_id=t1)
    b1 = await make_staff(rt, roles=["agent"], team_id=t2)
    lead1 = await make_staff(rt, roles=["team_lead"], team_id=t1)
    qa = await make_staff(rt, roles=["qa_inspector"], team_id=t2)
    customer = await make_customer(rt, phone=PHONE)
    mine = await handled(rt, a1.id, caller_number=PHONE, external_ref="c-1", ivr_choices=["2", "1"])
    theirs = await handled(rt, b1.id)
    assert mine.customer_id == customer.id
    h = {k: await auth_headers(client, v) for k, v in (("a1", a1), ("a2", a2), ("b1", b1), ("lead1", lead1),
                                                       ("qa", qa))}  # fmt: skip
    r = await client.get("/api/v1/contacts", headers=h["a1"])
    assert r.status_code == 200, r.text
    assert [c["id"] for c in r.json()["items"]] == [mine.id]
    assert r.json()["items"][0]["caller_number"] == "138****5678"
    assert PHONE not in r.text
    assert [c["id"] for c in (await client.get("/api/v1/contacts", headers=h["a2"])).json()["items"]] == []
    assert [c["id"] for c in (await client.get("/api/v1/contacts", headers=h["lead1"])).json()["items"]] == [mine.id]
    r = await client.get("/api/v1/contacts", headers=h["qa"], params={"status": "wrap_up", "channel": "phone"})
    assert {c["id"] for c in r.json()["items"]} == {mine.id, theirs.id}
    r = await client.get("/api/v1/contacts", headers=h["qa"], params={"agent_id": b1.id})
    assert [c["id"] for c in r.json()["items"]] == [theirs.id]
    r = await client.get(f"/api/v1/contacts/{mine.id}", headers=h["a1"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["ivr_choices"], body["customer_no"]) == ("wrap_up", ["2", "1"], customer.customer_no)
    assert [e["kind"] for e in body["events"]] == ["arrived", "queued", "offered", "answered", "ended"]
    assert PHONE not in r.text
    for who in ("a2", "b1"):
        r = await client.get(f"/api/v1/contacts/{mine.id}", headers=h[who])
        assert r.status_code == 404, r.text
        assert r.headers["content-type"].startswith(PROBLEM)
    assert (await client.get("/api/v1/contacts/99999999", headers=h["qa"])).status_code == 404
    r = await client.get("/api/v1/contacts", headers=h["a1"], params={"since": "2026-11-23T00:00:00"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith(PROBLEM)
    assert len(await audit_rows(rt, "contact.view")) == 1, "only the view that succeeded"


async def test_wrapup_and_follow_up_over_the_api(rt, client):
    cats = await _seed(rt)
    team = await make_team(rt)
    agent = await make_staff(rt, roles=["agent"], team_id=team)
    lead = await make_staff(rt, roles=["team_lead"], team_id=team)
    h, lh = await auth_headers(client, agent), await auth_headers(client, lead)
    c = await handled(rt, agent.id)
    pending = await client.get("/api/v1/contacts/pending-wrapups", headers=h)
    assert [x["id"] for x in pending.json()] == [c.id]
    url = f"/api/v1/contacts/{c.id}/wrapup"
    base = {"category_id": cats["transfer.failed"], "summary": "客户反映转账失败，需核实。",
            "result": "follow_up", "kb_entries": ["KB-77 转账失败排查"]}  # fmt: skip
    r = await client.post(url, headers=h, json=base)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["errors"][0]["field"] == "follow_up"
    r = await client.post(url, headers=h, json={**base, "category_id": cats["transfer"], "result": "resolved"})
    assert r.status_code == 422
    due = (clock.now() + dt.timedelta(hours=4)).isoformat()
    body = {
        **base,
        "summary": "客户 13912345678 反映转账失败",
        "follow_up": {"details": "核实失败原因后回电", "due_at": due},
    }
    r = await client.post(url, headers=h, json=body)
    assert r.status_code == 201, r.text
    assert r.json()["category"]["code"] == "transfer.failed"
    assert "13912345678" not in r.text, "numbers in free text are masked in responses"
    r = await client.post(url, headers=h, json=body)
    assert r.status_code == 409
    assert "already recorded" in r.json()["detail"]
    detail = (await client.get(f"/api/v1/contacts/{c.id}", headers=h)).json()
    assert detail["status"] == "closed"
    assert detail["handle_seconds"] is not None
    (fu,) = detail["follow_ups"]
    mine = (await client.get("/api/v1/follow-ups", headers=h)).json()
    assert [x["id"] for x in mine["items"]] == [fu["id"]]
    team_list = (await client.get("/api/v1/follow-ups", headers=lh, params={"scope": "team"})).json()
    assert [x["id"] for x in team_list["items"]] == [fu["id"]]
    r = await client.get("/api/v1/follow-ups", headers=h, params={"scope": "all"})
    assert r.status_code == 403
    r = await client.post(f"/api/v1/follow-ups/{fu['id']}/close", headers=h,
                          json={"answer_channel": "phone", "answer_note": "已回电，原因为户名不符"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["answer_channel"]) == ("done", "phone")
    r = await client.post(f"/api/v1/follow-ups/{fu['id']}/reassign", headers=lh,
                          json={"owner_id": agent.id, "reason": "重新分配"})  # fmt: skip
    assert r.status_code == 409
    # a follow-up promised separately on a contact (not in the wrap-up)
    other = await handled(rt, agent.id)
    r = await client.post(f"/api/v1/contacts/{other.id}/follow-ups", headers=h,
                          json={"details": "补寄对账单", "due_at": due})  # fmt: skip
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/v1/contacts/{other.id}/follow-ups", headers=lh,
                          json={"details": "补寄对账单", "due_at": "2026-01-01T00:00:00"})  # fmt: skip
    assert r.status_code == 422


async def test_timeline_across_channels_and_merged_records(rt, client):
    agent = await make_staff(rt, roles=["agent"])
    other_agent = await make_staff(rt, roles=["agent"])
    customer = await make_customer(rt, phone=PHONE)
    duplicate = await make_customer(rt)
    first = await handled(rt, agent.id, caller_number=PHONE, arrived=clock.now() - dt.timedelta(days=2))
    chat = await handled(rt, other_agent.id, channel="chat", customer_id=customer.id)
    old = await open_contact(
        rt, customer_id=duplicate.id, channel="email", arrived_at=clock.now() - dt.timedelta(days=9)
    )
    async with rt.db.transaction() as s:
        from kefu.customers.models import Customer

        dup = await s.get(Customer, duplicate.id)
        dup.status, dup.merged_into_id = "merged", customer.id
    h = await auth_headers(client, agent)
    r = await client.get(f"/api/v1/contacts/timeline/{customer.id}", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [x["id"] for x in body["items"]] == [chat.id, first.id, old.id], "every channel, newest first"
    assert [x["channel"] for x in body["items"]] == ["chat", "phone", "email"]
    assert body["customer_ids"] == [customer.id, duplicate.id]
    assert PHONE not in r.text
    assert (await client.get("/api/v1/contacts/timeline/99999999", headers=h)).status_code == 404
    assert len(await audit_rows(rt, "contact.timeline_view")) == 1


async def test_category_configuration(rt, client):
    cats = await _seed(rt)
    sup = await auth_headers(client, await make_staff(rt, roles=["supervisor"]))
    agent = await auth_headers(client, await make_staff(rt, roles=["agent"]))
    tree = (await client.get("/api/v1/wrapup-categories", headers=agent)).json()
    card = next(n for n in tree if n["code"] == "card")
    assert card["leaf"] is False
    assert card["names"] == {"zh-Hans": "银行卡", "zh-Hant": "銀行卡", "en": "Bank cards"}
    assert [n["code"] for n in card["children"]] == ["card.loss", "card.release", "card.activate", "card.replace"]
    assert all(n["leaf"] for n in card["children"])
    new = {"code": "card.pin", "names": {"zh-Hans": "密码重置"}, "parent_id": cats["card"], "sort": 50}
    assert (await client.post("/api/v1/wrapup-categories", headers=agent, json=new)).status_code == 403
    r = await client.post("/api/v1/wrapup-categories", headers=sup, json=new)
    assert r.status_code == 201, r.text
    assert r.json()["names"] == {"zh-Hans": "密码重置", "zh-Hant": "密码重置", "en": "密码重置"}
    pin = r.json()["id"]
    assert (await client.post("/api/v1/wrapup-categories", headers=sup, json=new)).status_code == 409
    r = await client.patch(f"/api/v1/wrapup-categories/{pin}", headers=sup,
                           json={"names": {"zh-Hans": "银行卡密码", "zh-Hant": "銀行卡密碼", "en": "Card PIN"}})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["names"]["en"] == "Card PIN"
    r = await client.post(f"/api/v1/wrapup-categories/{cats['card']}/deactivate", headers=sup)
    assert r.status_code == 200
    tree = (await client.get("/api/v1/wrapup-categories", headers=agent)).json()
    assert "card" not in [n["code"] for n in tree]
    full = (await client.get("/api/v1/wrapup-categories/all", headers=sup)).json()
    card = next(n for n in full if n["code"] == "card")
    assert not card["active"]
    assert all(not n["active"] for n in card["children"]), "the subtree went with it"
    r = await client.post(f"/api/v1/wrapup-categories/{pin}/activate", headers=sup)
    assert r.status_code == 409, "its parent is inactive"
    actions = [x.action for x in await audit_rows(rt, "wrapup_category.")]
    assert actions == ["wrapup_category.seed", "wrapup_category.create", "wrapup_category.update",
                       "wrapup_category.deactivate"]  # fmt: skip


async def test_service_level_endpoint(rt, client):
    lead = await auth_headers(client, await make_staff(rt, roles=["team_lead"]))
    agent_staff = await make_staff(rt, roles=["agent"])
    agent = await auth_headers(client, agent_staff)
    await handled(rt, agent_staff.id, wait=4, talk=30)
    url = "/api/v1/contacts/stats/service-level"
    now = clock.now()
    params = {"since": (now - dt.timedelta(hours=2)).isoformat(), "until": (now + dt.timedelta(minutes=1)).isoformat()}
    r = await client.get(url, headers=lead, params={**params, "interval": "15min"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["answer_within_rings"] == 3
    assert body["all"]["offered"] == 1
    assert body["all"]["service_level"] == 1.0
    assert [row["queue"] for row in body["rows"]] == ["general"]
    assert (await client.get(url, headers=agent, params=params)).status_code == 403
    for bad in ({**params, "since": "2026-11-23T00:00:00"}, {**params, "interval": "week"},
                {"since": "2026-01-01T00:00:00+08:00", "until": "2026-06-01T00:00:00+08:00"}, {}):  # fmt: skip
        r = await client.get(url, headers=lead, params=bad)
        assert r.status_code == 422, (bad, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
