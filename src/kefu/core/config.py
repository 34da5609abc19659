"""The one Settings object. Every option is a ``KEFU_*`` environment variable (see README)."""

from __future__ import annotations

import base64
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

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

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, v: str) -> str:
        async_database_url(v)
        return v

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
