"""Every customers route declares a permission, every role gets exactly what the matrix says, and no
response except reveal and export carries a clear phone number, ID number or name."""

from __future__ import annotations

import re

from kefu.core.auth import route_permissions
from kefu.core.permissions import MATRIX, Role
from tests.customers.helpers import BASE, agent, consent, create
from tests.factories import api_routes, auth_headers, make_staff

PHONE = "13800135678"
ID_NO = "110101199001011234"
NAME = "欧阳晓明"


def _ops(app):
    out = []
    for r in api_routes(app):
        if getattr(r, "path", "").startswith(BASE):
            _, perms = route_permissions(r)
            out += [(m, r.path, perms) for m in sorted(r.methods or ()) if m != "HEAD"]
    return out


async def test_every_customers_route_is_declared_and_matches_the_matrix(rt, app, client):
    ops = _ops(app)
    assert len(ops) >= 20
    assert all(perms for _, _, perms in ops), [p for _, p, perms in ops if not perms]
    _, h = await agent(rt, client)
    c = await create(client, h, name=NAME, phones=[{"phone": PHONE}], consents=[consent("contact")])
    ids = {"customer_id": c["id"], "phone_id": c["phones"][0]["id"], "consent_id": 1, "verification_id": 1}
    for role in Role:
        member = await make_staff(rt, roles=[role.value])
        headers = await auth_headers(client, member)
        for method, path, perms in ops:
            url = re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)
            if path.endswith("/phones/{phone_id}") or path.endswith("/withdraw"):
                continue  # destructive on the shared record; covered by their own tests
            r = await client.request(method, url, headers=headers, json={} if method in ("POST", "PATCH") else None)
            where = f"{role.value} {method} {path} -> {r.status_code} {r.text[:200]}"
            if set(perms) <= MATRIX[role]:
                assert r.status_code not in (401, 403), where
                assert r.status_code < 500, where
            else:
                assert r.status_code == 403, where
                assert r.json()["code"] == "permission_denied", where


async def test_no_clear_personal_data_outside_reveal_and_export(rt, client):
    _, h = await agent(rt, client)
    _, lead = await agent(rt, client, ["team_lead"])
    c = await create(client, h, name=NAME, phones=[{"phone": "+86 " + PHONE}], id_type="resident_id", id_number=ID_NO,
                     birth_date="1990-01-01", email="ouyang@example.com", address="广东省深圳市福田区深南大道1号",
                     marketing_contact="13700001111", tags=["理财"],
                     consents=[consent("contact"), consent("marketing")])  # fmt: skip
    dup = await create(client, h, name=NAME, phones=[{"phone": "13912345678"}], consents=[consent("contact")])
    cid = c["id"]
    responses = [c, dup]
    calls = [
        ("GET", f"{BASE}/{cid}", None), ("GET", BASE, None), ("POST", f"{BASE}/lookup", {"phone": PHONE}),
        ("POST", f"{BASE}/lookup", {"id_number": ID_NO}), ("PATCH", f"{BASE}/{cid}", {"tier": "gold"}),
        ("POST", f"{BASE}/{cid}/phones", {"phone": "13600002222"}), ("GET", f"{BASE}/{cid}/consents", None),
        ("POST", f"{BASE}/{cid}/consents", consent("profile")), ("POST", f"{BASE}/{cid}/verifications", {}),
    ]  # fmt: skip
    for method, url, body in calls:
        params = {"name": "欧"} if url == BASE else None
        r = await client.request(method, url, headers=h, json=body, params=params)
        assert r.status_code < 300, (url, r.text)
        responses.append(r.json())
    r = await client.post(f"{BASE}/{cid}/merge", headers=lead, json={"source_id": dup["id"], "reason": "duplicate"})
    responses.append(r.json())
    text = repr(responses)
    for clear in (PHONE, ID_NO, NAME, "13912345678", "13600002222", "ouyang@example.com", "13700001111", "深南大道",
                  "1990-01-01"):  # fmt: skip
        assert clear not in text, clear
    r = await client.post(f"{BASE}/{cid}/reveal", headers=h, json={"field": "phone", "purpose": "call back"})
    assert r.json()["value"] == PHONE
