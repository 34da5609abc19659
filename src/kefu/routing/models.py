"""Routing configuration kept in the database: queues, agents' skills, IVR routes.

Live routing state (who is ready, what is waiting, offers) is not here: it lives in the engine's
store (in-process or Redis) and is rebuilt from the contacts table after a restart.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.db import Base, BigId, IdPk, UTCDateTime

#: The center's skills (R1.8). Queues require some of them; agents hold them at a proficiency 1-10.
SKILLS: tuple[str, ...] = (
    "general", "savings", "loans", "credit_cards", "cards", "ebanking", "forex", "complaints", "vip", "english",
)  # fmt: skip


class RoutingQueue(Base):
    __tablename__ = "routing_queues"

    id: Mapped[IdPk]
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    skills: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of skill codes, all required
    min_proficiency: Mapped[int] = mapped_column(Integer, default=1)
    base_priority: Mapped[float] = mapped_column(Float, default=0.0)
    acceleration: Mapped[float] = mapped_column(Float, default=1.0)
    widen_after_s: Mapped[int | None] = mapped_column(Integer)
    overflow_after_s: Mapped[int | None] = mapped_column(Integer)
    overflow_queue: Mapped[str | None] = mapped_column(String(40))
    #: a department (e.g. card back office) that takes transfers but is not fed by the IVR
    is_department: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class AgentSkill(Base):
    __tablename__ = "agent_skills"

    staff_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    skill: Mapped[str] = mapped_column(String(40), primary_key=True)
    proficiency: Mapped[int] = mapped_column(Integer, default=5)


class IvrRoute(Base):
    """Which queue a call goes to, by the number dialled and the IVR menu choices (longest prefix wins)."""

    __tablename__ = "ivr_routes"
    __table_args__ = (UniqueConstraint("dialled_number", "ivr_prefix"),)

    id: Mapped[IdPk]
    dialled_number: Mapped[str] = mapped_column(String(32), default="*")  # '*' = any number
    ivr_prefix: Mapped[str] = mapped_column(String(32), default="")  # choices joined by ',' e.g. '1,2'
    queue_code: Mapped[str] = mapped_column(String(40))
    priority_bonus: Mapped[float] = mapped_column(Float, default=0.0)  # e.g. lost card = emergency
    label: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class PresenceLog(Base):
    """Agent presence intervals (for occupancy and the wallboard's history). ``ended_at`` open = current."""

    __tablename__ = "presence_log"

    id: Mapped[IdPk]
    staff_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"), index=True)
    presence: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(40))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
