"""Entries (R4.1): creation with keys and categories made on demand, validation that says what to fix,
edits that keep every version, diffs, the editors' list and the category tree, synonyms."""

from __future__ import annotations

import pytest

from kefu.core import clock
from kefu.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from kefu.knowledge import index, service
from kefu.knowledge.views import json_list
from tests.customers.helpers import audit_rows
from tests.factories import raw_rows
from tests.knowledge.entries_helpers import ANSWER, T0, Notified, as_, call, team


@pytest.fixture
async def people(rt):
    clock.freeze(T0)
    return await team(rt)


async def _create(rt, who, **kw):
    kw.setdefault("category_path", "借记卡/挂失补办")
    kw.setdefault("question", "银行卡丢了怎么挂失？")
    kw.setdefault("answer", ANSWER)
    return await call(rt, service.create_entry, actor=as_(who), **kw)


def _field(exc: pytest.ExceptionInfo) -> str:
    return str(exc.value.extra["errors"][0]["field"])


async def test_create_makes_a_draft_with_a_key_and_its_categories(rt, people):
    e = await _create(rt, people["editor"], similar=[" 卡丢了 ", "卡丢了", "", "卡片遗失怎么办"],
                      keywords=["挂失", "挂失"], channels=["phone", "chat"])  # fmt: skip
    assert (e.status, e.version, e.key) == ("draft", 1, f"kb-{e.id}")
    assert json_list(e.similar) == ["卡丢了", "卡片遗失怎么办"], "trimmed, empty and repeated ones dropped"
    assert json_list(e.keywords) == ["挂失"]
    assert (e.author_id, e.created_by, e.live, e.live_version) == (people["editor"].id, people["editor"].id, None, None)
    tree = await call(rt, service.category_tree)
    assert [(n["path"], n["count"]) for n in tree] == [("借记卡", 1)]
    assert [(n["path"], n["count"], n["parent_id"]) for n in tree[0]["children"]] == [
        ("借记卡/挂失补办", 1, tree[0]["id"])
    ]
    second = await _create(rt, people["editor"], key="card-loss-002", question="借记卡被吞了怎么办")
    assert second.key == "card-loss-002"
    assert second.category_id == e.category_id, "the category exists now"
    (v,) = await call(rt, service.versions, e.id)
    assert (v.version, v.action, v.changed_by) == (1, "create", people["editor"].id)
    actions = [r.action for r in await audit_rows(rt, "kb_")]
    assert actions == ["kb_category.create", "kb_category.create", "kb_entry.create", "kb_entry.create"]
    with pytest.raises(Conflict, match="already used by entry"):
        await _create(rt, people["editor"], key="card-loss-002")


async def test_a_generated_key_steps_around_a_taken_one(rt, people):
    first = await _create(rt, people["editor"])
    await _create(rt, people["editor"], key=f"kb-{first.id + 2}")
    third = await _create(rt, people["editor"])
    assert third.id == first.id + 2
    assert third.key == f"kb-{third.id}-2"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"question": "x"}, "question"),
        ({"answer": "   "}, "answer"),
        ({"key": "bad key!"}, "key"),
        ({"category_path": "借记卡//挂失"}, "category"),
        ({"category_path": "a/b/c/d/e/f"}, "category"),
        ({"category_path": None, "category_id": 99999}, "category_id"),
        ({"category_path": None}, "category_path"),
        ({"keywords": ["x" * 41]}, "keywords"),
        ({"similar": [f"问法{i}" for i in range(51)]}, "similar"),
        ({"effective_from": "2026-12-31", "effective_to": "2026-12-01"}, "effective_to"),
        ({"effective_to": "31/12/2026"}, "effective_to"),
        ({"expert_id": 99999}, "expert_id"),
        ({"internal_notes": "bad\x00note"}, "internal_notes"),
    ],
)
async def test_invalid_entries_are_refused_with_the_field(rt, people, changes, field):
    with pytest.raises(ValidationFailed) as exc:
        await _create(rt, people["editor"], **changes)
    assert _field(exc) == field
    assert exc.value.detail.endswith(".")
    assert await raw_rows(rt, "SELECT id FROM kb_entries") == []
    assert await raw_rows(rt, "SELECT id FROM kb_categories") == [], "no category made for a refused entry"


async def test_only_editors_write(rt, people):
    for who in ("agent", "sup"):
        with pytest.raises(PermissionDenied, match="Only knowledge-base editors"):
            await _create(rt, people[who])


async def test_an_edit_is_a_new_version_and_a_diff_shows_it(rt, people):
    e = await _create(rt, people["editor"], keywords=["挂失"])
    upd = await call(rt, service.update_entry, actor=as_(people["editor2"]), entry_id=e.id,
                     question="借记卡丢了怎么挂失？", keywords=["挂失", "止付"], category_path="借记卡/安全")  # fmt: skip
    assert (upd.version, upd.status, upd.author_id) == (2, "draft", people["editor2"].id)
    same = await call(rt, service.update_entry, actor=as_(people["editor"]), entry_id=e.id,
                      question=" 借记卡丢了怎么挂失？ ", keywords=["挂失", "止付"])  # fmt: skip
    assert (same.version, same.author_id) == (2, people["editor2"].id), "no change, no version"
    with pytest.raises(Conflict, match="changed meanwhile"):
        await call(rt, service.update_entry, actor=as_(people["editor"]), entry_id=e.id, expected_version=1,
                   answer="新的答案")  # fmt: skip
    with pytest.raises(ValidationFailed, match="cannot be changed"):
        await call(rt, service.update_entry, actor=as_(people["editor"]), entry_id=e.id, key="other")
    with pytest.raises(ValidationFailed) as exc:
        await call(rt, service.update_entry, actor=as_(people["editor"]), entry_id=e.id, colour="red")
    assert _field(exc) == "colour"
    versions = await call(rt, service.versions, e.id)
    assert [(v.version, v.action) for v in versions] == [(2, "edit"), (1, "create")]
    d = await call(rt, service.diff, e.id, 1, 2)
    by_field = {c["field"]: c["diff"] for c in d["changes"]}
    assert set(by_field) == {"category_id", "category", "question", "keywords"}
    assert "-银行卡丢了怎么挂失？" in by_field["question"]
    assert "+借记卡丢了怎么挂失？" in by_field["question"]
    assert "+止付" in by_field["keywords"]
    assert "-挂失" not in by_field["keywords"]
    assert by_field["category"].startswith("--- v1\n+++ v2")
    assert (await call(rt, service.diff, e.id, 2, 2))["changes"] == []
    with pytest.raises(NotFound, match="versions are 1 to 2"):
        await call(rt, service.diff, e.id, 1, 3)
    with pytest.raises(NotFound):
        await call(rt, service.versions, 99999)
    assert [r.action for r in await audit_rows(rt, "kb_entry.")] == ["kb_entry.create", "kb_entry.edit"]


async def test_the_editors_list_filters(rt, people):
    ed = people["editor"]
    a = await _create(rt, ed, category_path="信用卡", question="信用卡年费怎么收？", keywords=["年费"])
    b = await _create(rt, ed, category_path="信用卡/额度", question="怎么提高信用卡额度？", keywords=["提额"])
    c = await _create(rt, ed, category_path="借记卡", question="借记卡100%安全吗？")
    await call(rt, service.submit, actor=as_(ed), entry_id=b.id)
    cards = next(n for n in await call(rt, service.category_tree) if n["path"] == "信用卡")

    async def ids(**kw):
        rows, total = await call(rt, service.list_entries, **kw)
        assert total >= len(rows)
        return sorted(e.id for e in rows), total

    assert await ids() == (sorted([a.id, b.id, c.id]), 3)
    assert await ids(category_id=cards["id"]) == (sorted([a.id, b.id]), 2), "sub-categories included"
    assert await ids(status="in_review") == ([b.id], 1)
    assert await ids(q="提额") == ([b.id], 1), "keywords are searched"
    assert await ids(q="年费") == ([a.id], 1)
    assert await ids(q="100%") == ([c.id], 1)
    assert await ids(q="%") == ([c.id], 1), "LIKE wildcards are literal"
    assert await ids(q=b.key.upper()) == ([b.id], 1)
    rows, total = await call(rt, service.list_entries, limit=1, offset=1)
    assert (len(rows), total) == (1, 3)
    with pytest.raises(ValidationFailed):
        await call(rt, service.list_entries, status="live")
    with pytest.raises(ValidationFailed):
        await call(rt, service.list_entries, category_id=99999)
    assert [e.id for e in await call(rt, service.review_queue)] == [b.id]


async def test_the_category_tree_is_edited_and_its_paths_follow(rt, people, monkeypatch):
    notified = Notified()
    monkeypatch.setattr(index, "notify_changed", notified)
    ed = as_(people["editor"])
    top = await call(rt, service.create_category, actor=ed, name="贷款", sort=5)
    house = await call(rt, service.create_category, actor=ed, name="住房贷款", parent_id=top.id)
    docs = await call(rt, service.create_category, actor=ed, name="材料", parent_id=house.id)
    with pytest.raises(Conflict, match="already exists"):
        await call(rt, service.create_category, actor=ed, name="住房贷款", parent_id=top.id)
    with pytest.raises(ValidationFailed, match="cannot contain '/'"):
        await call(rt, service.create_category, actor=ed, name="a/b")
    await call(rt, service.update_category, actor=ed, category_id=top.id, name="个人贷款")
    paths = sorted(n["path"] for n in _flat(await call(rt, service.category_tree)))
    assert paths == ["个人贷款", "个人贷款/住房贷款", "个人贷款/住房贷款/材料"]
    assert notified.calls == 1, "category names appear in search results"
    moved = await call(rt, service.update_category, actor=ed, category_id=house.id, parent_id=None)
    assert (moved.path, moved.parent_id) == ("住房贷款", None)
    assert (await call(rt, service.ensure_category, "住房贷款/材料")).id == docs.id
    with pytest.raises(ValidationFailed, match="under itself"):
        await call(rt, service.update_category, actor=ed, category_id=house.id, parent_id=docs.id)
    deep = await call(rt, service.ensure_category, "a/b/c/d/e")
    with pytest.raises(ValidationFailed, match="at most 5 levels"):
        await call(rt, service.update_category, actor=ed, category_id=house.id, parent_id=deep.parent_id)
    with pytest.raises(ValidationFailed, match="at most 5 levels"):
        await call(rt, service.create_category, actor=ed, name="f", parent_id=deep.id)
    e = await _create(rt, people["editor"], category_id=docs.id)
    assert e.category_id == docs.id
    with pytest.raises(Conflict, match="still has 1 sub-categories"):
        await call(rt, service.delete_category, actor=ed, category_id=house.id)
    with pytest.raises(Conflict, match="still has 1 entries"):
        await call(rt, service.delete_category, actor=ed, category_id=docs.id)
    await call(rt, service.delete_category, actor=ed, category_id=top.id)
    with pytest.raises(NotFound):
        await call(rt, service.delete_category, actor=ed, category_id=top.id)
    actions = [r.action for r in await audit_rows(rt, "kb_category.")]
    assert actions.count("kb_category.update") == 2
    assert actions[-1] == "kb_category.delete"


def _flat(nodes):
    for n in nodes:
        yield n
        yield from _flat(n["children"])


async def test_synonym_groups(rt, people, monkeypatch):
    notified = Notified()
    monkeypatch.setattr(index, "notify_changed", notified)
    ed = as_(people["editor"])
    loss = await call(rt, service.save_synonym, actor=ed, canonical="挂失", terms=["冻结卡", "止付", "挂失", " "])
    assert json_list(loss.terms) == ["冻结卡", "止付"], "the canonical term and blanks are not repeated"
    flow = await call(rt, service.save_synonym, actor=ed, canonical="交易明细", terms=["流水"])
    with pytest.raises(Conflict, match="already in the group of 挂失"):
        await call(rt, service.save_synonym, actor=ed, canonical="冻结", terms=["止付"])
    with pytest.raises(Conflict, match="already a group for 挂失"):
        await call(rt, service.save_synonym, actor=ed, canonical="挂失", terms=["锁卡"])
    with pytest.raises(ValidationFailed, match="at least one other word"):
        await call(rt, service.save_synonym, actor=ed, canonical="额度", terms=["额度"])
    updated = await call(rt, service.save_synonym, actor=ed, canonical="交易明细", terms=["流水", "对账单"],
                         synonym_id=flow.id)  # fmt: skip
    assert json_list(updated.terms) == ["流水", "对账单"]
    with pytest.raises(PermissionDenied):
        await call(rt, service.save_synonym, actor=as_(people["agent"]), canonical="提额", terms=["提高额度"])
    await call(rt, service.delete_synonym, actor=ed, synonym_id=loss.id)
    assert [s.canonical for s in await call(rt, service.list_synonyms)] == ["交易明细"]
    with pytest.raises(NotFound):
        await call(rt, service.delete_synonym, actor=ed, synonym_id=loss.id)
    assert notified.calls == 4
    actions = [r.action for r in await audit_rows(rt, "kb_synonym.")]
    assert actions == ["kb_synonym.create", "kb_synonym.create", "kb_synonym.update", "kb_synonym.delete"]
