"""Safe rendering of an entry's answer (Markdown) to HTML: CommonMark with raw HTML disabled, no
images, and links only to http(s) addresses (anything else stays plain text)."""

from __future__ import annotations

from typing import Any

from markdown_it import MarkdownIt

_SCHEMES = ("http://", "https://")


def _safe_link(url: str) -> bool:
    return url.strip().lower().startswith(_SCHEMES)


def _link_open(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    tokens[idx].attrSet("rel", "noopener noreferrer")
    tokens[idx].attrSet("target", "_blank")
    return str(self.renderToken(tokens, idx, options, env))


def _build() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False})
    md.disable("image")
    md.validateLink = _safe_link  # type: ignore[method-assign]
    md.add_render_rule("link_open", _link_open)
    return md


_MD = _build()


def render(text: str) -> str:
    """HTML of the Markdown ``text``, safe to put in a page as it is."""
    return _MD.render(text or "")
