"""Per-request context (request id, client address, acting principal) carried in contextvars."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class RequestContext:
    request_id: str | None = None
    client_addr: str | None = None
    actor_id: int | None = None
    actor_label: str = "system"
    extra: dict[str, str] = field(default_factory=dict)


_ctx: ContextVar[RequestContext | None] = ContextVar("kefu_request_context", default=None)


def current() -> RequestContext:
    ctx = _ctx.get()
    if ctx is None:
        ctx = RequestContext()
        _ctx.set(ctx)
    return ctx


def bind(ctx: RequestContext) -> object:
    return _ctx.set(ctx)


def reset(token: object) -> None:
    _ctx.reset(token)  # type: ignore[arg-type]
