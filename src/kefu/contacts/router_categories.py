"""HTTP endpoints under /api/v1/wrapup-categories: the tree agents choose from, and its configuration
(ROUTING_CONFIGURE): create, rename, re-order, deactivate, activate."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from kefu.contacts import categories
from kefu.contacts.schemas import CategoryIn, CategoryOut, CategoryPatch
from kefu.contacts.views import category_view
from kefu.core.auth import DbSession, Principal, require
from kefu.core.ids import RowId
from kefu.core.permissions import Permission

router = APIRouter(prefix="/api/v1/wrapup-categories", tags=["contacts"])
Reader = Annotated[Principal, require(Permission.CONTACT_READ)]
Configurer = Annotated[Principal, require(Permission.ROUTING_CONFIGURE)]


def _out(view: dict[str, Any] | None) -> dict[str, Any]:
    assert view is not None  # noqa: S101
    return {**view, "leaf": True, "children": []}


@router.get("", response_model=list[CategoryOut])
async def active_tree(db: DbSession, principal: Reader) -> list[dict[str, Any]]:
    """The active categories as a tree; an agent chooses a ``leaf``."""
    return await categories.tree(db)


@router.get("/all", response_model=list[CategoryOut])
async def full_tree(db: DbSession, principal: Configurer) -> list[dict[str, Any]]:
    """Every category, inactive ones included (configuration)."""
    return await categories.tree(db, include_inactive=True)


@router.post("", response_model=CategoryOut, status_code=201)
async def create_category(body: CategoryIn, db: DbSession, principal: Configurer) -> dict[str, Any]:
    """Add a category (under ``parent_id``, at most 4 levels); zh-Hant and en default to the zh-Hans name."""
    c = await categories.create(db, actor=principal, code=body.code, names=body.names.model_dump(by_alias=True),
                                parent_id=body.parent_id, sort=body.sort)  # fmt: skip
    return _out(category_view(c))


@router.patch("/{category_id}", response_model=CategoryOut)
async def update_category(
    category_id: RowId, body: CategoryPatch, db: DbSession, principal: Configurer
) -> dict[str, Any]:
    """Rename (any of the names) or re-order a category."""
    names = body.names.model_dump(by_alias=True, exclude_unset=True) if body.names else None
    c = await categories.update(db, actor=principal, category_id=category_id, names=names, sort=body.sort)
    return _out(category_view(c))


@router.post("/{category_id}/deactivate", response_model=CategoryOut)
async def deactivate_category(category_id: RowId, db: DbSession, principal: Configurer) -> dict[str, Any]:
    """Stop offering a category and everything under it (past wrap-ups keep it)."""
    return _out(category_view(await categories.set_active(db, actor=principal, category_id=category_id, active=False)))


@router.post("/{category_id}/activate", response_model=CategoryOut)
async def activate_category(category_id: RowId, db: DbSession, principal: Configurer) -> dict[str, Any]:
    """Offer a category again (its parent must be active; its children stay as they are)."""
    return _out(category_view(await categories.set_active(db, actor=principal, category_id=category_id, active=True)))
