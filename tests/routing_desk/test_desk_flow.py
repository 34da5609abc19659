"""End to end through the HTTP API: CTI call events, the agent desk, wrap-up, ring-outs, transfers, callbacks."""

from __future__ import annotations

import datetime as dt

from kefu.core import clock
from kefu.routing import service as routing_service
from tests.routing_desk.helpers import call, contact, cti, desk, make_center, ready, wrapup

PROBLEM = "application/problem+json"


async def test_call_queues_then_rings_the_agent_who_goes_ready(rt, client):
    center = await make_center(rt, client, agents=1)
    answer = await call(client, center, "pbx-1")
    assert answer["action"] == "queue"
    assert answer["queue"] == "general"
    r = await ready(client, center.headers[0])
    assert r.status_code == 200, r.text
    state = await desk(client, center.headers[0])
    assert state["presence"] == "offered"
    [ringing] = state["contacts"]
    assert ringing["contact_id"] == answer["contact_id"]
    assert ringing["caller"] == "139****1111"  # masked, never the number in clear
    assert ringing["expires_at"]

    clock.advance(dt.timedelta(seconds=7))
    r = await client.post(f"/api/v1/desk/contacts/{ringing['contact_id']}/accept", headers=center.headers[0])
    assert r.status_code == 204, r.text
    rec = await contact(client, center.headers[0], ringing["contact_id"])
    assert rec["status"] == "connected"
    assert rec["rings"] == 2  # 7 s at 5 s a ring
    assert rec["within_target"] is True


async def test_answer_hang_up_and_wrap_up_before_ready(rt, client):
    center = await make_center(rt, client, agents=1)
    h = center.headers[0]
    assert (await ready(client, h)).status_code == 200
    answer = await call(client, center, "pbx-2", ivr=["1"])
    assert answer["action"] == "route"
    assert answer["queue"] == "cards"
    assert answer["extension"] == center.agents[0].staff_no
    cid = answer["contact_id"]
    # the PBX reports the pick-up; the agent presses answer too: both are fine
    r = await cti(client, center, "call.answered", "pbx-2", extension=center.agents[0].staff_no)
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/desk/contacts/{cid}/hold", headers=h)
    assert r.status_code == 204, r.text
    clock.advance(dt.timedelta(seconds=30))
    r = await client.post(f"/api/v1/desk/contacts/{cid}/resume", headers=h)
    assert r.status_code == 204
    r = await client.post(f"/api/v1/desk/contacts/{cid}/hangup", headers=h)
    assert r.status_code == 204, r.text
    state = await desk(client, h)
    assert state["presence"] == "wrap_up"
    assert [p["contact_id"] for p in state["pending_wrapups"]] == [cid]
    # no ready without the wrap-up record (R1.5)
    r = await ready(client, h)
    assert r.status_code == 409
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["code"] == "wrapup_required"
    r = await wrapup(client, center, h, cid)
    assert r.status_code == 201, r.text
    assert (await ready(client, h)).status_code == 200
    rec = await contact(client, h, cid)
    assert rec["status"] == "closed"
    assert rec["hold_seconds"] >= 30
    # the PBX's hang-up after the agent's is harmless
    r = await cti(client, center, "call.hangup", "pbx-2")
    assert r.status_code == 200, r.text


async def test_retried_call_new_is_the_same_contact_and_hangup_before_answer_abandons(rt, client):
    center = await make_center(rt, client, agents=1)
    first = await call(client, center, "pbx-3")
    again = await call(client, center, "pbx-3")
    assert again["contact_id"] == first["contact_id"]
    clock.advance(dt.timedelta(seconds=12))
    r = await cti(client, center, "call.hangup", "pbx-3")
    assert r.status_code == 200, r.text
    rec = await contact(client, center.supervisor, first["contact_id"])
    assert rec["status"] == "abandoned"
    # the engine forgot it: the agent going ready gets nothing
    assert (await ready(client, center.headers[0])).status_code == 200
    assert (await desk(client, center.headers[0]))["contacts"] == []


async def test_no_route_rejects_and_records(rt, client):
    center = await make_center(rt, client, agents=1)
    async with rt.db.transaction() as s:
        from kefu.routing import config_service

        for route in await config_service.list_ivr_routes(s):
            await config_service.delete_ivr_route(s, actor=None, route_id=route.id)
    answer = await call(client, center, "pbx-4")
    assert answer["action"] == "reject"
    assert answer["reason"] == "no_route"
    assert (await contact(client, center.supervisor, answer["contact_id"]))["status"] == "rejected"


async def test_ring_out_moves_the_offer_to_the_next_agent(rt, client):
    center = await make_center(rt, client, agents=2)
    a, b = center.headers
    assert (await ready(client, a)).status_code == 200
    clock.advance(dt.timedelta(seconds=1))
    assert (await ready(client, b)).status_code == 200
    answer = await call(client, center, "pbx-5")
    assert answer["extension"] == center.agents[0].staff_no  # longest idle first
    clock.advance(dt.timedelta(seconds=16))  # 3 rings of 5 s
    await routing_service.tick(rt)
    state_a = await desk(client, a)
    assert state_a["presence"] == "not_ready"
    assert state_a["reason"] == "no_answer"
    state_b = await desk(client, b)
    assert state_b["presence"] == "offered"
    assert state_b["contacts"][0]["contact_id"] == answer["contact_id"]
    rec = await contact(client, center.supervisor, answer["contact_id"])
    assert rec["offers"] == 2


async def test_consult_transfer_keeps_the_first_agent_as_owner_until_accepted(rt, client):
    center = await make_center(rt, client, agents=2)
    a, b = center.headers
    assert (await ready(client, a)).status_code == 200
    answer = await call(client, center, "pbx-6")
    cid = answer["contact_id"]
    assert (await client.post(f"/api/v1/desk/contacts/{cid}/accept", headers=a)).status_code == 204
    r = await client.post(f"/api/v1/desk/contacts/{cid}/transfer", headers=a,
                          json={"staff_no": center.agents[1].staff_no, "mode": "consult"})  # fmt: skip
    assert r.status_code == 204, r.text
    rec = await contact(client, center.supervisor, cid)
    assert rec["owner_id"] == center.agents[0].id
    assert (await ready(client, b)).status_code == 200
    state_b = await desk(client, b)
    assert state_b["presence"] == "offered"
    assert [(c["contact_id"], c["status"]) for c in state_b["contacts"]] == [(cid, "offered")]
    assert (await client.post(f"/api/v1/desk/contacts/{cid}/accept", headers=b)).status_code == 204
    rec = await contact(client, center.supervisor, cid)
    assert rec["owner_id"] == center.agents[1].id
    assert rec["agent_id"] == center.agents[1].id
    assert rec["transfers"] == 1
    assert (await desk(client, a))["presence"] == "wrap_up"
    # the first agent owes no wrap-up: the agent who ends the contact records it
    assert (await ready(client, a)).status_code == 200


async def test_transfer_errors_are_clear(rt, client):
    center = await make_center(rt, client, agents=1)
    h = center.headers[0]
    assert (await ready(client, h)).status_code == 200
    cid = (await call(client, center, "pbx-7"))["contact_id"]
    r = await client.post(f"/api/v1/desk/contacts/{cid}/transfer", headers=h, json={"queue": "general"})
    assert r.status_code == 409, "cannot transfer a call that is still ringing"
    assert r.headers["content-type"].startswith(PROBLEM)
    assert (await client.post(f"/api/v1/desk/contacts/{cid}/accept", headers=h)).status_code == 204
    r = await client.post(f"/api/v1/desk/contacts/{cid}/transfer", headers=h, json={})
    assert r.status_code == 422
    r = await client.post(f"/api/v1/desk/contacts/{cid}/transfer", headers=h, json={"staff_no": "NOSUCH"})
    assert r.status_code == 422
    assert "NOSUCH" in r.json()["detail"]
    r = await client.post(f"/api/v1/desk/contacts/{cid}/transfer", headers=h, json={"queue": "no_such_queue"})
    assert r.status_code in (404, 409, 422)
    assert r.status_code != 500


async def test_scheduled_callback_is_offered_to_the_agent_when_due(rt, client):
    center = await make_center(rt, client, agents=1)
    h = center.headers[0]
    assert (await ready(client, h)).status_code == 200
    cid = (await call(client, center, "pbx-8"))["contact_id"]
    assert (await client.post(f"/api/v1/desk/contacts/{cid}/accept", headers=h)).status_code == 204
    due = (clock.now() + dt.timedelta(hours=4)).isoformat()
    r = await client.post(f"/api/v1/desk/contacts/{cid}/callback", headers=h, json={"due_at": due})
    assert r.status_code == 201, r.text
    callback_id = r.json()["contact_id"]
    assert (await client.post(f"/api/v1/desk/contacts/{cid}/hangup", headers=h)).status_code == 204
    assert (await wrapup(client, center, h, cid, result="callback_scheduled")).status_code == 201
    assert (await ready(client, h)).status_code == 200
    await routing_service.tick(rt)
    assert (await desk(client, h))["presence"] == "ready"
    clock.advance(dt.timedelta(hours=4, seconds=1))
    await routing_service.tick(rt)
    state = await desk(client, h)
    assert state["presence"] == "offered"
    assert state["contacts"][0]["contact_id"] == callback_id
    assert state["contacts"][0]["direction"] == "outbound"
    r = await client.post(
        f"/api/v1/desk/contacts/{cid}/callback", headers=h, json={"due_at": "2020-01-01T00:00:00+08:00"}
    )
    assert r.status_code == 422


async def test_presence_rules(rt, client):
    center = await make_center(rt, client, agents=1)
    h = center.headers[0]
    r = await client.post("/api/v1/desk/presence", json={"presence": "not_ready"}, headers=h)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "reason"
    r = await client.post("/api/v1/desk/presence", json={"presence": "busy"}, headers=h)
    assert r.status_code == 422
    r = await client.post("/api/v1/desk/presence", json={"presence": "not_ready", "reason": "meal"}, headers=h)
    assert r.status_code == 200
    assert r.json()["reason"] == "meal"
    # an agent without skills cannot go ready
    from tests.factories import auth_headers, make_staff

    newcomer = await make_staff(rt, roles=["agent"])
    r = await ready(client, await auth_headers(client, newcomer))
    assert r.status_code == 409
    assert r.json()["code"] == "no_skills"


async def test_wallboard_shows_queues_agents_and_todays_service_level(rt, client):
    center = await make_center(rt, client, agents=1)
    h = center.headers[0]
    assert (await ready(client, h)).status_code == 200
    cid = (await call(client, center, "pbx-9"))["contact_id"]
    await call(client, center, "pbx-10")
    clock.advance(dt.timedelta(seconds=4))
    assert (await client.post(f"/api/v1/desk/contacts/{cid}/accept", headers=h)).status_code == 204
    r = await client.get("/api/v1/routing/live", headers=center.supervisor)
    assert r.status_code == 200, r.text
    live = r.json()
    general = next(q for q in live["queues"] if q["queue"] == "general")
    assert general["waiting"] == 1
    assert [a["presence"] for a in live["agents"]] == ["busy"]
    assert live["agent_totals"] == {"agents_ready": 0, "agents_busy": 1, "agents_not_ready": 0}
    assert live["today"]["all"]["answered"] == 1
    r = await client.get("/api/v1/routing/live", headers=h)
    assert r.status_code == 403, "agents do not see the wallboard"


async def test_simulator_drives_the_same_path_and_can_be_turned_off(rt, app, client):
    center = await make_center(rt, client, agents=1)
    h = center.headers[0]
    r = await client.post("/api/v1/cti/simulate", json={"ivr": ["1"]}, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["action"] == "queue"
    assert body["call_id"].startswith("sim-")
    r = await client.post("/api/v1/cti/simulate/hangup", json={"call_id": body["call_id"]}, headers=h)
    assert r.status_code == 200
    assert r.json()["status"] == "abandoned"
    r = await client.post("/api/v1/cti/simulate/hangup", json={"call_id": "pbx-real"}, headers=h)
    assert r.status_code == 404
    app.state.settings.softphone_simulator = False
    try:
        r = await client.post("/api/v1/cti/simulate", json={}, headers=h)
        assert r.status_code == 404
    finally:
        app.state.settings.softphone_simulator = True
    # CTI events need the cti.events key
    r = await client.post("/api/v1/cti/events", json={"event": "call.new", "call_id": "x"}, headers=h)
    assert r.status_code == 403
    r = await client.post("/api/v1/cti/events", json={"event": "call.new", "call_id": "bad id!"}, headers=center.cti)
    assert r.status_code == 422
    r = await cti(client, center, "call.held", "never-seen")
    assert r.status_code == 404


async def test_a_suspended_agent_stops_receiving_calls_at_once(rt, client):
    from tests.factories import auth_headers, make_staff

    center = await make_center(rt, client, agents=2)
    a, b = center.headers
    assert (await ready(client, a)).status_code == 200
    clock.advance(dt.timedelta(seconds=1))
    assert (await ready(client, b)).status_code == 200
    await routing_service.get_engine(rt)  # the serving process holds the engine
    admin = await auth_headers(client, await make_staff(rt, roles=["admin"]))
    r = await client.post(f"/api/v1/staff/{center.agents[0].id}/status", headers=admin,
                          json={"status": "suspended", "reason": "调查期间暂停"})  # fmt: skip
    assert r.status_code == 200, r.text
    engine = await routing_service.get_engine(rt)
    view = await engine.agent(center.agents[0].id)
    assert view is not None
    assert view.presence.value == "logged_out"
    answer = await call(client, center, "pbx-11")
    assert answer["extension"] == center.agents[1].staff_no
