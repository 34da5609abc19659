"""Request models of the banking API. Amounts are integer fen (分); numbers go out masked only."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from kefu.core.ids import MAX_ROW_ID

Id = Field(ge=1, le=MAX_ROW_ID)
AccountNo = Field(min_length=12, max_length=23, pattern=r"^[0-9][0-9 ]{10,21}[0-9]$",
                  description="account number of this bank, digits (spaces allowed)")  # fmt: skip
Token = Field(default=None, min_length=3, max_length=200, description="from the preview answer")
ManualOperation = Literal["balance", "history", "transfer", "card_loss_temporary", "card_loss_formal", "card_release",
                          "card_activation", "appointment", "other"]  # fmt: skip


class Verified(BaseModel):
    customer_id: int = Field(ge=1, le=MAX_ROW_ID)
    verification_id: int = Field(ge=1, le=MAX_ROW_ID, description="the caller's identity verification")


class TransferPreviewIn(Verified):
    from_account_id: int = Field(ge=1, le=MAX_ROW_ID)
    to_account_no: str = AccountNo
    amount: int = Field(ge=1, le=10_000_000_000, description="fen (1/100 CNY)")
    idempotency_key: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_:.\-]+$",
                                 description="one per intended transfer; reuse it only to retry")  # fmt: skip
    memo: str = Field(default="", max_length=60)


class TransferIn(TransferPreviewIn):
    confirmation_token: str = Field(min_length=3, max_length=200, description="from POST /transfers/preview")
    risk_override_reason: str | None = Field(
        default=None, min_length=4, max_length=500, description="what the customer said after the risk warning"
    )


class CardOperationIn(Verified):
    confirmation_token: str | None = Token


class AppointmentIn(Verified):
    branch_code: str = Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")
    date: dt.date
    time: str = Field(pattern=r"^\d{2}:\d{2}$", description="local time HH:MM")
    account_type: Literal["savings", "current", "credit_card"]
    confirmation_token: str | None = Token


class ManualRequestIn(Verified):
    operation: ManualOperation
    details: str = Field(min_length=1, max_length=2000, description="what the customer asked for, in their words")


class ManualProcessIn(BaseModel):
    outcome: str = Field(min_length=1, max_length=500)


class FraudIn(BaseModel):
    account_no: str = AccountNo
    reason: str = Field(min_length=4, max_length=500)


class ReasonIn(BaseModel):
    reason: str = Field(min_length=4, max_length=500)


class CoreSwitchIn(BaseModel):
    mode: Literal["online", "offline"]
    reason: str = Field(min_length=4, max_length=500)
