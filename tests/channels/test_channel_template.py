"""The ``_channel_messages.html`` partial renders a thread (escaped, with delivery badges) for the lead's
contact page."""

from __future__ import annotations

import datetime as dt

from kefu.web.pages import templates

AT = dt.datetime(2026, 11, 23, 1, 5, tzinfo=dt.UTC)


def _render(messages: list[dict]) -> str:
    return templates.get_template("_channel_messages.html").render(messages=messages, names={7: "王*"},
                                                                    locale="zh-Hans")  # fmt: skip


def test_thread_partial_renders_both_directions_escaped():
    html = _render([
        {"id": 1, "channel": "sms", "direction": "inbound", "text": "<script>x</script>卡锁了", "at": AT,
         "address": "138****5678", "agent_id": None, "delivery": None, "delivery_error": None},
        {"id": 2, "channel": "sms", "direction": "outbound", "text": "已处理", "at": AT, "address": "138****5678",
         "agent_id": 7, "delivery": "failed", "delivery_error": "HTTP 503"},
    ])  # fmt: skip
    assert "<script>x" not in html
    assert "&lt;script&gt;" in html
    assert 'data-direction="inbound"' in html
    assert 'data-direction="outbound"' in html
    assert "09:05" in html  # Shanghai time
    assert "王*" in html
    assert "badge-delivery-failed" in html
    assert "138****5678" in html


def test_empty_thread():
    assert "channels.messages.none" in _render([]) or "data-channel-messages" in _render([])
