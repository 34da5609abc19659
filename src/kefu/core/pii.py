"""Revealing protected personal data: permission, clearance and a stated purpose, always audited (R3.4, R3.5).

Every domain reveals through ``reveal()``, so the rule and its audit entry are written once.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import audit
from kefu.core.auth import Principal
from kefu.core.crypto import DataClass
from kefu.core.errors import PermissionDenied, ValidationFailed

MIN_PURPOSE = 4


def check_purpose(purpose: str) -> str:
    cleaned = purpose.strip()
    if len(cleaned) < MIN_PURPOSE:
        raise ValidationFailed(
            f"Give the reason (at least {MIN_PURPOSE} characters); it is written to the audit log.",
            extra={"errors": [{"field": "purpose", "message": "too short"}]},
        )
    return cleaned


def check_clearance(actor: Principal, data_class: DataClass, field: str) -> None:
    if actor.clearance is None or actor.clearance < data_class:
        raise PermissionDenied(f"Your clearance does not cover {data_class.name} data such as {field}.")


async def reveal(
    session: AsyncSession,
    *,
    actor: Principal,
    object_type: str,
    object_id: object,
    field: str,
    data_class: DataClass,
    value: str | None,
    purpose: str,
) -> str | None:
    """Return ``value`` in clear after the checks, writing a ``pii.reveal`` audit entry."""
    cleaned = check_purpose(purpose)
    check_clearance(actor, data_class, field)
    await audit.record(
        session,
        action="pii.reveal",
        object_type=object_type,
        object_id=object_id,
        purpose=cleaned,
        after={"field": field, "data_class": data_class.name},
    )
    return value
