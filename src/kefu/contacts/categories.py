"""Wrap-up categories: a configurable tree (ROUTING_CONFIGURE). An agent chooses an active leaf: an
active category with no active children whose ancestors are all active. Deactivating a category
deactivates its subtree; categories are never deleted (old wrap-ups keep pointing at them)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts import repository as repo
from kefu.contacts.models import WrapupCategory
from kefu.contacts.service import invalid
from kefu.contacts.views import category_view
from kefu.core import audit, clock
from kefu.core.auth import Principal
from kefu.core.errors import Conflict, NotFound

MAX_DEPTH = 4
CODE = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,39}$")
LOCALES = {"zh-Hans": "name_zh_hans", "zh-Hant": "name_zh_hant", "en": "name_en"}


def _names(names: dict[str, str | None], current: WrapupCategory | None = None) -> dict[str, str]:
    """Column values for the names; zh-Hant and en default to the zh-Hans name when not given."""
    base = (names.get("zh-Hans") or "").strip() or (current.name_zh_hans if current else "")
    if not base or len(base) > 80:
        raise invalid("names.zh-Hans", "Give the category's name in Simplified Chinese (1 to 80 characters).")
    out = {"name_zh_hans": base}
    for locale, col in LOCALES.items():
        if locale == "zh-Hans":
            continue
        value = (names.get(locale) or "").strip()
        if len(value) > 80:
            raise invalid(f"names.{locale}", "A name has at most 80 characters.")
        out[col] = value or (getattr(current, col) if current else base)
    return out


def _by_id(rows: list[WrapupCategory]) -> dict[int, WrapupCategory]:
    return {c.id: c for c in rows}


def _ancestors_active(c: WrapupCategory, by_id: dict[int, WrapupCategory]) -> bool:
    seen = 0
    node = c
    while node.parent_id is not None and seen < 20:
        parent = by_id.get(node.parent_id)
        if parent is None or not parent.active:
            return False
        node, seen = parent, seen + 1
    return True


async def tree(session: AsyncSession, *, include_inactive: bool = False) -> list[dict[str, Any]]:
    """The category tree, ordered by ``sort`` then code; ``leaf`` marks what an agent may choose."""
    rows = list(await repo.categories(session))
    shown = [c for c in rows if include_inactive or c.active]
    by_id = _by_id(rows)
    nodes: dict[int, dict[str, Any]] = {}
    for c in shown:
        view = category_view(c)
        assert view is not None  # noqa: S101
        nodes[c.id] = {**view, "leaf": True, "children": []}
    roots: list[dict[str, Any]] = []
    for c in shown:
        node = nodes[c.id]
        if c.parent_id is not None and c.parent_id in nodes:
            nodes[c.parent_id]["children"].append(node)
        elif c.parent_id is None or include_inactive:
            roots.append(node)
    for c in rows:
        if c.active and c.parent_id is not None and c.parent_id in nodes:
            nodes[c.parent_id]["leaf"] = False
    for c in shown:
        nodes[c.id]["leaf"] = nodes[c.id]["leaf"] and c.active and _ancestors_active(c, by_id)
    return roots


async def selectable(session: AsyncSession, category_id: int) -> WrapupCategory:
    """The category, if an agent may choose it for a wrap-up; else a 422 saying why."""
    c = await repo.get_category(session, category_id)
    if c is None:
        raise invalid("category_id", f"No wrap-up category {category_id}.")
    if not c.active:
        raise invalid("category_id", f"Category {c.code} is no longer in use; choose another.")
    if await repo.active_children(session, c.id):
        raise invalid("category_id", f"Category {c.code} has sub-categories; choose the most specific one.")
    if not _ancestors_active(c, _by_id(list(await repo.categories(session)))):
        raise invalid("category_id", f"Category {c.code} is under a category no longer in use; choose another.")
    return c


async def _depth(session: AsyncSession, parent: WrapupCategory) -> int:
    depth, node, by_id = 1, parent, _by_id(list(await repo.categories(session)))
    while node.parent_id is not None and depth <= MAX_DEPTH:
        node, depth = by_id[node.parent_id], depth + 1
    return depth


async def create(
    session: AsyncSession,
    *,
    actor: Principal,
    code: str,
    names: dict[str, str | None],
    parent_id: int | None = None,
    sort: int = 0,
) -> WrapupCategory:
    if not CODE.match(code):
        raise invalid("code", "A code has lower-case letters, digits, '_', '.' or '-' (at most 40).")
    if await repo.category_by_code(session, code) is not None:
        raise Conflict(f"Category code {code} is already taken.", extra={"errors": [{"field": "code"}]})
    if parent_id is not None:
        parent = await repo.get_category(session, parent_id)
        if parent is None:
            raise invalid("parent_id", f"No wrap-up category {parent_id}.")
        if not parent.active:
            raise invalid("parent_id", f"Category {parent.code} is not in use; activate it first.")
        if await _depth(session, parent) >= MAX_DEPTH:
            raise invalid("parent_id", f"The tree is at most {MAX_DEPTH} levels deep.")
    now = clock.now()
    c = WrapupCategory(parent_id=parent_id, code=code, active=True, sort=sort, created_at=now, updated_at=now,
                       **_names(names))  # fmt: skip
    session.add(c)
    await session.flush()
    await audit.record(session, action="wrapup_category.create", object_type="wrapup_category", object_id=c.id,
                       after=category_view(c))  # fmt: skip
    return c


async def _get(session: AsyncSession, category_id: int) -> WrapupCategory:
    c = await repo.get_category(session, category_id)
    if c is None:
        raise NotFound(f"No wrap-up category {category_id}.")
    return c


async def update(
    session: AsyncSession, *, actor: Principal, category_id: int, names: dict[str, str | None] | None, sort: int | None
) -> WrapupCategory:
    """Rename (any of the three names) and/or move within its siblings (``sort``)."""
    c = await _get(session, category_id)
    before = category_view(c)
    if names is not None:
        for col, value in _names(names, c).items():
            setattr(c, col, value)
    if sort is not None:
        c.sort = sort
    c.updated_at = clock.now()
    await session.flush()
    after = category_view(c)
    if after != before:
        await audit.record(session, action="wrapup_category.update", object_type="wrapup_category",
                           object_id=c.id, before=before, after=after)  # fmt: skip
    return c


async def set_active(session: AsyncSession, *, actor: Principal, category_id: int, active: bool) -> WrapupCategory:
    """Deactivate a category and its subtree, or activate one category (its parent must be active)."""
    c = await _get(session, category_id)
    rows = list(await repo.categories(session))
    by_id = _by_id(rows)
    if active and c.parent_id is not None and not by_id[c.parent_id].active:
        raise Conflict(f"Activate the parent category {by_id[c.parent_id].code} first.")
    changed = [c]
    if not active:
        frontier = {c.id}
        while frontier:
            kids = [x for x in rows if x.parent_id in frontier]
            changed += kids
            frontier = {x.id for x in kids}
    now = clock.now()
    codes = [x.code for x in changed if x.active != active]
    for x in changed:
        x.active, x.updated_at = active, now
    await session.flush()
    if codes:
        await audit.record(session, action=f"wrapup_category.{'activate' if active else 'deactivate'}",
                           object_type="wrapup_category", object_id=c.id, after={"codes": codes})  # fmt: skip
    return c
