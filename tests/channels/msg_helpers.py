"""Helpers of the SMS and WeChat tests: signed webhook posts, a real local HTTP gateway (the standard
library's HTTP server on a free port, in a thread), and small readers. Generated data only."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from httpx import AsyncClient, Response

from kefu.channels import wechat
from kefu.channels.router import sms_signature
from kefu.core import clock

SMS_SECRET = "sms-webhook-secret-for-tests"
WECHAT_TOKEN = "wechat-token-for-tests"
SMS_URL = "/api/v1/channels/sms/inbound"
WECHAT_URL = "/api/v1/channels/wechat"
PROBLEM = "application/problem+json"


async def post_sms(
    client: AsyncClient,
    body: dict[str, Any] | bytes,
    *,
    secret: str = SMS_SECRET,
    timestamp: int | None = None,
    signature: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    ts = str(int(clock.now().timestamp()) if timestamp is None else timestamp)
    h = {"content-type": "application/json", "X-Kefu-Timestamp": ts,
         "X-Kefu-Signature": signature if signature is not None else sms_signature(secret, ts, raw)}  # fmt: skip
    h.update(headers or {})
    return await client.post(SMS_URL, content=raw, headers=h)


def sms(sender: str, text: str, msg_id: str, **kw: Any) -> dict[str, Any]:
    return {"from": sender, "to": "95588", "text": text, "id": msg_id, **kw}


def wechat_params(token: str = WECHAT_TOKEN, *, timestamp: int | None = None, nonce: str = "n0nce") -> dict[str, str]:
    ts = str(int(clock.now().timestamp()) if timestamp is None else timestamp)
    return {"signature": wechat.signature(token, ts, nonce), "timestamp": ts, "nonce": nonce}


def wechat_xml(openid: str, text: str, msg_id: str | None, *, msg_type: str = "text") -> bytes:
    created = int(clock.now().timestamp())
    mid = f"<MsgId>{msg_id}</MsgId>" if msg_id else ""
    return (
        f"<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>"
        f"<Content><![CDATA[{text}]]></Content>{mid}</xml>"
    ).encode()


async def post_wechat(client: AsyncClient, raw: bytes, params: dict[str, str] | None = None) -> Response:
    return await client.post(WECHAT_URL, params=params or wechat_params(), content=raw,
                             headers={"content-type": "text/xml"})  # fmt: skip


class Gateway:
    """A real HTTP receiver standing in for the SMS platform / WeChat relay: keeps each request and answers
    ``status`` with ``{"id": "gw-<n>"}``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                gateway.requests.append({"path": self.path, "headers": dict(self.headers), "json": body})
                answer = json.dumps({"id": f"gw-{len(gateway.requests)}"}).encode()
                self.send_response(gateway.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def running_gateway() -> Iterator[Gateway]:
    """For a fixture: ``yield from running_gateway()``."""
    gw = Gateway()
    try:
        yield gw
    finally:
        gw.close()


async def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    import asyncio

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met within the time limit")
