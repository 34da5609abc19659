"""Request ids, access logging, Prometheus metrics, health checks."""

from __future__ import annotations

import time
from typing import Any

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kefu.core import context
from kefu.core.ids import request_id as new_request_id

log = structlog.get_logger("kefu.http")

REQUESTS = Counter("kefu_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "kefu_http_request_seconds", "HTTP request latency", ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)  # fmt: skip


def route_template(scope: Scope) -> str:
    """The full path template of the matched route (``/api/v1/banking/cards/{card_id}``).

    Routes of nested routers carry only their own part of the path in ``scope["route"]``; the app
    keeps a map from each route object to its full template (built in ``create_app``)."""
    route = scope.get("route")
    if route is None:
        return "unmatched"
    app = scope.get("app")
    paths = getattr(getattr(app, "state", None), "route_paths", None) or {}
    return str(paths.get(id(route)) or getattr(route, "path", None) or "unmatched")


class RequestContextMiddleware:
    """Pure ASGI middleware: binds request id / client address, logs and measures each request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        rid = headers.get("x-request-id", "")
        if not (8 <= len(rid) <= 64 and rid.replace("-", "").isalnum()):
            rid = new_request_id()
        client = scope.get("client")
        ctx = context.RequestContext(request_id=rid, client_addr=client[0] if client else None)
        token = context.bind(ctx)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=rid)
        status_holder = {"status": 500}
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            route_path = route_template(scope)
            method = scope.get("method", "?")
            REQUESTS.labels(method, route_path, str(status_holder["status"])).inc()
            LATENCY.labels(method, route_path).observe(elapsed)
            if route_path not in ("/healthz", "/metrics") and not route_path.startswith("/static"):
                log.info("request", method=method, route=route_path, status=status_holder["status"],
                         ms=round(elapsed * 1000, 1), actor=ctx.actor_label)  # fmt: skip
            context.reset(token)


def metrics_body() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST


async def health(rt: Any) -> tuple[bool, dict[str, str]]:
    checks: dict[str, str] = {}
    ok = True
    try:
        async with rt.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001
        ok = False
        checks["database"] = f"error: {type(exc).__name__}"
    if rt.settings.redis_url:
        try:
            await rt.bus.ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            ok = False
            checks["redis"] = f"error: {type(exc).__name__}"
    else:
        checks["redis"] = "not configured (embedded mode)"
    return ok, checks
