"""One error base class carrying its HTTP status; one renderer for application/problem+json."""

from __future__ import annotations

from typing import Any


class KefuError(Exception):
    """Base of every error a person may meet. ``detail`` must tell them what to do."""

    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"
    #: When True the request's transaction is committed before the error is sent (e.g. a failed
    #: login must still count toward lockout and be audited).
    commit: bool = False

    def __init__(self, detail: str, *, extra: dict[str, Any] | None = None, **kw: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}
        for k, v in kw.items():
            setattr(self, k, v)

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://kefu.example/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class ValidationFailed(KefuError):
    status, code, title = 422, "validation_failed", "Some fields are not valid"


class NotAuthenticated(KefuError):
    status, code, title = 401, "not_authenticated", "Sign-in required"


class AuthFailed(KefuError):
    status, code, title = 401, "authentication_failed", "Sign-in failed"
    commit = True


class PermissionDenied(KefuError):
    status, code, title = 403, "permission_denied", "Not allowed"


class NotFound(KefuError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(KefuError):
    status, code, title = 409, "conflict", "Conflict"


class Locked(KefuError):
    status, code, title = 423, "locked", "Locked"
    commit = True


class TooManyRequests(KefuError):
    status, code, title = 429, "too_many_requests", "Too many requests"


class ServiceUnavailable(KefuError):
    status, code, title = 503, "service_unavailable", "Service unavailable"
