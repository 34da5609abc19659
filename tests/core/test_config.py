"""Settings: driver mapping, secrets generated in embedded mode, refused in cluster mode."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs

from kefu.core import crypto, runtime
from kefu.core.config import ConfigError, Settings, async_database_url, get_settings, plain_database_url


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("KEFU_"):
            monkeypatch.delenv(name)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///var/kefu.db", "sqlite+aiosqlite:///var/kefu.db"),
        ("sqlite:////abs/path/k.db", "sqlite+aiosqlite:////abs/path/k.db"),
        ("postgresql://u:p@db:5432/kefu", "postgresql+psycopg://u:p@db:5432/kefu"),
        ("postgres://u@db/kefu", "postgresql+psycopg://u@db/kefu"),
        ("postgresql+psycopg://u@db/kefu", "postgresql+psycopg://u@db/kefu"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_database_url_mapping(given, expected):
    assert async_database_url(given) == expected
    assert plain_database_url(expected).split("://")[0] in ("sqlite", "postgresql")


def test_unknown_database_url_is_refused_with_a_hint():
    with pytest.raises(ConfigError, match="sqlite:/// or postgresql://"):
        async_database_url("mysql://root@db/kefu")
    with pytest.raises(ConfigError, match="sqlite:/// or postgresql://"):
        Settings(database_url="mysql://root@db/kefu")


def test_defaults_and_environment(monkeypatch):
    s = Settings()
    assert s.database_url == "sqlite:///var/kefu.db"
    assert s.is_sqlite
    assert not s.cluster_mode
    assert s.totp_required_roles == ["admin", "supervisor", "auditor"]
    monkeypatch.setenv("KEFU_DATABASE_URL", "postgresql://kefu@db/kefu")
    monkeypatch.setenv("KEFU_TOTP_REQUIRED_ROLES", "admin, auditor")
    s = get_settings()
    assert s.cluster_mode
    assert s.async_url.startswith("postgresql+psycopg://")
    assert s.totp_required_roles == ["admin", "auditor"]
    monkeypatch.setenv("KEFU_TOTP_REQUIRED_ROLES", "admin,root")
    with pytest.raises(ValidationError, match="unknown role"):
        Settings()


def test_embedded_mode_generates_secrets_0600_and_logs_it(tmp_path):
    var = tmp_path / "var"
    s = Settings(database_url=f"sqlite:///{tmp_path}/k.db", var_dir=var)
    with capture_logs() as logs:
        s.ensure_secrets()
    secret_file, data_file = var / "secret.key", var / "data.key"
    for f in (secret_file, data_file):
        assert f.exists()
        assert f.stat().st_mode & 0o777 == 0o600, oct(f.stat().st_mode)
    generated = [e for e in logs if e["event"] == "secret_generated"]
    assert {e["file"] for e in generated} == {str(secret_file), str(data_file)}
    assert all(e["log_level"] == "warning" for e in generated)
    assert s.secret_key is not None
    assert len(s.secret_key.get_secret_value()) >= 40
    assert s.data_key is not None
    ring = crypto.KeyRing.parse(s.data_key.get_secret_value())
    assert ring.current_version == 1
    # secrets are never in the log lines themselves
    assert s.secret_key.get_secret_value() not in repr(logs)
    assert s.data_key.get_secret_value().split(":")[1] not in repr(logs)

    # a second start reuses the files and logs nothing
    s2 = Settings(database_url=f"sqlite:///{tmp_path}/k.db", var_dir=var)
    with capture_logs() as logs2:
        s2.ensure_secrets()
    assert not [e for e in logs2 if e["event"] == "secret_generated"]
    assert s2.secret_key == s.secret_key
    assert s2.data_key == s.data_key


@pytest.mark.parametrize(
    ("secret", "data", "missing"),
    [
        (None, None, "KEFU_SECRET_KEY and KEFU_DATA_KEY"),
        ("x" * 40, None, "KEFU_DATA_KEY"),
        (None, "1:k", "KEFU_SECRET_KEY"),
    ],
)
def test_cluster_mode_refuses_to_start_without_secrets(tmp_path, secret, data, missing):
    s = Settings(
        database_url="postgresql://kefu@127.0.0.1:1/kefu", var_dir=tmp_path / "var", secret_key=secret, data_key=data
    )
    with pytest.raises(ConfigError) as info:
        s.ensure_secrets()
    message = str(info.value)
    assert message.startswith(missing + " must be set in cluster mode")
    assert "Generate values with" in message
    assert "'1:<value>'" in message
    assert not (tmp_path / "var").exists(), "cluster mode must not write secrets to disk"
    with pytest.raises(ConfigError):
        runtime.build(s, install=False)
