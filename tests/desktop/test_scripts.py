"""Call scripts: which one a contact gets (queue scenario, else default; customer's language, else
Simplified Chinese; active only; per channel), the placeholders, and the API (who may read and write,
problem+json for bad input, versions and the audit log)."""

from __future__ import annotations

from kefu.scripts import service as scripts
from tests.desktop.helpers import add_cards_queue, add_script
from tests.factories import auth_headers, make_staff, principal_of, raw_rows
from tests.web.phone_helpers import setup_routing


async def _for(rt, queue, channel="phone", locale=None):
    async with rt.db.transaction() as s:
        found = await scripts.for_contact(s, queue=queue, channel=channel, locale=locale)
        return (found.scenario, found.locale) if found else None


async def test_the_queue_scenario_wins_else_the_default_in_the_customers_language(rt):
    await setup_routing(rt)
    await add_cards_queue(rt)
    assert await _for(rt, "cards") is None  # nothing written yet
    await add_script(rt, scenario="default", greeting="默认 {agent_no}")
    await add_script(rt, scenario="default", locale="en", greeting="Default {agent_no}")
    card = await add_script(rt, scenario="card_loss", queue_codes=["cards"], greeting="挂失 {agent_no}")
    assert await _for(rt, "cards") == ("card_loss", "zh-Hans")
    assert await _for(rt, "cards", locale="en") == ("card_loss", "zh-Hans")  # no English card script: zh-Hans
    assert await _for(rt, "general", locale="en") == ("default", "en")
    assert await _for(rt, "general", locale="zh-Hant") == ("default", "zh-Hans")
    assert await _for(rt, None) == ("default", "zh-Hans")
    assert await _for(rt, "general", channel="chat") is None  # scripts are per channel
    lead = principal_of(await make_staff(rt, roles=["team_lead"]))
    async with rt.db.transaction() as s:
        await scripts.update(s, actor=lead, script_id=card, changes={"active": False})
    assert await _for(rt, "cards") == ("default", "zh-Hans")  # a retired script is never offered


def test_placeholders_are_filled_and_the_customer_is_addressed_by_masked_surname():
    assert scripts.customer_title("林*雯", "F", "zh-Hans") == "林女士"
    assert scripts.customer_title("王*", "M", "zh-Hant") == "王先生"
    assert scripts.customer_title("林*雯", None, "en") == "林"
    assert scripts.customer_title(None, "F", "zh-Hans") == ""
    assert scripts.fill("您好{customer}，我是{agent_no}号 {other}", agent_no="10001", customer="林女士") == (
        "您好林女士，我是10001号 {other}"
    )
    assert scripts.fill("broken {", agent_no="1", customer="") == "broken {"
    # an unidentified caller leaves no doubled comma or stray space
    assert scripts.fill("您好，{customer}，我是{agent_no}号", agent_no="10001", customer="") == "您好，我是10001号"
    assert scripts.fill("Good day {customer}, this is {agent_no}.", agent_no="7", customer="") == "Good day, this is 7."


async def test_the_api_reads_for_staff_and_writes_for_team_leads_with_problem_json(rt, client):
    await setup_routing(rt)
    await add_cards_queue(rt)
    agent = await make_staff(rt, roles=["agent"])
    lead = await make_staff(rt, roles=["team_lead"])
    boss = await make_staff(rt, roles=["supervisor"])
    ah, lh, bh = (await auth_headers(client, agent), await auth_headers(client, lead), await auth_headers(client, boss))
    body = {"scenario": "default", "name": "通用", "greeting": "您好，我是{agent_no}号", "closing": "再见"}

    r = await client.post("/api/v1/scripts", json=body, headers=ah)
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    r = await client.post("/api/v1/scripts", json=body, headers=lh)
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["version"] == 1
    assert first["queue_codes"] == []

    bad = [
        ({**body, "scenario": "Card Loss"}, "scenario"),
        ({**body, "scenario": "card_loss"}, "queue_codes"),  # a scenario names its queues
        ({**body, "scenario": "card_loss", "queue_codes": ["nope"]}, "queue_codes"),
        ({**body, "scenario": "default", "queue_codes": ["cards"]}, "queue_codes"),
        ({**body, "locale": "en", "greeting": "Hi {name}"}, "greeting"),
        ({**body, "locale": "en", "greeting": "Hi {agent_no"}, "greeting"),
        ({**body, "locale": "fr"}, "locale"),
        ({**body, "channel": "fax"}, "channel"),
        ({**body, "locale": "en", "greeting": "  "}, "greeting"),
    ]
    for payload, field in bad:
        r = await client.post("/api/v1/scripts", json=payload, headers=bh)
        assert r.status_code == 422, (payload, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        assert problem["errors"][0]["field"] == field, problem
        assert problem["detail"]
    r = await client.post("/api/v1/scripts", json={**body, "greeting": "x" * 2001}, headers=bh)
    assert r.status_code == 422
    r = await client.post("/api/v1/scripts", json=body, headers=bh)  # the same scenario, channel and language
    assert r.status_code == 409
    assert r.json()["existing_id"] == first["id"]

    r = await client.post("/api/v1/scripts", json={**body, "scenario": "card_loss", "name": "挂失",
                                                    "queue_codes": ["cards"]}, headers=bh)  # fmt: skip
    assert r.status_code == 201, r.text
    card = r.json()
    r = await client.patch(
        f"/api/v1/scripts/{card['id']}", json={"greeting": "挂失请稍候，我是{agent_no}号"}, headers=lh
    )
    assert r.status_code == 200
    assert r.json()["version"] == 2
    r = await client.patch(
        f"/api/v1/scripts/{card['id']}", json={"greeting": "挂失请稍候，我是{agent_no}号"}, headers=lh
    )
    assert r.json()["version"] == 2  # nothing changed: no new version
    r = await client.patch(f"/api/v1/scripts/{card['id']}", json={"queue_codes": []}, headers=lh)
    assert r.status_code == 422
    r = await client.patch("/api/v1/scripts/999999", json={"name": "x"}, headers=lh)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")

    r = await client.get("/api/v1/scripts/for", params={"queue": "cards"}, headers=ah)
    assert r.status_code == 200
    assert r.json()["scenario"] == "card_loss"
    r = await client.get("/api/v1/scripts/for", params={"queue": "general", "channel": "email"}, headers=ah)
    assert r.status_code == 404
    r = await client.get("/api/v1/scripts/for", params={"queue": "general", "channel": "fax"}, headers=ah)
    assert r.status_code == 422

    r = await client.patch(f"/api/v1/scripts/{card['id']}", json={"active": False}, headers=lh)
    assert r.json()["version"] == 3
    assert not r.json()["active"]
    listed = (await client.get("/api/v1/scripts", headers=ah)).json()
    assert [s["scenario"] for s in listed["items"]] == ["default"]
    assert (await client.get("/api/v1/scripts?include_inactive=true", headers=ah)).status_code == 403
    assert (await client.get(f"/api/v1/scripts/{card['id']}", headers=ah)).status_code == 404
    everything = (await client.get("/api/v1/scripts?include_inactive=true", headers=bh)).json()
    assert everything["total"] == 2

    rows = await raw_rows(rt, "SELECT action, actor FROM audit_log WHERE object_type = 'call_script' ORDER BY seq")
    assert [r.action for r in rows] == ["script.create", "script.create", "script.update", "script.deactivate"]
    assert rows[0].actor == lead.staff_no
