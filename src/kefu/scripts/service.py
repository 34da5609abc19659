"""Call scripts (话术): the rules for writing them and for choosing the one a contact gets.

Choosing (``for_contact``): among the active scripts of the contact's channel, a scenario whose
``queue_codes`` name the contact's queue wins (the alphabetically first scenario when several do), else
the scenario ``default`` (no queues). Within the scenario the script in the wanted locale (the
customer's preferred language) is used, else the one in Simplified Chinese, else any.

Writing: scenario codes are short lower-case words; ``default`` names no queues and every other scenario
names at least one configured queue; the texts may only use the placeholders ``{agent_no}`` (the agent's
staff number) and ``{customer}`` (the customer's masked surname with a title). Every change bumps the
version and is audited.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import audit, clock, i18n
from kefu.core.auth import Principal
from kefu.core.errors import Conflict, NotFound, ValidationFailed
from kefu.core.ids import MAX_ROW_ID
from kefu.routing import config_service
from kefu.scripts.models import CallScript

DEFAULT = "default"
CHANNELS = ("phone", "chat", "email")
PLACEHOLDERS = ("agent_no", "customer")
TEXTS = ("greeting", "confirmation", "closing", "notes")
LIMITS = {"name": 80, "greeting": 2000, "confirmation": 2000, "closing": 2000, "notes": 2000}
_SCENARIO = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
_QUEUE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
#: how the masked surname is addressed, by the customer's gender (M, F, or not given)
TITLES = {
    "zh-Hans": {"F": "{s}女士", "M": "{s}先生", "": "{s}先生/女士"},
    "zh-Hant": {"F": "{s}女士", "M": "{s}先生", "": "{s}先生/女士"},
    "en": {"F": "Ms {s}", "M": "Mr {s}", "": "{s}"},
}


def invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, extra={"errors": [{"field": field, "message": message}]})


def view(s: CallScript) -> dict[str, Any]:
    return {
        "id": s.id, "scenario": s.scenario, "name": s.name, "queue_codes": queues_of(s), "channel": s.channel,
        "locale": s.locale, "greeting": s.greeting, "confirmation": s.confirmation, "closing": s.closing,
        "notes": s.notes, "active": s.active, "version": s.version, "updated_by": s.updated_by,
        "created_at": s.created_at, "updated_at": s.updated_at,
    }  # fmt: skip


def queues_of(s: CallScript) -> list[str]:
    return [q for q in (s.queue_codes or "").split(",") if q]


def _check_text(field: str, value: Any, *, required: bool) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise invalid(field, f"Write the {field} of the script.")
    if len(text) > LIMITS[field]:
        raise invalid(field, f"The {field} is {len(text)} characters long; at most {LIMITS[field]} fit.")
    if field in TEXTS:
        try:
            names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
        except ValueError as exc:
            raise invalid(field, f"The {field} has an unmatched {{ or }}; write {{agent_no}} or {{customer}}.") from exc
        unknown = [n for n in names if n not in PLACEHOLDERS]
        if unknown:
            raise invalid(
                field, f"Unknown placeholder {{{unknown[0]}}} in the {field}; use {{agent_no}} or {{customer}}."
            )
    return text


async def _check_queues(session: AsyncSession, scenario: str, value: Any) -> str:
    raw = value if isinstance(value, list) else str(value or "").replace("，", ",").split(",")
    codes = list(dict.fromkeys(str(q).strip() for q in raw if str(q).strip()))
    if scenario == DEFAULT:
        if codes:
            raise invalid("queue_codes", "The default script is for every queue: leave the queues empty.")
        return ""
    if not codes:
        raise invalid("queue_codes", "Name the queues this scenario is for (e.g. cards), or use the scenario default.")
    known = {q.code for q in await config_service.list_queues(session, include_inactive=True)}
    for code in codes:
        if not _QUEUE.match(code) or code not in known:
            raise invalid("queue_codes", f"No queue {code[:40]!r}; known queues: {', '.join(sorted(known)) or 'none'}.")
    joined = ",".join(codes)
    if len(joined) > 400:
        raise invalid("queue_codes", "Too many queues for one scenario (at most 400 characters).")
    return joined


def _check_scenario(value: Any) -> str:
    scenario = str(value or "").strip()
    if not _SCENARIO.match(scenario):
        raise invalid("scenario", "The scenario is a code of 2-40 lower-case letters, digits or _ (e.g. card_loss).")
    return scenario


def _check_choice(field: str, value: Any, choices: Sequence[str]) -> str:
    text = str(value or "").strip()
    if text not in choices:
        raise invalid(field, f"{field.capitalize()} must be one of {', '.join(choices)}.")
    return text


async def _duplicate(session: AsyncSession, scenario: str, channel: str, locale: str, not_id: int | None) -> None:
    stmt = select(CallScript.id).where(
        CallScript.scenario == scenario, CallScript.channel == channel, CallScript.locale == locale
    )
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is not None and found != not_id:
        raise Conflict(f"Script {found} is already the {scenario} script for {channel} in {locale}; edit that one.",
                       extra={"errors": [{"field": "scenario", "message": "duplicate"}], "existing_id": found})  # fmt: skip


async def list_scripts(
    session: AsyncSession, *, include_inactive: bool = True, scenario: str | None = None
) -> Sequence[CallScript]:
    stmt = select(CallScript)
    if not include_inactive:
        stmt = stmt.where(CallScript.active.is_(True))
    if scenario:
        stmt = stmt.where(CallScript.scenario == scenario)
    stmt = stmt.order_by(CallScript.scenario != DEFAULT, CallScript.scenario, CallScript.channel, CallScript.locale)
    return (await session.execute(stmt)).scalars().all()


async def get(session: AsyncSession, script_id: int) -> CallScript:
    s = await session.get(CallScript, script_id) if 1 <= script_id <= MAX_ROW_ID else None
    if s is None:
        raise NotFound(f"No call script {script_id}.")
    return s


async def create(session: AsyncSession, *, actor: Principal | None, data: dict[str, Any]) -> CallScript:
    scenario = _check_scenario(data.get("scenario"))
    channel = _check_choice("channel", data.get("channel") or "phone", CHANNELS)
    locale = _check_choice("locale", data.get("locale") or i18n.DEFAULT_LOCALE, i18n.LOCALES)
    values = {
        "name": _check_text("name", data.get("name"), required=True),
        "queue_codes": await _check_queues(session, scenario, data.get("queue_codes")),
        "greeting": _check_text("greeting", data.get("greeting"), required=True),
        **{f: _check_text(f, data.get(f), required=False) for f in ("confirmation", "closing", "notes")},
    }
    await _duplicate(session, scenario, channel, locale, None)
    now = clock.now()
    s = CallScript(scenario=scenario, channel=channel, locale=locale, active=bool(data.get("active", True)), version=1,
                   updated_by=actor.staff_id if actor else None, created_at=now, updated_at=now, **values)  # fmt: skip
    session.add(s)
    await session.flush()
    await audit.record(session, action="script.create", object_type="call_script", object_id=s.id, after=_audit(s))
    return s


async def update(session: AsyncSession, *, actor: Principal, script_id: int, changes: dict[str, Any]) -> CallScript:
    """Change some fields (only those given); the version goes up by one when anything changed."""
    s = await get(session, script_id)
    before = _audit(s)
    scenario = _check_scenario(changes["scenario"]) if "scenario" in changes else s.scenario
    channel = _check_choice("channel", changes["channel"], CHANNELS) if "channel" in changes else s.channel
    locale = _check_choice("locale", changes["locale"], i18n.LOCALES) if "locale" in changes else s.locale
    queues = changes.get("queue_codes", queues_of(s))
    new: dict[str, Any] = {"scenario": scenario, "channel": channel, "locale": locale,
                           "queue_codes": await _check_queues(session, scenario, queues)}  # fmt: skip
    for field in ("name", "greeting", "confirmation", "closing", "notes"):
        if field in changes:
            new[field] = _check_text(field, changes[field], required=field in ("name", "greeting"))
    if "active" in changes:
        new["active"] = bool(changes["active"])
    if (scenario, channel, locale) != (s.scenario, s.channel, s.locale):
        await _duplicate(session, scenario, channel, locale, s.id)
    changed = {k: v for k, v in new.items() if getattr(s, k) != v}
    if not changed:
        return s
    for k, v in changed.items():
        setattr(s, k, v)
    s.version += 1
    s.updated_by = actor.staff_id
    s.updated_at = clock.now()
    await session.flush()
    action = "script.deactivate" if changed.get("active") is False else "script.update"
    await audit.record(session, action=action, object_type="call_script", object_id=s.id, before=before,
                       after=_audit(s))  # fmt: skip
    return s


def _audit(s: CallScript) -> dict[str, Any]:
    return {"scenario": s.scenario, "name": s.name, "queue_codes": s.queue_codes, "channel": s.channel,
            "locale": s.locale, "active": s.active, "version": s.version, "greeting": s.greeting,
            "confirmation": s.confirmation, "closing": s.closing}  # fmt: skip


async def for_contact(
    session: AsyncSession, *, queue: str | None, channel: str = "phone", locale: str | None = None
) -> CallScript | None:
    """The script that applies to a contact of ``queue`` on ``channel`` (rules in the module docstring)."""
    stmt = select(CallScript).where(CallScript.active.is_(True), CallScript.channel == channel)
    rows = (await session.execute(stmt)).scalars().all()
    matching = sorted({s.scenario for s in rows if queue and queue in queues_of(s) and s.scenario != DEFAULT})
    scenario = matching[0] if matching else DEFAULT
    chosen = [s for s in rows if s.scenario == scenario]
    if not chosen:
        return None
    want = i18n.normalise(locale) or i18n.DEFAULT_LOCALE
    by_locale = {s.locale: s for s in chosen}
    return by_locale.get(want) or by_locale.get(i18n.DEFAULT_LOCALE) or sorted(chosen, key=lambda s: s.locale)[0]


def customer_title(masked_name: str | None, gender: str | None, locale: str) -> str:
    """The masked surname with a title (林女士, Ms 林), or "" when the customer is not known."""
    if not masked_name:
        return ""
    surname = masked_name.split("*", 1)[0] or masked_name[:1]
    titles = TITLES.get(locale, TITLES[i18n.DEFAULT_LOCALE])
    return titles.get(gender or "", titles[""]).format(s=surname)


class _Fill(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


_EMPTY_GAP = re.compile(r"([，,、])\s*[，,、]|\s{2,}")


def fill(text: str, *, agent_no: str, customer: str) -> str:
    """``text`` with {agent_no} and {customer} filled in (other braces are left as they are); an unknown
    customer leaves no doubled comma or gap behind ("您好，，我是…" reads "您好，我是…")."""
    try:
        out = text.format_map(_Fill(agent_no=agent_no, customer=customer))
    except (ValueError, IndexError):
        return text
    if customer:
        return out
    out = re.sub(r"\s+([，,、])", r"\1", out)  # "Good day , this" -> "Good day, this"
    return _EMPTY_GAP.sub(lambda m: m.group(1) or " ", out)


def rendered(s: CallScript, *, agent_no: str, customer: str) -> dict[str, Any]:
    """What the desk shows: the script's texts with the placeholders filled in."""
    return {
        **view(s), **{f: fill(getattr(s, f) or "", agent_no=agent_no, customer=customer) for f in TEXTS},
    }  # fmt: skip
