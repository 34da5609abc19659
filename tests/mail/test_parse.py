"""Reading received mail: ids, addresses, text body (HTML reduced to text, never kept), limits, attachments."""

from __future__ import annotations

from email.message import EmailMessage

from kefu.mail import parse as p
from kefu.mail.models import BODY_MAX_CHARS
from tests.mail.helpers import PNG, mail


def test_headers_and_plain_body() -> None:
    raw, mid = mail(in_reply_to="a1@kefu.invalid", references=["a0@x.example", "a1@kefu.invalid"])
    m = p.parse(raw)
    assert m.message_id == mid
    assert (m.in_reply_to, m.references) == ("a1@kefu.invalid", ["a0@x.example", "a1@kefu.invalid"])
    assert m.thread_ids == ["a1@kefu.invalid", "a0@x.example"]
    assert (m.from_addr, m.to_addr, m.subject) == ("zhang.san@example.com", "kefu@bank.invalid", "账单疑问")
    assert m.body.startswith("您好，我的信用卡账单")


def test_html_only_mail_becomes_text_without_markup() -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@example.com", "kefu@bank.invalid", "html"
    msg.set_content("<html><head><style>p{color:red}</style><script>alert('x')</script></head><body>"
                    "<p>第一段 &amp; more</p><div>第二段<br>换行</div><img src=x onerror=alert(1)></body></html>",
                    subtype="html")  # fmt: skip
    m = p.parse(msg.as_bytes())
    assert "<" not in m.body
    assert "alert" not in m.body
    assert "color" not in m.body
    assert m.body.splitlines() == ["第一段 & more", "", "第二段", "换行"]


def test_plain_is_preferred_over_html() -> None:
    raw, _ = mail("纯文本正文", html="<p>HTML 正文</p>")
    m = p.parse(raw)
    assert m.body == "纯文本正文"
    assert m.attachments == []  # the HTML alternative is not an attachment


def test_gbk_mail_and_missing_message_id() -> None:
    raw = ("From: a@example.com\r\nTo: kefu@bank.invalid\r\nSubject: =?gbk?b?" + "suLK1A==" + "?=\r\n"
           "Content-Type: text/plain; charset=gbk\r\n\r\n").encode() + "中文正文".encode("gbk")  # fmt: skip
    m = p.parse(raw)
    assert m.body == "中文正文"
    assert m.subject == "测试"
    assert m.message_id.startswith("missing-")
    assert p.parse(raw).message_id == m.message_id


def test_long_body_is_cut_with_a_note_and_controls_removed() -> None:
    raw, _ = mail("字\x07" * (BODY_MAX_CHARS + 50))
    m = p.parse(raw)
    assert "\x07" not in m.body
    assert m.body.startswith("字" * 100)
    assert m.body.endswith("[… 50 more characters not kept]")


def test_attachments_sniffed_named_safely_and_programs_left_out() -> None:
    raw, _ = mail(attachments=[("../../etc/截图.png", PNG, "application/octet-stream"),
                               ("invoice.exe", b"MZ\x90\x00rest", "application/octet-stream"),
                               ("readme.txt", b"#!/bin/sh\nrm -rf /\n", "text/plain")])  # fmt: skip
    m = p.parse(raw)
    assert [(a.filename, a.content_type, a.data) for a in m.attachments] == [("截图.png", "image/png", PNG)]
    assert len(m.left_out) == 2
    assert "[Attachment not kept: invoice.exe" in m.body
    assert "readme.txt" in m.body
    assert "program" in m.body


def test_ids_are_cleaned() -> None:
    assert p.clean_id(" <abc@x> ") == "abc@x"
    assert p.clean_id("no id here ") is None
    assert p.clean_id("x" * 300) is None
    assert p.id_list("<a@x> <b@x>\r\n <a@x>") == ["a@x", "b@x"]


def test_body_is_also_capped_in_bytes_for_the_encrypted_column() -> None:
    raw, _ = mail("😀" * BODY_MAX_CHARS)  # 4 bytes each: 80,000 bytes
    m = p.parse(raw)
    assert len(m.body.encode()) <= p.BODY_MAX_BYTES + 100
    assert m.body.endswith("more characters not kept]")


def test_many_programs_are_summed_up() -> None:
    raw, _ = mail(attachments=[(f"x{i}.exe", b"MZ" + bytes(10), "application/octet-stream") for i in range(30)])
    m = p.parse(raw)
    assert m.body.count("[Attachment not kept") == p.MAX_LEFT_OUT_LINES
    assert "[… and 10 more attachments not kept]" in m.body
