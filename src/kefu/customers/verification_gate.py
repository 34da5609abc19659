"""The one check other domains call before account business: has this caller been verified enough?"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import clock
from kefu.core.auth import Principal
from kefu.core.errors import Conflict, NotFound, PermissionDenied
from kefu.customers.models import VerificationLevel, VerificationSession


async def require_level(
    session: AsyncSession,
    *,
    actor: Principal,
    verification_id: int,
    customer_id: int,
    level: VerificationLevel,
) -> VerificationSession:
    """Raise unless ``verification_id`` is this agent's open, unexpired check of ``customer_id`` at ``level``."""
    v = await session.get(VerificationSession, verification_id)
    if v is None or v.customer_id != customer_id:
        raise NotFound("No identity verification for this customer with that id; verify the caller first.")
    if v.staff_id != actor.staff_id:
        raise PermissionDenied("This verification belongs to another agent's call; verify the caller yourself.")
    if v.status != "open" or v.expires_at <= clock.now():
        raise Conflict("The caller's verification has ended or expired; verify the caller again.")
    if v.level < level:
        raise PermissionDenied(
            f"This needs verification level L{int(level)}; the caller is at L{v.level}. "
            "Complete the further check (e.g. SMS code) first.",
            code="verification_level_too_low",
            extra={"required_level": int(level), "current_level": v.level},
        )
    return v


def required_level(operation: str) -> VerificationLevel:
    """The level an operation needs, from ``KEFU_VERIFICATION_LEVELS``; an operation not listed needs L2."""
    from kefu.core import runtime

    levels = runtime.get().settings.verification_levels
    return VerificationLevel(levels.get(operation, int(VerificationLevel.L2)))
