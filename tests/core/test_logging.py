"""Nothing personal reaches a log line: not while the demo loads, not during a login."""

from __future__ import annotations

import io
import json
import logging

import structlog

from kefu.core import logging as kefu_logging
from kefu.core.logging import scrub_processor
from kefu.staff import demo
from kefu.staff import repository as repo
from tests.factories import make_staff

PHONE = "13912345678"
ID_NUMBER = "11010519491231002X"
CARD = "6222021234567890"


def test_scrub_processor_masks_phone_id_and_card():
    event = {
        "event": f"customer {PHONE} called about card {CARD}, ID {ID_NUMBER}",
        "caller": "+86 139-1234-5678",
        "nested": {"cards": [CARD, "x"], "password": "Secret-123"},
        "password": "Secret-123",
        "Authorization": "Bearer abc",
        "count": 3,
    }
    out = scrub_processor(None, "info", dict(event))
    flat = json.dumps(out, ensure_ascii=False)
    for secret in (PHONE, CARD, ID_NUMBER, "139-1234-5678", "Secret-123", "Bearer abc"):
        assert secret not in flat, secret
    assert "139****5678" in out["event"]
    assert "622202******7890" in out["event"]
    assert "110" + "*" * 11 + "002X" in out["event"]
    assert out["password"] == "***"
    assert out["nested"]["password"] == "***"
    assert out["Authorization"] == "***"
    assert out["count"] == 3


def test_configured_logging_masks_structlog_and_stdlib_lines():
    stream = io.StringIO()
    kefu_logging.configure("INFO", json=True, stream=stream)
    structlog.get_logger("t").info("lookup", phone=PHONE, note=f"card {CARD}")
    logging.getLogger("some.library").warning("id number %s seen", ID_NUMBER)
    out = stream.getvalue()
    assert "lookup" in out
    assert "id number" in out
    for secret in (PHONE, CARD, ID_NUMBER):
        assert secret not in out


async def test_no_personal_data_in_logs_during_demo_load_and_login(rt, client):
    stream = io.StringIO()
    kefu_logging.configure("DEBUG", json=True, stream=stream)
    async with rt.db.transaction() as s:
        accounts = await demo.load(s)
    extra = await make_staff(rt, roles=["agent"], id_number="110101199001011237", email="extra@kefu-test.example")
    a = next(a for a in accounts if a.totp_secret is None)
    r = await client.post("/api/v1/auth/token", json={"username": a.staff_no, "password": a.password})
    assert r.status_code == 200
    token = r.json()["access_token"]
    r = await client.get("/api/v1/staff/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    r = await client.post("/api/v1/auth/token", json={"username": a.staff_no, "password": a.password + "x"})
    assert r.status_code == 401
    # a log line that carries personal data on purpose must come out masked
    structlog.get_logger("kefu.test").info("caller identified", phone=extra.phone, id_number=extra.id_number)

    out = stream.getvalue()
    assert '"request"' in out, "nothing was logged: the test would prove nothing"
    assert "/api/v1/auth/token" in out
    secrets: list[str] = [token, extra.phone or "", extra.id_number or "", extra.email or ""]
    async with rt.db.transaction() as s:
        for acc in accounts:
            st = await repo.get_staff_by_no(s, acc.staff_no)
            assert st is not None
            secrets += [st.phone or "", st.email or "", st.id_number or "", acc.password, acc.totp_secret or ""]
    secrets = [x for x in secrets if x]
    assert len(secrets) > 3 * len(accounts)
    leaked = [x for x in secrets if x in out]
    assert not leaked, f"personal data or secrets in the log: {leaked}"
