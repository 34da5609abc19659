"""create_app(): lifespan, middleware, routers, error handlers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from kefu import __version__
from kefu.core import auth as core_auth
from kefu.core import context, observability
from kefu.core import logging as kefu_logging
from kefu.core import runtime as runtime_mod
from kefu.core.auth import iter_routes, public, route_permissions
from kefu.core.config import Settings, get_settings
from kefu.core.errors import KefuError

log = structlog.get_logger("kefu")
PROBLEM = "application/problem+json"

_STATUS_TITLES = {
    400: ("bad_request", "Bad request"),
    401: ("not_authenticated", "Sign-in required"),
    403: ("permission_denied", "Not allowed"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    413: ("too_large", "Request too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
}


def problem(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    rid = context.current().request_id
    if rid:
        body.setdefault("request_id", rid)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or str(loc[0] if loc else "request")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KefuError)
    async def kefu_error(request: Request, exc: KefuError) -> Response:
        return problem(exc.status, exc.to_problem(instance=request.url.path))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"field": _field_name(e.get("loc", ())), "message": e.get("msg", "invalid"), "type": e.get("type")}
            for e in exc.errors()
        ]
        names = ", ".join(dict.fromkeys(e["field"] for e in errors))
        return problem(422, {
            "type": "https://kefu.example/problems/validation_failed",
            "title": "Some fields are not valid",
            "status": 422,
            "code": "validation_failed",
            "detail": f"Check these fields: {names}. " + "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5]),
            "errors": errors,
            "instance": request.url.path,
        })  # fmt: skip

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code, title = _STATUS_TITLES.get(exc.status_code, ("error", "Error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"There is nothing at {request.url.path}. Check the address (API docs: /docs)."
        if exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}."
        return problem(exc.status_code, {
            "type": f"https://kefu.example/problems/{code}", "title": title, "status": exc.status_code,
            "code": code, "detail": detail, "instance": request.url.path,
        }, headers=getattr(exc, "headers", None))  # fmt: skip

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled_error", path=request.url.path)
        return problem(500, {
            "type": "https://kefu.example/problems/internal_error", "title": "Internal error", "status": 500,
            "code": "internal_error",
            "detail": "Something went wrong on our side; nothing was saved. Try again, and give the request id "
                      "to the service desk if it happens again.",
        })  # fmt: skip


def _document_permissions(app: FastAPI) -> None:
    """Name each operation's required permissions in the OpenAPI document (``x-kefu-permissions``)."""
    base_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = base_openapi()
        for route in iter_routes(app):
            if not hasattr(route, "dependant") or route.path not in schema.get("paths", {}):
                continue
            _, perms = route_permissions(route)
            for method in route.methods or ():
                op = schema["paths"][route.path].get(method.lower())
                if op is not None and perms:
                    op["x-kefu-permissions"] = [p.value for p in perms]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: Settings | None = None, *, rt: runtime_mod.Runtime | None = None) -> FastAPI:
    settings = settings or (rt.settings if rt else get_settings())
    kefu_logging.configure(settings.log_level, json=settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = app.state.runtime is None
        if owned:
            app.state.runtime = runtime_mod.build(settings)
        else:
            runtime_mod.install(app.state.runtime)
        log.info("kefu_started", version=__version__, mode="cluster" if settings.cluster_mode else "embedded")
        from kefu.routing import service as routing_service

        stop = asyncio.Event()
        timer = asyncio.create_task(routing_service.run_timer(app.state.runtime, stop), name="kefu-routing-timer")
        from kefu.knowledge import index as kb_index

        kb_start = asyncio.create_task(kb_index.start_serving(app.state.runtime), name="kefu-kb-start")
        from kefu.chat import service as chat_service

        chats = asyncio.create_task(chat_service.run_idle_sweeper(app.state.runtime, stop), name="kefu-chat-idle")
        from kefu.mail.receivers import run_receivers

        mail = asyncio.create_task(run_receivers(app.state.runtime, stop), name="kefu-mail")
        try:
            yield
        finally:
            stop.set()
            kb_start.cancel()
            with contextlib.suppress(Exception):
                await timer
            with contextlib.suppress(Exception):
                await chats
            with contextlib.suppress(Exception):
                await mail
            if owned:
                await app.state.runtime.close()

    app = FastAPI(
        title="Kefu",
        version=__version__,
        summary="Contact-center platform for a bank's customer service center (客服中心)",
        lifespan=lifespan,
    )
    app.state.runtime = rt
    app.state.settings = settings
    app.state.digital_desk = True  # chats and e-mails on the agent desktop (templates/_desk_digital.html)
    app.add_middleware(observability.RequestContextMiddleware)
    install_error_handlers(app)

    from kefu.staff import auth as staff_auth

    core_auth.set_resolver(staff_auth.resolve)

    @app.get("/healthz", tags=["ops"], dependencies=[public()])
    async def healthz(request: Request) -> Response:
        ok, checks = await observability.health(request.app.state.runtime)
        return JSONResponse({"status": "ok" if ok else "unavailable", **checks}, status_code=200 if ok else 503)

    @app.get("/metrics", tags=["ops"], dependencies=[public()], include_in_schema=False)
    async def metrics() -> Response:
        body, ctype = observability.metrics_body()
        return Response(body, media_type=ctype)

    from kefu.audit.router import router as audit_router
    from kefu.banking.router import router as banking_router
    from kefu.customers.router import router as customers_router
    from kefu.staff.router import router as staff_router

    app.include_router(staff_router)
    app.include_router(audit_router)
    app.include_router(banking_router)
    app.include_router(customers_router)

    from kefu.contacts.router import router as contacts_router
    from kefu.contacts.router_categories import router as categories_router
    from kefu.contacts.router_followups import router as followups_router
    from kefu.routing.config_router import router as routing_config_router
    from kefu.routing.digital_router import router as digital_desk_router
    from kefu.routing.router import router as desk_router
    from kefu.routing.ws import router as ws_router

    app.include_router(contacts_router)
    app.include_router(categories_router)
    app.include_router(followups_router)
    app.include_router(routing_config_router)
    app.include_router(desk_router)
    app.include_router(digital_desk_router)
    app.include_router(ws_router)

    from kefu.knowledge.router import router as kb_router
    from kefu.knowledge.router_loop import router as kb_loop_router
    from kefu.knowledge.router_search import router as kb_search_router

    app.include_router(kb_search_router)
    app.include_router(kb_router)
    app.include_router(kb_loop_router)

    from starlette.formparsers import MultiPartParser

    from kefu.complaints.router import router as complaints_router
    from kefu.complaints.router_calendar import router as calendar_router
    from kefu.complaints.router_case import router as complaint_case_router
    from kefu.complaints.router_reports import router as complaint_reports_router

    # uploads stay in memory up to the evidence limit: complaint evidence is never in clear on disk
    MultiPartParser.spool_max_size = max(MultiPartParser.spool_max_size, settings.complaint_upload_max_bytes + 1)
    app.include_router(complaint_reports_router)
    app.include_router(complaints_router)
    app.include_router(complaint_case_router)
    app.include_router(calendar_router)

    from kefu.channels.router import router as channels_router
    from kefu.chat.router import router as chat_router
    from kefu.mail.router import router as mail_router
    from kefu.scripts.router import router as scripts_router

    app.include_router(chat_router)
    app.include_router(mail_router)
    app.include_router(channels_router)
    app.include_router(scripts_router)

    web_dir = Path(__file__).parent / "web"
    if (web_dir / "routes.py").exists():
        from kefu.web.routes import router as web_router

        app.include_router(web_router)
        app.mount("/static", StaticFiles(directory=web_dir / "static"), name="static")

    _document_permissions(app)
    app.state.route_paths = {id(r.original_route): r.path for r in iter_routes(app) if getattr(r, "path", None)}
    return app
