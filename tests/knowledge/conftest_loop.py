"""Helpers of the feedback-loop tests (hits, unmatched queries, questions, bulletins): the people of a
small center and live entries made through the editors' workflow (generated data only). Imported by the
test modules; tests/knowledge/conftest.py provides the ``app`` with every knowledge router."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kefu.core import runtime
from kefu.knowledge import service
from kefu.routing import config_service
from tests.factories import make_staff, make_team, principal_of

T0 = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # 10:00 on 23 November in Shanghai
DAY = dt.date(2026, 11, 23)


async def center(rt: runtime.Runtime) -> dict[str, Any]:
    """Two teams with agents and team leads, knowledge editors and reviewers, a supervisor."""
    t1, t2 = await make_team(rt), await make_team(rt)
    people: dict[str, Any] = {"t1": t1, "t2": t2}
    for name, roles, team in (
        ("a1", ["agent"], t1), ("a2", ["agent"], t1), ("b1", ["agent"], t2), ("lead1", ["team_lead"], t1),
        ("lead2", ["team_lead"], t2), ("editor", ["kb_editor"], None), ("reviewer", ["kb_reviewer"], None),
        ("sup", ["supervisor"], None),
    ):  # fmt: skip
        people[name] = await make_staff(rt, roles=roles, team_id=team)
    return people


async def give_skills(rt: runtime.Runtime, staff: Any, **skills: int) -> None:
    async with rt.db.transaction() as s:
        await config_service.set_skills(s, actor=None, staff_id=staff.id, skills=skills)


async def live_entry(rt: runtime.Runtime, people: dict[str, Any], *, category: str, question: str, **kw: Any) -> int:
    """An entry written by the editor and approved by the reviewer (live at once)."""
    kw.setdefault("answer", f"{question}：请按以下步骤办理。")
    editor, reviewer = principal_of(people["editor"]), principal_of(people["reviewer"])
    async with rt.db.transaction() as s:
        e = await service.create_entry(s, actor=editor, category_path=category, question=question, **kw)
        await service.submit(s, actor=editor, entry_id=e.id)
        await service.approve(s, actor=reviewer, entry_id=e.id)
        return int(e.id)


async def draft_entry(rt: runtime.Runtime, people: dict[str, Any], *, category: str, question: str) -> int:
    async with rt.db.transaction() as s:
        e = await service.create_entry(s, actor=principal_of(people["editor"]), category_path=category,
                                       question=question, answer="草稿答案")  # fmt: skip
        return int(e.id)
