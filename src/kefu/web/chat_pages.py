"""The customer's chat widget ``/chat`` (no sign-in): choose a topic, talk to the bot, ask for an agent.

Other sites of the bank embed it in a frame (``KEFU_CHAT_EMBED_ORIGINS`` lists them for the page's
``frame-ancestors``); ``static/chat_widget.js`` talks to ``/api/v1/chat`` and its websocket."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from kefu.chat import service as chat_service
from kefu.core import i18n
from kefu.core.auth import DbSession, public
from kefu.web.pages import CSP, PageRoute, locale_of, render, settings_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)

#: the widget's texts for its script, by catalogue key
JS_KEYS = (
    "chat.w.you", "chat.w.bot", "chat.w.agent", "chat.w.system", "chat.w.connecting", "chat.w.offline",
    "chat.w.ended", "chat.w.handover", "chat.w.suggest", "chat.w.error",
)  # fmt: skip


@router.get("/chat", dependencies=[public()])
async def widget(request: Request, db: DbSession) -> Response:
    locale = locale_of(request)
    settings = settings_of(request)
    topics = await chat_service.topics(db)
    texts = {k: i18n.t(k, locale) for k in JS_KEYS}
    response = render(request, "chat_widget.html", {"topics": topics, "js_texts": texts, "chat_locale": locale},
                      principal=None, no_store=True)  # fmt: skip
    ancestors = " ".join(["'self'", *settings.chat_embed_origins])
    response.headers["Content-Security-Policy"] = CSP.replace("frame-ancestors 'none'", f"frame-ancestors {ancestors}")
    if "X-Frame-Options" in response.headers:
        del response.headers["X-Frame-Options"]
    return response
