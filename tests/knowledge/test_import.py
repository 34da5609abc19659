"""Import and export (``kefu kb import/export``, ``POST /api/v1/kb/import``): idempotent by key, errors
reported per line while the other lines import, ``publish`` as a system import, and a lossless round
trip through the export."""

from __future__ import annotations

import copy

import pytest

from kefu.core import clock
from kefu.knowledge import importer, index, service
from tests.customers.helpers import audit_rows
from tests.factories import raw_rows
from tests.knowledge.entries_helpers import T0, Notified, as_, call, headers, team

LINES = [
    {"key": "card-loss", "category": "借记卡/挂失补办", "question": "银行卡丢了怎么挂失？",
     "similar": ["卡丢了怎么办", "銀行卡遺失如何掛失"], "keywords": ["挂失", "止付"],
     "answer": "1. 拨打客服热线。\n2. 按语音提示办理口头挂失。\n3. 五日内到网点办理书面挂失。"},
    {"key": "card-swallowed", "category": "借记卡/ATM", "question": "ATM吞卡了怎么办？",
     "similar": ["取款机把卡吞了"], "keywords": ["吞卡", "ATM"], "answer": "带身份证到该ATM所属网点领卡。"},
    {"key": "cc-annual-fee", "category": "信用卡", "question": "信用卡年费怎么收？", "similar": [], "keywords": ["年费"],
     "answer": "首年免年费，当年刷卡满6次免次年年费。", "products": ["标准信用卡"], "channels": ["phone", "bot"],
     "effective_from": "2026-01-01", "effective_to": "2026-12-31"},
]  # fmt: skip


@pytest.fixture
async def people(rt):
    clock.freeze(T0)
    return await team(rt)


async def _import(rt, lines, *, publish=False, actor=None):
    return await call(rt, importer.import_entries, actor=actor, lines=copy.deepcopy(lines), publish=publish)


async def _versions(rt) -> int:
    return int((await raw_rows(rt, "SELECT count(*) FROM kb_entry_versions"))[0][0])


async def test_a_re_import_changes_nothing(rt, people):
    first = await _import(rt, LINES, actor=as_(people["editor"]))
    assert first == {"created": 3, "updated": 0, "unchanged": 0, "errors": []}
    rows = await raw_rows(rt, "SELECT key, status, version, created_by FROM kb_entries ORDER BY key")
    assert [tuple(r) for r in rows] == [("card-loss", "draft", 1, people["editor"].id),
                                        ("card-swallowed", "draft", 1, people["editor"].id),
                                        ("cc-annual-fee", "draft", 1, people["editor"].id)]  # fmt: skip
    paths = sorted(r[0] for r in await raw_rows(rt, "SELECT path FROM kb_categories"))
    assert paths == ["信用卡", "借记卡", "借记卡/ATM", "借记卡/挂失补办"]
    assert await _import(rt, LINES) == {"created": 0, "updated": 0, "unchanged": 3, "errors": []}
    assert await _versions(rt) == 3
    changed = copy.deepcopy(LINES)
    changed[1]["answer"] = "带本人身份证到该ATM所属网点领回卡片。"
    del changed[2]["products"]  # left out: keeps its value
    assert await _import(rt, changed) == {"created": 0, "updated": 1, "unchanged": 2, "errors": []}
    rows = await raw_rows(rt, "SELECT key, version, products FROM kb_entries ORDER BY key")
    assert [tuple(r) for r in rows] == [("card-loss", 1, "[]"), ("card-swallowed", 2, "[]"),
                                        ("cc-annual-fee", 1, '["标准信用卡"]')]  # fmt: skip
    actions = [r.action for r in await audit_rows(rt, "kb_entry.")]
    assert actions == ["kb_entry.import"] * 4
    summaries = await audit_rows(rt, "kb.import")
    assert len(summaries) == 3
    assert '"updated":1' in summaries[-1].after


async def test_errors_are_reported_per_line_and_the_rest_imports(rt, people):
    good = LINES[0]
    lines = [
        good,
        {**LINES[1], "key": ""},
        {**LINES[1], "category": "借记卡//ATM"},
        {**LINES[1], "colour": "red"},
        {**good, "answer": "重复的键"},
        {**LINES[2], "effective_to": "2025-12-31"},
        {**LINES[2], "question": "长" * 301},
        "not an object",
        {"key": "no-answer", "category": "信用卡", "question": "没有答案的问题"},
        LINES[2],
    ]
    result = await _import(rt, lines)
    assert (result["created"], result["updated"], result["unchanged"]) == (2, 0, 0)
    errors = {e["line"]: (e["key"], e["message"]) for e in result["errors"]}
    assert sorted(errors) == [2, 3, 4, 5, 6, 7, 8, 9]
    assert errors[2] == (None, errors[2][1])
    assert "Give each line a key" in errors[2][1]
    assert "non-empty names" in errors[3][1]
    assert errors[4][1].startswith("Unknown field colour")
    assert errors[5] == ("card-loss", "Key card-loss already appears on line 1; keep one line per key.")
    assert "must not be before its first day" in errors[6][1]
    assert "2 to 300 characters" in errors[7][1]
    assert errors[8][0] is None
    assert "JSON object" in errors[8][1]
    assert errors[9] == ("no-answer", "Give the entry's answer.")
    assert all(msg.endswith(".") for _, msg in errors.values())
    keys = sorted(r[0] for r in await raw_rows(rt, "SELECT key FROM kb_entries"))
    assert keys == ["card-loss", "cc-annual-fee"]
    paths = sorted(r[0] for r in await raw_rows(rt, "SELECT path FROM kb_categories"))
    assert paths == ["信用卡", "借记卡", "借记卡/挂失补办"], "no category made for a refused line"


async def test_publish_is_a_system_import_without_a_reviewer(rt, client, people, monkeypatch):
    notified = Notified()
    monkeypatch.setattr(index, "notify_changed", notified)
    retired_line = {**LINES[1], "status": "retired"}
    result = await _import(rt, [LINES[0], retired_line, LINES[2]], publish=True)
    assert (result["created"], result["errors"]) == (3, [])
    rows = await raw_rows(rt, "SELECT key, status, live_version, reviewer_id, review_note FROM kb_entries ORDER BY key")
    assert [tuple(r) for r in rows] == [
        ("card-loss", "published", 1, None, importer.IMPORT_NOTE),
        ("card-swallowed", "draft", None, None, ""),
        ("cc-annual-fee", "published", 1, None, importer.IMPORT_NOTE),
    ]
    assert notified.calls == 1
    (loss_id,) = [r[0] for r in await raw_rows(rt, "SELECT id FROM kb_entries WHERE key = 'card-loss'")]
    r = await client.get(f"/api/v1/kb/articles/{loss_id}", headers=(await headers(client, {"a": people["agent"]}))["a"])
    assert r.status_code == 200, r.text
    assert (await _import(rt, [LINES[0], LINES[2]], publish=True))["unchanged"] == 2
    assert notified.calls == 1, "nothing published, nothing to tell the index"
    changed = {**LINES[0], "keywords": ["挂失", "止付", "冻结"]}
    assert (await _import(rt, [changed], publish=True))["updated"] == 1
    assert (await raw_rows(rt, "SELECT version, live_version FROM kb_entries WHERE id = :i", i=loss_id))[0] == (2, 2)
    imported = await audit_rows(rt, "kb_entry.import")
    assert [x.purpose for x in imported] == [importer.IMPORT_NOTE, None, importer.IMPORT_NOTE, importer.IMPORT_NOTE]
    assert {x.actor for x in imported} == {"system"}
    assert '"live_version":2' in imported[-1].after
    # a draft with the same content is published by a publishing import (and counts as updated)
    new = {**LINES[0], "key": "card-loss-2"}
    assert (await _import(rt, [new]))["created"] == 1
    assert (await _import(rt, [new], publish=True))["updated"] == 1
    rows = await raw_rows(rt, "SELECT status, version, live_version FROM kb_entries WHERE key = 'card-loss-2'")
    assert [tuple(r) for r in rows] == [("published", 1, 1)]
    assert [x.purpose for x in await audit_rows(rt, "kb_entry.import_publish")] == [importer.IMPORT_NOTE]
    assert notified.calls == 3


async def test_the_export_imports_back_unchanged(rt, people):
    await _import(rt, LINES, publish=True)
    e = await call(rt, service.get_entry, 1)
    await call(rt, service.retire, actor=as_(people["reviewer"]), entry_id=e.id, reason="测试停用")
    exported = await call(rt, importer.export_entries)
    assert [x["key"] for x in exported] == ["card-loss", "card-swallowed", "cc-annual-fee"]
    fee = exported[2]
    assert {k: fee[k] for k in ("category", "products", "channels", "effective_from", "effective_to", "status")} == {
        "category": "信用卡", "products": ["标准信用卡"], "channels": ["phone", "bot"],
        "effective_from": "2026-01-01", "effective_to": "2026-12-31", "status": "published",
    }  # fmt: skip
    assert exported[0]["status"] == "retired"
    before = await _versions(rt)
    assert await _import(rt, exported, publish=True) == {"created": 0, "updated": 0, "unchanged": 3, "errors": []}
    assert await _versions(rt) == before
    assert (await call(rt, service.get_entry, e.id)).status == "retired", "a retired line is not published again"


async def test_import_and_export_over_the_api(rt, client, people):
    h = await headers(client, people)
    r = await client.post("/api/v1/kb/import", headers=h["editor"], json=LINES)
    assert r.status_code == 200, r.text
    assert r.json() == {"created": 3, "updated": 0, "unchanged": 0, "errors": []}
    assert {x[0] for x in await raw_rows(rt, "SELECT status FROM kb_entries")} == {"draft"}, "drafts for review"
    r = await client.post("/api/v1/kb/import", headers=h["editor"], json=[{"key": "x"}] * 5001)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    r = await client.post("/api/v1/kb/import", headers=h["editor"], json=[{"key": "x", "category": "信用卡"}])
    assert r.json()["errors"] == [{"line": 1, "key": "x", "message": "Give the entry's question."}]
    assert (await client.post("/api/v1/kb/import", headers=h["agent"], json=LINES)).status_code == 403
    broken = (
        '[{"key": "k\\ud800", "category": "a", "question": "abc", "answer": "x"},'
        ' {"key": "k2", "category": "a", "question": "abc", "answer": "x", "similar": ["\\udfff"]},'
        ' {"key": "k3", "category": "a\\ud800", "question": "abc", "answer": "x"}]'
    )
    r = await client.post("/api/v1/kb/import", headers={**h["editor"], "content-type": "application/json"},
                          content=broken)  # fmt: skip
    assert r.status_code == 200, "broken characters are reported, never stored"
    assert [(e["line"], e["key"]) for e in r.json()["errors"]] == [(1, "k?"), (2, "k2"), (3, "k3")]
    assert "broken ones" in r.json()["errors"][1]["message"]
    r = await client.get("/api/v1/kb/export", headers=h["editor"])
    assert r.status_code == 200
    assert [x["key"] for x in r.json()] == ["card-loss", "card-swallowed", "cc-annual-fee"]
    assert (await client.get("/api/v1/kb/export", headers=h["agent"])).status_code == 403
