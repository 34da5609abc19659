"""The CLI refuses to work on a database whose schema is missing or old, and switches the core banking
connection only for a named supervisor or admin, with a reason, audited."""

from __future__ import annotations

from pathlib import Path

from tests.factories import cli_env, run_cli, sync_rows


def test_commands_refuse_a_database_without_schema(tmp_path: Path) -> None:
    env = {
        "KEFU_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
        "KEFU_VAR_DIR": str(tmp_path / "var"),
        "KEFU_LOG_LEVEL": "WARNING",
    }
    result = run_cli(["audit", "verify"], env)
    assert result.exit_code == 1
    assert "kefu db upgrade" in result.output
    assert not (tmp_path / "empty.db").exists()  # looking did not create an empty database


def test_core_switch_needs_a_named_permitted_staff_member_and_is_audited(settings):
    env = cli_env(settings)
    for staff_no, role in (("S7001", "supervisor"), ("G7001", "agent")):
        made = run_cli(["user", "create", "--staff-no", staff_no, "--name", "测试员", "--role", role,
                        "--password-stdin"], env, input="Cli-pass-2026x\n")  # fmt: skip
        assert made.exit_code == 0, made.output
    assert run_cli(["banking", "core", "offline", "--reason", "季度应急演练"], env).exit_code == 1
    refused = run_cli(["banking", "core", "offline", "--reason", "季度应急演练", "--as", "G7001"], env)
    assert refused.exit_code == 1
    assert "banking.core_switch" in refused.output
    done = run_cli(["banking", "core", "offline", "--reason", "季度应急演练", "--as", "S7001"], env)
    assert done.exit_code == 0, done.output
    assert "OFFLINE" in done.output
    assert "OFFLINE (季度应急演练)" in run_cli(["banking", "core"], env).output
    back = run_cli(["banking", "core", "online", "--reason", "演练结束", "--as", "S7001"], env)
    assert "available" in back.output
    rows = sync_rows(
        settings.database_url, "SELECT purpose, actor FROM audit_log WHERE action = 'banking.core_switch' ORDER BY seq"
    )
    assert rows == [("季度应急演练", "cli:S7001"), ("演练结束", "cli:S7001")]
    assert run_cli(["audit", "verify"], env).exit_code == 0
