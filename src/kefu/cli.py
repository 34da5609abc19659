"""The ``kefu`` command line: serve, worker, db, user, demo, audit, backup/restore, keys."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table

from kefu.core.config import ConfigError, get_settings

app = typer.Typer(
    help="Kefu contact-center platform", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False
)
db_app = typer.Typer(help="Database schema", no_args_is_help=True)
user_app = typer.Typer(help="Staff accounts", no_args_is_help=True)
audit_app = typer.Typer(help="Audit log", no_args_is_help=True)
keys_app = typer.Typer(help="Personal-data encryption keys", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")
banking_app = typer.Typer(help="Core banking connection", no_args_is_help=True)
app.add_typer(banking_app, name="banking")


def _add_domain_commands() -> None:
    from kefu.complaints.cli import app as complaints_app
    from kefu.complaints.cli_calendar import app as calendar_app
    from kefu.knowledge.cli import kb_app
    from kefu.mail.cli import app as mail_app
    from kefu.routing.bench_cli import bench_app
    from kefu.routing.phone_cli import cti_app, phone_app
    from kefu.routing.simulate_cli import simulate

    app.add_typer(phone_app, name="phone")
    app.add_typer(cti_app, name="cti")
    app.add_typer(bench_app, name="bench")
    app.add_typer(kb_app, name="kb")
    app.add_typer(complaints_app, name="complaints")
    app.add_typer(calendar_app, name="calendar")
    app.add_typer(mail_app, name="mail")
    app.command("simulate")(simulate)


_add_domain_commands()
console = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True)


@app.callback()
def _private_files() -> None:
    """Files Kefu creates (database, job queue, backups, secrets) are readable by the service user only."""
    os.umask(0o077)


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def _runtime():  # type: ignore[no-untyped-def]
    from kefu.core import logging as kefu_logging
    from kefu.core import runtime
    from kefu.core.migrate import schema_problem

    settings = get_settings()
    kefu_logging.configure(settings.log_level, json=settings.log_json)
    problem = schema_problem(settings.database_url, settings.async_url)
    if problem:
        _fail(problem)
    try:
        return runtime.build(settings)
    except ConfigError as exc:
        _fail(str(exc))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes (cluster mode)")] = 1,
) -> None:
    """Serve the web UI and the HTTP API."""
    import uvicorn

    from kefu.core.migrate import schema_problem

    settings = get_settings()
    try:
        settings.ensure_secrets()
    except ConfigError as exc:
        _fail(str(exc))
    problem = schema_problem(settings.database_url, settings.async_url)
    if problem:
        _fail(problem)
    if settings.is_sqlite and settings.embedded_worker:
        from kefu.core.jobs import get_huey, start_embedded_consumer

        start_embedded_consumer(get_huey(settings))
    if workers > 1 and settings.is_sqlite:
        _fail("several worker processes need cluster mode (PostgreSQL + Redis)")
    uvicorn.run("kefu.main:create_app", factory=True, host=host, port=port, workers=workers,
                log_config=None, proxy_headers=True)  # fmt: skip


@app.command()
def worker(threads: Annotated[int, typer.Option(help="worker threads")] = 2) -> None:
    """Run background jobs and timers (huey consumer)."""
    from kefu.core.jobs import get_huey

    _runtime()
    huey = get_huey()
    console.print(f"kefu worker: {type(huey).__name__} with {threads} thread(s)")
    huey.create_consumer(workers=threads, worker_type="thread", periodic=True).run()


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Create or migrate the schema to the newest version."""
    from kefu.core.migrate import upgrade

    settings = get_settings()
    if settings.sqlite_path is not None:
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    upgrade(settings.database_url, revision)
    console.print(f"database is at revision {revision}")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        pw = sys.stdin.readline().rstrip("\n")
        if not pw:
            _fail("no password on standard input")
        return pw
    pw = typer.prompt("Password", hide_input=True)
    if pw != typer.prompt("Repeat password", hide_input=True):
        _fail("the two passwords differ")
    return str(pw)


@user_app.command("create")
def user_create(
    staff_no: Annotated[str, typer.Option("--staff-no", help="工号")],
    name: Annotated[str, typer.Option(help="full name")],
    role: Annotated[list[str], typer.Option(help="role (repeat for several)")],
    team: Annotated[str | None, typer.Option(help="team code")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
) -> None:
    """Create a staff account (the first administrator, for instance)."""
    from kefu.core import context
    from kefu.core.errors import KefuError
    from kefu.staff import repository as repo
    from kefu.staff import service

    password = _read_password(password_stdin)
    rt = _runtime()

    async def go() -> int:
        context.current().actor_label = f"cli:{os.environ.get('USER', 'operator')}"
        async with rt.db.transaction() as s:
            team_id = None
            if team:
                t = await repo.get_team_by_code(s, team)
                if t is None:
                    raise KefuError(f"No team with code {team}.")
                team_id = t.id
            st = await service.create_staff(s, staff_no=staff_no, name=name, roles=role, password=password,
                                            team_id=team_id, must_change_password=False)  # fmt: skip
            return st.id

    try:
        sid = asyncio.run(_with_close(rt, go()))
    except KefuError as exc:
        _fail(exc.detail)
    console.print(f"created staff {staff_no} (id {sid}) with roles {', '.join(role)}")


async def _with_close(rt, coro):  # type: ignore[no-untyped-def]
    try:
        return await coro
    finally:
        await rt.close()


@app.command()
def demo(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="only when no staff exist yet")] = False,
    customers: Annotated[
        int, typer.Option(min=0, help="generated customers with accounts and a year of transactions (0: staff only)")
    ] = 1000,
    seed: Annotated[int, typer.Option(help="random seed of the generated data")] = 20261123,
) -> None:
    """Load the demo center: teams, staff of every role (passwords shown once), and generated customers
    with accounts, cards and a year of transactions."""
    import time

    from kefu.banking import demo as bank_demo
    from kefu.core.errors import KefuError
    from kefu.staff import demo as demo_mod
    from kefu.staff import repository as repo

    rt = _runtime()
    started = time.monotonic()

    async def go() -> tuple[list[demo_mod.DemoAccount], bank_demo.DemoSummary | None] | None:
        async with rt.db.transaction() as s:
            if if_empty and await repo.count_staff(s) > 0:
                if await repo.get_staff_by_no(s, "10001") is not None:  # a demo center from an older version
                    from kefu.contacts import demo as contacts_demo
                    from kefu.knowledge import demo as kb_demo
                    from kefu.routing import demo as routing_demo

                    await routing_demo.seed(s)  # adds only what is missing
                    await contacts_demo.seed_categories(s)
                    await kb_demo.seed(s)  # only when the knowledge base is empty
                    from kefu.complaints import demo as complaints_demo

                    await complaints_demo.seed(s, rt.settings)  # only when there are no complaints
                    from kefu.scripts import demo as scripts_demo

                    await scripts_demo.load(s)  # adds the scenarios that are missing
                return None
            accounts = await demo_mod.load(s)
            from kefu.contacts import demo as contacts_demo
            from kefu.knowledge import demo as kb_demo
            from kefu.routing import demo as routing_demo

            await routing_demo.seed(s)
            await contacts_demo.seed_categories(s)
            await kb_demo.seed(s)
            from kefu.complaints import demo as complaints_demo

            await complaints_demo.seed(s, rt.settings)
            from kefu.scripts import demo as scripts_demo

            await scripts_demo.load(s)
            if not customers:
                return accounts, None
            with Progress(console=err) as progress:
                tasks: dict[str, TaskID] = {}

                def report(stage: str, done: int, total: int) -> None:
                    if stage not in tasks:
                        tasks[stage] = progress.add_task(stage, total=total)
                    progress.update(tasks[stage], completed=done, total=total)

                return accounts, await bank_demo.load(s, customers=customers, seed=seed, progress=report)

    try:
        loaded = asyncio.run(_with_close(rt, go()))
    except KefuError as exc:
        _fail(exc.detail)
    if loaded is None:
        console.print("demo data already present; nothing loaded")
        return
    accounts, summary = loaded
    if accounts:
        _print_demo_accounts(accounts)
    if summary is not None:
        _print_demo_customers(summary, time.monotonic() - started)


def _print_demo_accounts(accounts: list) -> None:  # type: ignore[type-arg]
    table = Table(title="Kefu demo accounts (shown once; also saved to var/demo-accounts.txt, mode 0600)")
    for col in ("staff no", "name", "roles", "team", "password", "TOTP secret"):
        table.add_column(col, overflow="fold", min_width=8 if col in ("password", "TOTP secret") else None)
    lines = []
    for a in accounts:
        table.add_row(a.staff_no, a.name, ",".join(a.roles), a.team or "-", a.password, a.totp_secret or "-")
        lines.append(f"{a.staff_no}\t{','.join(a.roles)}\t{a.password}\t{a.totp_secret or '-'}")
    console.print(table)
    settings = get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = settings.var_dir / "demo-accounts.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("staff_no\troles\tpassword\ttotp_secret\n" + "\n".join(lines) + "\n")
    console.print(f"{len(accounts)} demo accounts created. Two-factor codes: add the TOTP secret to an "
                  "authenticator app, or run: kefu user totp-code --secret SECRET")  # fmt: skip


def _print_demo_customers(summary, seconds: float) -> None:  # type: ignore[no-untyped-def]
    console.print(f"{summary.customers} demo customers, {summary.accounts} accounts, {summary.cards} cards, "
                  f"{summary.transactions} transactions ({summary.postings} ledger postings) in {seconds:.1f} s")  # fmt: skip
    table = Table(title="Example demo callers (generated, fictitious). DEMO ONLY: the phone-banking PIN is the "
                        "last 6 digits of the customer number")  # fmt: skip
    for col in ("name", "phone", "customer no", "PIN", "tier", "language", "security answers"):
        table.add_column(col, overflow="fold")
    for c in summary.callers:
        answers = "; ".join(f"{q} {a}" for q, a in c.answers)
        table.add_row(c.name, c.phone, c.customer_no, c.pin, c.tier, c.locale, answers)
    console.print(table)


@user_app.command("totp-code")
def totp_code(secret: Annotated[str, typer.Option(help="a TOTP secret (demo accounts)")]) -> None:
    """Print the current code for a TOTP secret, for trying the demo without an authenticator app."""
    import pyotp

    console.print(pyotp.TOTP(secret).now())


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit hash chain. Exits 0 when it holds, 1 naming the first broken entry."""
    from kefu.core import audit

    rt = _runtime()

    async def go() -> audit.VerifyResult:
        async with rt.db.transaction() as s:
            total = await audit.count(s)
            with Progress(console=err, transient=True) as progress:
                task = progress.add_task("verifying audit chain", total=total)
                return await audit.verify(s, progress=lambda n: progress.advance(task, n))

    result = asyncio.run(_with_close(rt, go()))
    if result.ok:
        console.print(f"audit chain OK: {result.checked} entries verified")
        return
    err.print(f"[red]audit chain BROKEN at entry {result.first_bad_seq}[/red]: {result.reason} "
              f"({result.checked} entries verified before it)")  # fmt: skip
    raise typer.Exit(1)


@app.command()
def backup(file: Annotated[Path, typer.Argument(help="backup file to write")]) -> None:
    """Back up the database (SQLite online backup, or pg_dump) and check the copy."""
    from kefu.core.backup import BackupError
    from kefu.core.backup import backup as do_backup

    try:
        info = do_backup(get_settings(), file)
    except BackupError as exc:
        _fail(str(exc))
    console.print(f"backup written: {info.path} ({info.kind}, {info.size} bytes, sha256 {info.sha256})")


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="backup file to restore")],
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
) -> None:
    """Restore a backup into the configured database, replacing its contents."""
    from kefu.core.backup import BackupError
    from kefu.core.backup import restore as do_restore

    if not yes and not typer.confirm("This replaces everything in the configured database. Continue?"):
        raise typer.Exit(1)
    try:
        do_restore(get_settings(), file)
    except BackupError as exc:
        _fail(str(exc))
    console.print(f"restored from {file}")


@keys_app.command("rotate")
def keys_rotate(
    new_key: Annotated[bool, typer.Option(help="embedded mode: first add a new key version to var/data.key")] = True,
) -> None:
    """Re-encrypt every personal-data value under the newest key version."""
    from kefu.core import audit, crypto, keys
    from kefu.core.config import append_data_key_version

    settings = get_settings()
    try:
        settings.ensure_secrets()
        if new_key and not settings.cluster_mode:
            version = append_data_key_version(settings)
            console.print(f"added data key version {version} to {settings.var_dir / 'data.key'}")
    except ConfigError as exc:
        _fail(str(exc))
    rt = _runtime()

    async def go() -> keys.RotationReport:
        async with rt.db.transaction() as s:
            total = await keys.count_values(s)
            with Progress(console=err, transient=True) as progress:
                task = progress.add_task("re-encrypting", total=total)
                report = await keys.rotate(s, progress=lambda n: progress.advance(task, n))
            await audit.record(s, action="keys.rotate", object_type="keyring", object_id=report.version,
                               after={"rewritten": report.rewritten, "columns": report.columns}, actor="cli")  # fmt: skip
            return report

    report = asyncio.run(_with_close(rt, go()))
    console.print(f"key version {report.version} ({crypto.keyring().current_version} current): "
                  f"{report.rewritten} values re-encrypted, {report.already_current} already current, "
                  f"{report.columns} encrypted columns")  # fmt: skip


@banking_app.command("core")
def banking_core(
    mode: Annotated[str, typer.Argument(help="status, online or offline")] = "status",
    reason: Annotated[str, typer.Option(help="why (required to switch); written to the audit log")] = "",
    as_staff: Annotated[str, typer.Option("--as", help="staff number of the supervisor or admin switching")] = "",
) -> None:
    """Show the core banking connection, or switch it offline / online (drills, outages; R9.3)."""
    from kefu.banking import manual
    from kefu.core import context
    from kefu.core.errors import KefuError
    from kefu.core.permissions import Permission
    from kefu.staff import repository as staff_repo
    from kefu.staff.auth import principal_for

    if mode not in ("status", "online", "offline"):
        _fail("mode must be status, online or offline")
    if mode != "status" and not as_staff:
        _fail("say who is switching: --as STAFF_NO (a supervisor or admin)")
    rt = _runtime()

    async def go() -> dict[str, object]:
        async with rt.db.transaction() as s:
            if mode == "status":
                return await manual.status(s)
            staff = await staff_repo.get_staff_by_no(s, as_staff)
            if staff is None or staff.status != "active":
                raise KefuError(f"No active staff member {as_staff}.")
            actor = principal_for(staff, kind="cli")
            if not actor.can(Permission.BANKING_CORE_SWITCH):
                raise KefuError(f"{as_staff} may not switch the core banking connection (banking.core_switch).")
            ctx = context.current()
            ctx.actor_id, ctx.actor_label = actor.staff_id, f"cli:{actor.staff_no}"
            return await manual.set_mode(s, actor=actor, mode=mode, reason=reason)

    try:
        out = asyncio.run(_with_close(rt, go()))
    except KefuError as exc:
        _fail(exc.detail)
    state = "available" if out["available"] else f"OFFLINE ({out['reason']})"
    console.print(f"core banking: {state}")


if __name__ == "__main__":
    app()
