"""``kefu mail import`` and ``kefu mail fetch`` (against dovecot), run in-process (in a worker thread: the
CLI runs its own event loop)."""

from __future__ import annotations

import asyncio
from typing import Any

from kefu.cli import app as cli_app
from kefu.mail.cli import app as mail_app
from tests.factories import cli_env, raw_rows, run_cli
from tests.mail.helpers import SERVICE, mail, make_email_team

if not any(g.name == "mail" for g in cli_app.registered_groups):  # until main's CLI registers the group
    cli_app.add_typer(mail_app, name="mail")


async def test_import_and_fetch(rt: Any, client: Any, settings: Any, tmp_path: Any, dovecot: Any) -> None:
    await make_email_team(rt, client)
    raw, mid = mail()
    eml = tmp_path / "customer.eml"
    eml.write_bytes(raw)
    env = cli_env(settings, KEFU_EMAIL_ADDRESS=SERVICE)
    out = await asyncio.to_thread(run_cli, ["mail", "import", str(eml)], env)
    assert out.exit_code == 0, out.output
    assert "new (e-mail 1, contact 1)" in out.output
    out = await asyncio.to_thread(run_cli, ["mail", "import", str(eml)], env)
    assert "duplicate" in out.output
    assert "zhang" not in out.output

    out = await asyncio.to_thread(run_cli, ["mail", "fetch"], env)
    assert out.exit_code == 1
    assert "KEFU_IMAP_HOST" in out.output

    dovecot.append(mail("第二封")[0])
    imap_env = {**env, "KEFU_IMAP_HOST": "127.0.0.1", "KEFU_IMAP_PORT": str(dovecot.port),
                "KEFU_IMAP_SECURITY": "none", "KEFU_IMAP_USERNAME": dovecot.user,
                "KEFU_IMAP_PASSWORD": dovecot.password}  # fmt: skip
    out = await asyncio.to_thread(run_cli, ["mail", "fetch"], imap_env)
    assert out.exit_code == 0, out.output
    assert "stored 1" in out.output
    rows = await raw_rows(rt, "SELECT message_id, source FROM email_messages ORDER BY id")
    assert [r.source for r in rows] == ["import", "imap"]
    assert rows[0].message_id == mid
