"""``kefu phone``: a command-line softphone that drives the CTI API like a PBX would, and ``kefu cti
create-key`` to issue the telephony system's API key."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from typing import Annotated, Any

import typer
from rich.console import Console

phone_app = typer.Typer(help="Softphone simulator: send call events to a running Kefu (like a PBX would)",
                        no_args_is_help=True)  # fmt: skip
cti_app = typer.Typer(help="Telephony integration", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

Url = Annotated[str, typer.Option(help="Kefu's address", envvar="KEFU_URL")]
Key = Annotated[str, typer.Option(help="API key with cti.events (kefu cti create-key)", envvar="KEFU_CTI_API_KEY")]
DEFAULT_URL = "http://127.0.0.1:8000"


def _post(url: str, api_key: str, body: dict[str, Any]) -> dict[str, Any]:
    import httpx

    if not api_key:
        err.print("[red]error:[/red] give --api-key or set KEFU_CTI_API_KEY (create one: kefu cti create-key)")
        raise typer.Exit(2)
    try:
        resp = httpx.post(f"{url.rstrip('/')}/api/v1/cti/events", json=body, headers={"X-API-Key": api_key},
                          timeout=10)  # fmt: skip
    except httpx.HTTPError as exc:
        err.print(f"[red]error:[/red] cannot reach {url}: {exc}")
        raise typer.Exit(1) from exc
    data: dict[str, Any] = resp.json() if resp.content else {}
    if resp.status_code >= 400:
        err.print(f"[red]error {resp.status_code}:[/red] {data.get('detail', resp.text)}")
        raise typer.Exit(1)
    return data


def _print(data: dict[str, Any]) -> None:
    console.print_json(json.dumps(data, ensure_ascii=False))


@phone_app.command("call")
def call(
    caller: Annotated[str, typer.Option(help="the caller's number")] = "13800000000",
    dialled: Annotated[str, typer.Option(help="the number dialled")] = "400-000-0000",
    ivr: Annotated[list[str] | None, typer.Option(help="IVR choice (repeat for a menu path)")] = None,
    customer_no: Annotated[str, typer.Option(help="customer number if the IVR identified the caller")] = "",
    call_id: Annotated[str, typer.Option(help="call id (default: a new one)")] = "",
    url: Url = DEFAULT_URL,
    api_key: Key = "",
) -> None:
    """A new incoming call; prints Kefu's answer (route to an extension, queue, or reject)."""
    body = {"event": "call.new", "call_id": call_id or f"cli-{uuid.uuid4().hex[:16]}", "caller": caller,
            "dialled": dialled, "ivr": ivr or [], "customer_hint": customer_no or None}  # fmt: skip
    _print(_post(url, api_key, body))


def _simple(event: str, call_id: str, url: str, api_key: str, **extra: Any) -> None:
    _print(_post(url, api_key, {"event": event, "call_id": call_id, **extra}))


@phone_app.command("answer")
def answer(
    call_id: str, extension: Annotated[str, typer.Option(help="agent extension (staff number)")], url: Url = DEFAULT_URL,
    api_key: Key = "",
) -> None:  # fmt: skip
    """The agent at EXTENSION picked up."""
    _simple("call.answered", call_id, url, api_key, extension=extension)


@phone_app.command("hold")
def hold(call_id: str, url: Url = DEFAULT_URL, api_key: Key = "") -> None:
    _simple("call.held", call_id, url, api_key)


@phone_app.command("resume")
def resume(call_id: str, url: Url = DEFAULT_URL, api_key: Key = "") -> None:
    _simple("call.resumed", call_id, url, api_key)


@phone_app.command("transfer")
def transfer(
    call_id: str,
    queue: Annotated[str, typer.Option(help="target queue or department")] = "",
    extension: Annotated[str, typer.Option(help="target agent extension")] = "",
    consult: Annotated[bool, typer.Option(help="consult transfer (default blind)")] = False,
    url: Url = DEFAULT_URL,
    api_key: Key = "",
) -> None:
    _simple("call.transferred", call_id, url, api_key, queue=queue or None, extension=extension or None,
            mode="consult" if consult else "blind")  # fmt: skip


@phone_app.command("hangup")
def hangup(call_id: str, url: Url = DEFAULT_URL, api_key: Key = "") -> None:
    """The caller hung up (abandoned when not yet answered)."""
    _simple("call.hangup", call_id, url, api_key)


@cti_app.command("create-key")
def create_key(
    owner: Annotated[str, typer.Option(help="staff number of the administrator who owns the key")],
    name: Annotated[str, typer.Option(help="what the key is for, e.g. 'Asterisk ARI adapter'")] = "telephony",
    expires_days: Annotated[int, typer.Option(help="days until it expires (0 = never)")] = 365,
) -> None:
    """Issue an API key carrying cti.events for a telephony system (printed once)."""
    from kefu.cli import _fail, _runtime, _with_close
    from kefu.core import context
    from kefu.core.errors import KefuError
    from kefu.staff import auth as staff_auth
    from kefu.staff import repository as staff_repo

    rt = _runtime()

    async def go() -> str:
        async with rt.db.transaction() as s:
            staff = await staff_repo.get_staff_by_no(s, owner)
            if staff is None or staff.status != "active":
                raise KefuError(f"No active staff member {owner}.")
            actor = staff_auth.principal_for(staff, kind="cli")
            ctx = context.current()
            ctx.actor_id, ctx.actor_label = actor.staff_id, f"cli:{actor.staff_no}"
            token, _ = await staff_auth.create_api_key(s, actor=actor, name=name, scopes=["cti.events"],
                                                       expires_days=expires_days or None)  # fmt: skip
            return token

    try:
        token = asyncio.run(_with_close(rt, go()))
    except KefuError as exc:
        _fail(exc.detail)
    console.print(f"API key (shown once; store it in the PBX adapter's secrets): {token}")
    if os.environ.get("KEFU_CTI_API_KEY") is None:
        console.print("[dim]use it with: export KEFU_CTI_API_KEY=…; kefu phone call --ivr 1[/dim]")
