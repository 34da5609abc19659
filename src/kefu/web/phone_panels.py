"""The agent desktop's side panels for the contact in focus (the call ringing or connected, else the
wrap-up being written): the customer panel (masked profile, recent contacts on every channel, open
complaints, open follow-ups, the business dialogs), the call script, and the customer search when the
caller is not identified (or is not who the contact says).

The panels follow the call (connected, else ringing, else its wrap-up) unless the agent selected a chat or
e-mail tab: then they are about that conversation (``digital``), its channel's script included.

The panel of the contact's customer is not audited on every render: it shows masked data of the customer
the contact record already names (as the ringing caller card does). A customer the agent picks by searching
is opened with ``customers.service.open_profile`` (audited as ``customer.view``) and becomes the contact's
customer (``contacts.service.identify_customer``, audited as ``contact.identify``) in
``phone_forms.pick_customer_form``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.complaints import customer_panel as complaints_panel
from kefu.contacts import repository as contacts_repo
from kefu.contacts.models import Contact, FollowUpStatus
from kefu.contacts.views import follow_up_view
from kefu.core import i18n
from kefu.core.auth import Principal
from kefu.core.crypto import mask_phone
from kefu.core.errors import KefuError
from kefu.core.permissions import Permission
from kefu.customers import repository as customers_repo
from kefu.customers import service as customers
from kefu.customers.fields import REVEALABLE
from kefu.customers.models import Customer
from kefu.scripts import service as scripts

RECENT = 8
FIND_KINDS = ("phone", "customer_no", "name", "id_number")
CHANNEL_ICONS = {"phone": "☎", "chat": "💬", "email": "✉", "sms": "✆", "wechat": "◎", "branch": "🏦"}


def focus_of(calls: list[dict[str, Any]], wrapups: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The contact the side panels are about: a connected call first, then one ringing, then a wrap-up."""
    connected = [c for c in calls if c.get("status") != "offered" and not c.get("consult")]
    ringing = [c for c in calls if c.get("status") == "offered"]
    for group, stage in ((connected, "call"), (ringing, "offer"), (wrapups, "wrapup")):
        if group:
            return {**group[0], "stage": stage}
    return None


async def _customer_ids(db: AsyncSession, customer_id: int) -> list[int]:
    """The customer and the records merged into it (their histories are this customer's now)."""
    ids, frontier = [customer_id], [customer_id]
    while frontier and len(ids) < 50:
        nxt = [m.id for cid in frontier for m in await customers_repo.merged_into(db, cid) if m.id not in ids]
        ids += nxt
        frontier = nxt
    return ids


def _category_name(cat: Any, locale: str) -> str:
    if cat is None:
        return ""
    return str({"zh-Hant": cat.name_zh_hant, "en": cat.name_en}.get(locale) or cat.name_zh_hans)


async def _recent(
    db: AsyncSession, ids: list[int], current_id: int, locale: str
) -> tuple[list[dict[str, Any]], Sequence[Contact]]:
    rows, _ = await contacts_repo.contacts_of_customers(db, ids, offset=0, limit=30)
    shown = [c for c in rows if c.id != current_id][:RECENT]
    wrapups = await contacts_repo.wrapups_of(db, [c.id for c in shown])
    cats = await contacts_repo.categories_by_id(db, {w.category_id for w in wrapups.values()})
    out = []
    for c in shown:
        w = wrapups.get(c.id)
        out.append({
            "id": c.id, "channel": c.channel, "icon": CHANNEL_ICONS.get(c.channel, "•"), "direction": c.direction,
            "status": c.status, "at": c.arrived_at, "queue": c.queue_code,
            "category": _category_name(cats.get(w.category_id), locale) if w else "", "result": w.result if w else "",
        })  # fmt: skip
    return out, rows


async def _follow_ups(db: AsyncSession, contacts: Sequence[Contact], now: dt.datetime) -> list[dict[str, Any]]:
    out = []
    for c in contacts:
        for f in await contacts_repo.follow_ups_of_contact(db, c.id):
            if f.status == FollowUpStatus.OPEN.value:
                out.append(follow_up_view(f, now=now))
    return sorted(out, key=lambda f: f["due_at"])[:5]


async def customer_panel(
    db: AsyncSession, principal: Principal, *, customer: Customer, contact_id: int, locale: str, now: dt.datetime
) -> dict[str, Any]:
    """The masked profile, recent contacts, open complaints and follow-ups, and the business dialogs."""
    profile = await customers.view(db, customer=customer)
    ids = await _customer_ids(db, customer.id)
    recent, rows = await _recent(db, ids, contact_id, locale)
    cid = customer.id
    dialogs = [
        ("verify", f"/customers/{cid}?embed=1#verify"),
        ("balance", f"/customers/{cid}?embed=1#accounts"),
        ("history", f"/customers/{cid}/contacts?embed=1"),
        ("transfer", f"/customers/{cid}/transfer?embed=1"),
        ("loss", f"/customers/{cid}?embed=1#cards"),
        ("release", f"/customers/{cid}?embed=1#cards"),
    ]
    return {
        "profile": profile,
        "recent": recent,
        "complaints": await complaints_panel.open_complaints(db, customer_ids=ids, now=now),
        "follow_ups": await _follow_ups(db, rows, now),
        "dialogs": dialogs if principal.can(Permission.CUSTOMER_READ) else [],
        "reveal_fields": [f for f in REVEALABLE if principal.can(Permission.CUSTOMER_REVEAL)],
    }


async def script_panel(
    db: AsyncSession, principal: Principal, *, focus: dict[str, Any], profile: dict[str, Any] | None, locale: str
) -> dict[str, Any] | None:
    """The script for the contact's queue and channel in the customer's language, placeholders filled in."""
    want = (profile or {}).get("locale") or locale
    s = await scripts.for_contact(db, queue=focus.get("queue"), channel=focus.get("channel") or "phone", locale=want)
    if s is None:
        return None
    who = scripts.customer_title((profile or {}).get("name"), (profile or {}).get("gender"), s.locale)
    return scripts.rendered(s, agent_no=principal.staff_no, customer=who)


async def find_customers(db: AsyncSession, principal: Principal, *, kind: str, q: str) -> list[dict[str, Any]]:
    """The customer search of the desk (the customer pages' services): masked rows, at most ten."""
    if kind in ("phone", "id_number"):
        rows: Sequence[Customer] = await customers.lookup(db, **{kind: q})
    else:
        rows, _ = await customers.search(db, actor=principal, name=q if kind == "name" else None,
                                         customer_no=q if kind == "customer_no" else None, offset=0, limit=10)  # fmt: skip
    out = []
    for c in list(rows)[:10]:
        phones = [p for p in await customers_repo.phones_of(db, c.id) if p.is_primary and p.removed_at is None]
        out.append({"id": c.id, "customer_no": c.customer_no, "name": c.name_mask, "tier": c.tier,
                    "phone": mask_phone(phones[0].phone) if phones else ""})  # fmt: skip
    return out


async def panels(
    db: AsyncSession, principal: Principal, *, calls: list[dict[str, Any]], wrapups: list[dict[str, Any]],
    locale: str, now: dt.datetime, digital: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """``focus``, ``customer_panel`` (or None), ``script`` (or None) for the live page. ``digital`` is the chat or
    e-mail the agent selected on its tab; without it the panels follow the call."""
    focus = digital or focus_of(calls, wrapups)
    out: dict[str, Any] = {"focus": focus, "customer_panel": None, "script": None, "find_kinds": FIND_KINDS}
    if focus is None:
        return out
    customer_id = (focus.get("customer") or {}).get("id")
    if customer_id and principal.can(Permission.CUSTOMER_READ):
        try:
            customer = await customers.get_active(db, customer_id)
        except KefuError:
            customer = None
        if customer is not None:
            out["customer_panel"] = await customer_panel(db, principal, customer=customer, locale=locale, now=now,
                                                         contact_id=focus["contact_id"])  # fmt: skip
    profile = out["customer_panel"]["profile"] if out["customer_panel"] else None
    out["script"] = await script_panel(db, principal, focus=focus, profile=profile, locale=locale)
    out["script_lang"] = i18n.normalise((profile or {}).get("locale")) or locale
    return out
