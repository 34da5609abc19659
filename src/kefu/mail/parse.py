"""Reading one received e-mail (RFC 5322, MIME) with the standard library's ``email`` package (policy.default).

What is kept: Message-ID, In-Reply-To, References (ids without ``<>``), the first From and To address, the
subject, the text body and the attachments. The body is the ``text/plain`` part when there is one, else the
``text/html`` part reduced to text (``html.parser``: tags dropped, ``script``/``style`` content dropped,
entities decoded, block elements become line breaks); no HTML is ever kept or rendered. Control characters are
removed, and the body is cut at ``BODY_MAX_CHARS`` with a note saying how much was cut.

Attachments: every leaf part that is not the chosen body and is either marked ``attachment``, named, or not
text. Their type is sniffed from the content (``kefu.complaints.evidence.sniff``), never taken from the
sender; unknown types are ``application/octet-stream``. Executables and scripts (by name or by content) are
not kept: the body ends with a line saying which attachment was left out and why. At most
``MAX_ATTACHMENTS`` are kept. A message without a Message-ID gets one made from the SHA-256 of its bytes,
so the same message delivered twice is still recognised.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any

from kefu.mail.models import BODY_MAX_CHARS

MAX_ATTACHMENTS = 20
MAX_REFS = 30
MAX_ID = 255
MAX_SUBJECT = 500
MAX_ADDRESS = 254  # bytes of UTF-8
#: UTF-8 bytes of body kept (the encrypted column holds 96,000 characters of base64)
BODY_MAX_BYTES = 60_000
MAX_LEFT_OUT_LINES = 20
#: file name endings never kept (run by a double click on the agent's PC)
DANGEROUS_EXT = frozenset({
    "exe", "dll", "com", "scr", "pif", "bat", "cmd", "msi", "msp", "msc", "cpl", "jar", "js", "jse", "vbs", "vbe",
    "wsf", "wsh", "ps1", "psm1", "hta", "lnk", "reg", "sh", "apk", "app", "dmg", "iso", "inf", "sys", "chm",
    "scf", "gadget", "application", "appx", "msix", "vb", "ws", "xll", "docm", "xlsm", "pptm",
})  # fmt: skip
_ID_RE = re.compile(r"<([^<>\s]{1,255})>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class ParsedMail:
    message_id: str
    in_reply_to: str | None
    references: list[str]
    from_addr: str
    to_addr: str
    subject: str
    body: str
    attachments: list[Attachment] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # attachments not kept, with the reason
    sent_at: Any = None  # the Date header (aware datetime) when readable

    @property
    def thread_ids(self) -> list[str]:
        """Ids this message answers, nearest first (In-Reply-To, then References from the end)."""
        out = [self.in_reply_to] if self.in_reply_to else []
        out.extend(r for r in reversed(self.references) if r not in out)
        return out


def clean_id(value: str | None) -> str | None:
    """A message id without ``<>`` and spaces, or None when there is none (or it is unusable)."""
    if not value:
        return None
    text = str(value).strip()
    found = _ID_RE.search(text)
    token = found.group(1) if found else text.strip("<> \t")
    if not token or len(token) > MAX_ID or any(ch.isspace() or ord(ch) < 33 for ch in token):
        return None
    return token


def id_list(value: str | None) -> list[str]:
    """The ids of a References header (the last ``MAX_REFS``)."""
    if not value:
        return []
    text = str(value)
    found = _ID_RE.findall(text) or [t for t in text.split() if clean_id(t)]
    out: list[str] = []
    for token in found:
        cleaned = clean_id(token)
        if cleaned and cleaned not in out:
            out.append(cleaned)
    return out[-MAX_REFS:]


def _address(msg: EmailMessage, name: str) -> str:
    try:
        values = msg.get_all(name) or []
        pairs = getaddresses([str(v) for v in values])
    except Exception:  # a header too broken to read is an empty address, never a failed message
        return ""
    for _display, addr in pairs:
        addr = addr.strip()
        if (
            "@" in addr
            and len(addr.encode("utf-8", "surrogatepass")) <= MAX_ADDRESS
            and not _CONTROL.search(addr)
            and " " not in addr
        ):
            return addr
    return ""


def clean_text(text: str) -> str:
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return _CONTROL.sub("", text)


def cap_body(text: str) -> str:
    """At most ``BODY_MAX_CHARS`` characters and ``BODY_MAX_BYTES`` bytes of UTF-8 (what the encrypted column
    holds), with a note of what was cut."""
    text = clean_text(text).strip()
    text = re.sub(r"\n{4,}", "\n\n\n", text)
    kept = text[:BODY_MAX_CHARS]
    if len(kept.encode("utf-8", "surrogatepass")) > BODY_MAX_BYTES:
        kept = kept.encode("utf-8", "surrogatepass")[:BODY_MAX_BYTES].decode("utf-8", "ignore")
    if len(kept) == len(text):
        return text
    return f"{kept}\n[… {len(text) - len(kept):,} more characters not kept]"


class _Text(HTMLParser):
    BLOCK = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote",
                       "section", "article", "header", "footer", "ul", "ol", "pre", "hr"})  # fmt: skip
    SKIP = frozenset({"script", "style", "head", "title", "template", "noscript", "svg", "object", "iframe"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: Any) -> None:
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Readable text of an HTML body: no tag, script or style survives; entities decoded."""
    parser = _Text()
    try:
        parser.feed(markup)
        parser.close()
        text = "".join(parser.parts)
    except Exception:  # HTMLParser is lenient; if it still fails, drop everything that looks like a tag
        text = html.unescape(re.sub(r"<[^>]*>", " ", markup))
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _text_of(part: EmailMessage) -> str:
    try:
        content = part.get_content()
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeError, AssertionError, KeyError, ValueError):
        pass
    payload = part.get_payload(decode=True)
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def safe_filename(name: str | None, fallback: str) -> str:
    """The sender's file name without folders, control or reserved characters, at most 150 characters."""
    base = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = re.sub(r'[<>:"|?*;]', "_", base)
    base = re.sub(r"\s+", " ", base).strip(" .")
    if not base:
        return fallback
    if len(base) > 150:
        stem, dot, ext = base.rpartition(".")
        base = f"{stem[: 149 - len(ext)]}.{ext}" if dot and len(ext) <= 10 else base[:150]
    return base


def extension(name: str) -> str:
    return name.rpartition(".")[2].lower() if "." in name else ""


def dangerous(name: str, data: bytes) -> str | None:
    """Why a file must not be kept (an executable or a script), or None."""
    ext = extension(name)
    if ext in DANGEROUS_EXT:
        return f"file type .{ext} is not accepted"
    if data.startswith((b"MZ", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")):
        return "the file is a program"
    return None


def sniff_type(data: bytes) -> str:
    """The stored content type, from the content only."""
    from kefu.complaints.evidence import ALLOWED, sniff

    kind = sniff(data)
    if kind is not None:
        return ALLOWED[kind]
    if data.startswith(b"PK\x03\x04"):
        return "application/zip"
    return "application/octet-stream"


def _attachments(msg: EmailMessage, body_part: Any) -> tuple[list[Attachment], list[str]]:
    kept: list[Attachment] = []
    left_out: list[str] = []
    for part in msg.walk():
        if part is body_part or part.is_multipart():
            continue
        ctype = part.get_content_type()
        disposition = part.get_content_disposition()
        name = part.get_filename()
        if disposition != "attachment" and not name and ctype.startswith("text/"):
            continue  # the other alternative of the body
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if not data:
            continue
        fallback = f"attachment-{len(kept) + len(left_out) + 1}"
        filename = safe_filename(str(name) if name else None, fallback)
        why = dangerous(filename, data)
        if why is None and len(kept) >= MAX_ATTACHMENTS:
            why = f"more than {MAX_ATTACHMENTS} attachments"
        if why is not None:
            left_out.append(f"{filename} ({len(data):,} bytes): {why}")
            continue
        kept.append(Attachment(filename=filename, content_type=sniff_type(data), data=data))
    return kept, left_out


def parse(raw: bytes) -> ParsedMail:
    """Read one message; never raises on malformed input (what cannot be read is left empty)."""
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)  # noqa: S101  (policy.default builds EmailMessage)
    message_id = clean_id(msg.get("Message-ID")) or f"missing-{hashlib.sha256(raw).hexdigest()[:40]}@kefu.invalid"
    subject = clean_text(str(msg.get("Subject", "") or "")).replace("\n", " ").strip()[:MAX_SUBJECT]
    try:
        body_part = msg.get_body(preferencelist=("plain", "html"))
    except Exception:  # broken MIME structure: no body part
        body_part = None
    text = ""
    if body_part is not None:
        text = _text_of(body_part)  # type: ignore[arg-type]
        if body_part.get_content_type() == "text/html":
            text = html_to_text(text)
    attachments, left_out = _attachments(msg, body_part)
    body = cap_body(text)
    if left_out:
        lines = [f"[Attachment not kept: {line}]" for line in left_out[:MAX_LEFT_OUT_LINES]]
        if len(left_out) > MAX_LEFT_OUT_LINES:
            lines.append(f"[… and {len(left_out) - MAX_LEFT_OUT_LINES} more attachments not kept]")
        body += "\n\n" + "\n".join(lines)
    try:
        sent_at = parsedate_to_datetime(str(msg["Date"])) if msg.get("Date") else None
    except (TypeError, ValueError, IndexError):
        sent_at = None
    return ParsedMail(
        message_id=message_id, in_reply_to=clean_id(msg.get("In-Reply-To")), references=id_list(msg.get("References")),
        from_addr=_address(msg, "From"), to_addr=_address(msg, "To"), subject=subject, body=body,
        attachments=attachments, left_out=left_out, sent_at=sent_at,
    )  # fmt: skip


def is_address(value: str) -> bool:
    """A plain addr-spec (what a reply may be sent to)."""
    try:
        addr = Address(addr_spec=value)
    except (ValueError, IndexError, TypeError):
        return False
    return bool(addr.username and addr.domain and "." in addr.domain)
