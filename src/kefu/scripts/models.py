"""Call scripts (话术): what an agent says for a scenario — greeting (with the agent's number), identity
confirmation, closing — edited by team leads, shown on the agent desktop for the contact's queue."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.db import Base, BigId, IdPk, UTCDateTime


class CallScript(Base):
    __tablename__ = "call_scripts"
    __table_args__ = (UniqueConstraint("scenario", "channel", "locale"),)

    id: Mapped[IdPk]
    scenario: Mapped[str] = mapped_column(String(40), index=True)  # code, e.g. default, card_loss
    name: Mapped[str] = mapped_column(String(80))
    #: the queues this script is for, comma-separated ("" = the default for every queue)
    queue_codes: Mapped[str] = mapped_column(String(400), default="")
    channel: Mapped[str] = mapped_column(String(10), default="phone")  # phone | chat | email
    locale: Mapped[str] = mapped_column(String(8), default="zh-Hans")
    greeting: Mapped[str] = mapped_column(String(2000))
    confirmation: Mapped[str] = mapped_column(String(2000), default="")
    closing: Mapped[str] = mapped_column(String(2000), default="")
    notes: Mapped[str] = mapped_column(String(2000), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
