"""``kefu mail``: one IMAP round (``fetch``) and importing saved messages (``import FILE.eml …``). Output
names ids and counts only, never addresses or subjects."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

app = typer.Typer(help="E-mail channel: fetch from IMAP, import .eml files", no_args_is_help=True)
console = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True)


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def _run(work: Any) -> Any:
    import kefu.models  # noqa: F401 - every table, so foreign keys to other domains resolve
    from kefu.cli import _runtime, _with_close
    from kefu.routing import digital

    rt = _runtime()
    digital.mark_offline(rt)  # embedded mode: the serving process routes what this command stores
    return asyncio.run(_with_close(rt, work(rt)))


@app.command("fetch")
def fetch() -> None:
    """Fetch the unread messages of the IMAP mailbox once (KEFU_IMAP_*), store and route them."""
    from kefu.core.config import get_settings

    if not get_settings().imap_host:
        _fail("No IMAP mailbox is configured: set KEFU_IMAP_HOST, KEFU_IMAP_USERNAME and KEFU_IMAP_PASSWORD.")
    from kefu.mail import imap

    async def work(rt: Any) -> Any:
        return await imap.fetch_once(rt)

    try:
        result = _run(work)
    except (imap.ImapProblem, OSError) as exc:
        _fail(f"The IMAP server could not be read ({type(exc).__name__}: {exc}). Check KEFU_IMAP_HOST, "
              "KEFU_IMAP_PORT, KEFU_IMAP_SECURITY and the login.")  # fmt: skip
    console.print(f"stored {result.stored}, already known {result.duplicates}, too large {result.too_large}, "
                  f"failed {result.failed}")  # fmt: skip
    if result.failed:
        raise typer.Exit(1)


@app.command("import")
def import_files(
    files: Annotated[list[Path], typer.Argument(help="saved messages (.eml, RFC 822)", exists=True, dir_okay=False)],
) -> None:
    """Store saved messages as if they had been received (threaded, routed; duplicates skipped)."""
    from kefu.core.errors import KefuError
    from kefu.mail import service

    async def work(rt: Any) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = []
        for path in files:
            if path.stat().st_size > rt.settings.email_max_bytes:
                out.append((path.name, f"too large (over {rt.settings.email_max_bytes:,} bytes)"))
                continue
            try:
                out.append((path.name, await service.ingest_one(rt, path.read_bytes(), source="import")))
            except KefuError as exc:
                out.append((path.name, exc.detail))
        return out

    failed = 0
    for name, done in _run(work):
        if isinstance(done, str):
            failed += 1
            err.print(f"{name}: not imported: {done}")
        else:
            console.print(f"{name}: {done.outcome} (e-mail {done.email_id}, contact {done.contact_id})")
    if failed:
        raise typer.Exit(1)
