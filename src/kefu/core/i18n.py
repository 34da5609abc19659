"""Translation catalogues for every text the UI shows (convention 13).

Catalogues are flat JSON files in ``src/kefu/locales`` (``zh-Hans.json``, ``zh-Hant.json``, ``en.json``)
mapping a dotted key to a text with ``{name}`` fields filled in by ``t()``. A small lookup is enough here: Babel /
gettext would add a compile step (``.po`` → ``.mo``) and offer plural rules Chinese does not need.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

LOCALES: tuple[str, ...] = ("zh-Hans", "zh-Hant", "en")
DEFAULT_LOCALE = "zh-Hans"
LANG_COOKIE = "kefu_lang"
CATALOGUE_DIR = Path(__file__).resolve().parent.parent / "locales"


@lru_cache(maxsize=len(LOCALES))
def catalogue(locale: str) -> dict[str, str]:
    """The catalogue of one locale (loaded once per process)."""
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r}; known: {', '.join(LOCALES)}")
    with (CATALOGUE_DIR / f"{locale}.json").open(encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError(f"{locale}.json must be one flat object of strings")
    return data


def normalise(locale: str | None) -> str | None:
    """A supported locale for a loosely written one (``zh-CN`` → ``zh-Hans``), or None."""
    if not locale:
        return None
    value = locale.strip()
    if value in LOCALES:
        return value
    low = value.lower().replace("_", "-")
    if low in ("zh-hant", "zh-tw", "zh-hk", "zh-mo"):
        return "zh-Hant"
    if low in ("zh", "zh-hans", "zh-cn", "zh-sg"):
        return "zh-Hans"
    if low.startswith("en"):
        return "en"
    return None


def has(key: str, locale: str = DEFAULT_LOCALE) -> bool:
    return key in catalogue(normalise(locale) or DEFAULT_LOCALE)


def t(key: str, locale: str | None = None, /, **params: Any) -> str:
    """The text for ``key`` in ``locale`` (falling back to the default locale, then the key itself)."""
    loc = normalise(locale) or DEFAULT_LOCALE
    text = catalogue(loc).get(key)
    if text is None:
        text = catalogue(DEFAULT_LOCALE).get(key, key)
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def choose_locale(cookie_value: str | None, staff_locale: str | None, default: str = DEFAULT_LOCALE) -> str:
    """Cookie ``kefu_lang`` first, then the staff member's stored locale, then the configured default."""
    return normalise(cookie_value) or normalise(staff_locale) or normalise(default) or DEFAULT_LOCALE
