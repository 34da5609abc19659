"""Audit entries and metrics name the full route template, also for routes of nested routers."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from kefu.core.auth import iter_routes
from kefu.core.observability import route_template


def test_nested_router_routes_get_their_full_template() -> None:
    inner = APIRouter(prefix="/cards")

    @inner.get("/{card_id}")
    async def card(card_id: int) -> dict[str, int]:
        return {"card_id": card_id}

    outer = APIRouter(prefix="/api/v1/banking")
    outer.include_router(inner)
    app = FastAPI()
    app.include_router(outer)
    app.state.route_paths = {id(r.original_route): r.path for r in iter_routes(app)}
    original = next(r.original_route for r in iter_routes(app) if r.path.endswith("{card_id}"))
    assert original.path == "/cards/{card_id}"  # what scope["route"] carries
    assert route_template({"route": original, "app": app}) == "/api/v1/banking/cards/{card_id}"
    assert route_template({"app": app}) == "unmatched"
