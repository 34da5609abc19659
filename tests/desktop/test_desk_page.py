"""The agent desktop (/phone) through httpx: the customer panel (masked profile, recent contacts, open
complaints, follow-ups, business dialogs) and the script for an identified caller; finding and picking
the customer of an unidentified caller (bad input shown, the pick audited and recorded on the contact); the customer pages in the
business dialog's frame (embed layout, framing by this site only); the call script pages for team leads."""

from __future__ import annotations

import re

from kefu.core.crypto import mask_name
from tests.complaints.case_helpers import register
from tests.desktop.helpers import add_cards_queue, add_script
from tests.factories import make_customer, make_staff, raw_rows
from tests.web.helpers import web_login
from tests.web.phone_helpers import answered_call, finished_call, section, setup_routing

PHONE = "13912340001"


async def test_an_identified_caller_brings_the_customer_panel_and_the_script(rt, client):
    agent = await make_staff(rt, roles=["agent"])
    await setup_routing(rt, agent)
    customer = await make_customer(rt, phone=PHONE, name="林晓雯", tier="gold", gender="F")
    await add_script(rt, scenario="default", greeting="您好{customer}，我是{agent_no}号", closing="再见")
    case = await register(rt, agent, customer_id=customer.id, complainant_phone=PHONE)
    token = await web_login(client, agent)
    page = await client.get("/phone")
    assert page.status_code == 200
    assert 'data-section="customer"' in page.text
    assert 'data-section="kb"' in page.text
    assert 'popovertarget="desk-keys"' in page.text
    assert "/static/desk.js" in page.text
    assert "/static/desk_digital.js" in page.text  # chats and e-mails beside the call

    earlier = await finished_call(rt, client, token, customer_no=customer.customer_no, caller=PHONE,
                                  summary="客户询问年费", result="follow_up",
                                  follow_up={"details": "核实年费减免后回电", "due_at": _due()})  # fmt: skip
    cid = await answered_call(client, token, customer_no=customer.customer_no, caller=PHONE)
    page = (await client.get("/phone")).text
    panel = section(page, "customer")
    assert mask_name("林晓雯") in panel
    assert "林晓雯" not in page
    assert "139****0001" in section(page, f"call-{cid}")
    assert PHONE not in page
    assert case.number in panel  # the open complaint with its clock
    assert "核实年费减免后回电" in panel  # the open follow-up
    assert "data-recent-contacts" in panel
    assert "余额与明细" in panel
    assert f'data-customer-panel="{customer.id}"' in panel
    for key in ("verify", "balance", "transfer", "loss", "release"):
        assert f'data-open-dialog="{key}"' in panel
    assert f'href="/customers/{customer.id}/transfer?embed=1"' in panel
    script = section(page, "script")
    assert f"您好林女士，我是{agent.staff_no}号" in script
    assert f'data-focus-contact="{cid}"' in page
    assert earlier != cid
    live = await client.get("/phone/live")
    assert 'data-section="customer"' in live.text
    assert "desk-sim" in live.text
    # the panel of the contact's own caller is not audited on every refresh
    rows = await raw_rows(rt, "SELECT action FROM audit_log WHERE action = 'customer.view'")
    assert rows == []


def _due() -> str:
    import datetime as dt

    from kefu.core import clock

    return (clock.now() + dt.timedelta(hours=20)).isoformat()


async def test_an_unidentified_caller_is_found_and_picked(rt, client):
    agent = await make_staff(rt, roles=["agent"])
    await setup_routing(rt, agent)
    customer = await make_customer(rt, phone=PHONE, name="欧阳明华")
    await add_cards_queue(rt)
    token = await web_login(client, agent)
    cid = await answered_call(client, token, caller="13700000000")
    panel = section((await client.get("/phone")).text, "customer")
    assert 'action="/phone/find"' in panel
    assert "data-find-input" in panel

    r = await client.post("/phone/find", data={"csrf_token": token, "contact": str(cid), "kind": "name", "q": ""})
    assert r.status_code == 422
    assert "alert-error" in section(r.text, "customer")
    r = await client.post("/phone/find", data={"csrf_token": token, "contact": str(cid), "kind": "phone", "q": PHONE})
    assert r.status_code == 200
    found = section(r.text, "customer")
    assert f'data-pick-customer="{customer.id}"' in found
    assert PHONE not in r.text
    r = await client.post("/phone/find", data={"csrf_token": token, "contact": str(cid), "kind": "name", "q": "欧"})
    assert f'data-pick-customer="{customer.id}"' in section(r.text, "customer")
    assert 'value="欧"' in section(r.text, "customer")  # the input kept

    r = await client.post(f"/phone/contacts/{cid}/customer", data={"csrf_token": token, "customer_id": "x"})
    assert r.status_code == 422
    r = await client.post(
        f"/phone/contacts/{cid}/customer", data={"csrf_token": token, "customer_id": str(customer.id)}
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/phone?done=picked"
    page = (await client.get(r.headers["location"])).text
    assert f'data-customer-panel="{customer.id}"' in section(page, "customer")
    assert 'class="desk-change"' in section(page, "customer")  # a wrong pick can be corrected
    rows = await raw_rows(rt, "SELECT action, object_id FROM audit_log WHERE action = 'customer.view'")
    assert [(x.action, x.object_id) for x in rows] == [("customer.view", str(customer.id))]
    rows = await raw_rows(rt, "SELECT customer_id FROM contacts WHERE id = :c", c=cid)
    assert rows[0].customer_id == customer.id  # the call is on the customer's timeline now
    other = await make_staff(rt, roles=["agent"])
    client.cookies.clear()
    token2 = await web_login(client, other)
    r = await client.post(
        f"/phone/contacts/{cid}/customer", data={"csrf_token": token2, "customer_id": str(customer.id)}
    )
    assert r.status_code == 404  # not their call


async def test_customer_pages_open_in_the_dialog_frame_only_from_this_site(rt, client):
    agent = await make_staff(rt, roles=["agent"])
    customer = await make_customer(rt)
    await web_login(client, agent)
    plain = await client.get(f"/customers/{customer.id}")
    assert plain.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in plain.headers["content-security-policy"]
    assert 'class="topbar"' in plain.text
    for r in (await client.get(f"/customers/{customer.id}?embed=1"),
              await client.get(f"/customers/{customer.id}", headers={"Sec-Fetch-Dest": "iframe"})):  # fmt: skip
        assert r.status_code == 200
        assert r.headers["x-frame-options"] == "SAMEORIGIN"
        assert "frame-ancestors 'self'" in r.headers["content-security-policy"]
        assert 'class="topbar"' not in r.text
        assert 'class="sidebar"' not in r.text
        assert '<body class="embed">' in r.text
        assert "/static/desk.css" in r.text


async def test_script_pages_are_for_team_leads_and_supervisors(rt, client):
    await setup_routing(rt)
    await add_cards_queue(rt)
    agent = await make_staff(rt, roles=["agent"])
    await web_login(client, agent)
    assert (await client.get("/scripts")).status_code == 403
    assert (await client.get("/scripts/new")).status_code == 403
    client.cookies.clear()
    boss = await make_staff(rt, roles=["supervisor"])
    await web_login(client, boss)
    assert (await client.get("/scripts")).status_code == 200
    client.cookies.clear()
    lead = await make_staff(rt, roles=["team_lead"])
    token = await web_login(client, lead)
    form = {"csrf_token": token, "scenario": "card_loss", "name": "挂失话术", "queue_codes": "", "channel": "phone",
            "locale": "zh-Hans", "greeting": "您好，我是{agent_no}号，马上为您挂失", "confirmation": "", "closing": "再见",
            "notes": ""}  # fmt: skip
    r = await client.post("/scripts/new", data=form)
    assert r.status_code == 422
    assert "alert-error" in r.text
    assert "马上为您挂失" in r.text
    assert 'value="挂失话术"' in r.text
    form["queue_codes"] = "cards"
    r = await client.post("/scripts/new", data=form)
    assert r.status_code == 303, r.text
    sid = int(re.search(r"script-(\d+)", r.headers["location"]).group(1))  # type: ignore[union-attr]
    listing = (await client.get("/scripts")).text
    assert f'data-script-row="{sid}"' in listing
    assert "v1" in listing
    page = await client.get(f"/scripts/{sid}")
    assert page.status_code == 200
    assert 'value="cards"' in page.text
    r = await client.post(f"/scripts/{sid}", data={**form, "greeting": "您好{oops}"})
    assert r.status_code == 422
    assert "您好{oops}" in r.text
    r = await client.post(f"/scripts/{sid}", data={**form, "closing": "感谢来电，再见"})
    assert r.status_code == 303
    r = await client.post(f"/scripts/{sid}/deactivate", data={"csrf_token": token})
    assert r.status_code == 303
    rows = await raw_rows(rt, "SELECT active, version FROM call_scripts WHERE id = :i", i=sid)
    assert (bool(rows[0].active), rows[0].version) == (False, 3)
    assert (await client.get("/scripts/999999")).status_code == 404
