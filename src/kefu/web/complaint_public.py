"""The public complaint form (/complaint, R5.1): anyone may complain without signing in.

* Cross-site forgery: the project's pre-session mechanism for anonymous forms (``pages.pre_csrf_token`` /
  ``pre_csrf_ok``: a random nonce in an HttpOnly cookie, the form carries its HMAC with the secret key;
  a forged post from another site has neither).
* Abuse: at most ``settings.complaint_form_per_hour`` registered complaints per client address per hour,
  counted together with the API's public endpoint; a post with errors does not use that allowance but
  counts towards a separate limit of ``complaints.router.INVALID_PER_HOUR`` posts with errors per address
  per hour, so the form cannot be used to probe the validation (``complaints.router.PublicAttempt``,
  in-process: each node counts on its own). The request body may not exceed ``PUBLIC_BODY_LIMIT`` (413).
* Lengths: the service's limits (``LIMITS``); a longer text is a message on the form, never cut.
* Consent: the complainant must agree to the processing of their personal data for handling the
  complaint; without it nothing is stored.
* The language chosen on the page (the ``kefu_lang`` cookie, switched with the menu) is the language of
  the notices the complainant receives.

The complaint itself is registered by ``complaints.intake.register_public`` (channel ``form``, no staff
actor; it refuses a submission without the consent). The done page shows the case number; its address
is signed, so nobody can make the page show a number they did not get.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.complaints import intake, taxonomy
from kefu.complaints import repository as complaints_repo
from kefu.complaints.models import IntakeChannel
from kefu.complaints.router import PublicAttempt
from kefu.core import i18n
from kefu.core.auth import DbSession, public
from kefu.core.errors import KefuError
from kefu.web import desk
from kefu.web.pages import (
    PageRoute,
    client_addr,
    locale_of,
    pre_csrf_ok,
    pre_csrf_token,
    redirect,
    render,
    set_pre_csrf_cookie,
    settings_of,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Field = Annotated[str, Form()]
NUMBER = re.compile(r"^[A-Z]{2}[0-9]{8}-[0-9]{4,12}$")
#: the form's fields and their length limits in characters: those of the service and of the API's schema
LIMITS = {"name": 80, "phone": 30, "email": 200, "matter": 4000, "requested_resolution": 2000}
#: the largest request body: every field full of Chinese text, percent-encoded (9 bytes a character), is
#: about 56 KB
PUBLIC_BODY_LIMIT = 64 * 1024


def _labelled(mapping: dict[str, dict[str, str]], locale: str) -> list[dict[str, str]]:
    return [{"code": code, "label": taxonomy.label(mapping, code, locale)} for code in mapping]


def form_options(request: Request, locale: str) -> dict[str, Any]:
    """Business lines and the category tree with labels in the page's language."""
    groups = [
        {"label": top["labels"].get(locale) or top["code"],
         "options": [{"code": c["code"], "label": c["labels"].get(locale) or c["code"]}
                     for c in (top["children"] or [{"code": top["code"], "labels": top["labels"]}])]}
        for top in taxonomy.categories(settings_of(request))
    ]  # fmt: skip
    return {"business_lines": _labelled(taxonomy.BUSINESS_LINES, locale), "category_groups": groups}


def done_signature(request: Request, number: str) -> str:
    key = settings_of(request).secret_bytes()
    return hmac.new(key, b"kefu-complaint-done:" + number.encode(), hashlib.sha256).hexdigest()[:32]


def public_error(exc: KefuError, locale: str) -> dict[str, Any]:
    """The message for the complainant: a translated text per field when there is one, else the heading."""
    fields = [str(e.get("field")) for e in exc.extra.get("errors", []) if isinstance(e, dict) and e.get("field")]
    texts = [i18n.t(f"complaint.public.error.{f}", locale) for f in fields if i18n.has(f"complaint.public.error.{f}")]
    if exc.status == 429:
        title = i18n.t("complaint.public.error.rate", locale)
    elif texts:
        title = " ".join(texts)
    else:
        key = f"error.{exc.code}"
        title = i18n.t(key if i18n.has(key) else "error.generic", locale)
    return {"title": title, "detail": exc.detail, "fields": fields}


def _page(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    token, new_cookie = pre_csrf_token(request)
    response = render(request, template, {"form_token": token, **context}, status_code=status_code,
                      principal=None, no_store=True)  # fmt: skip
    set_pre_csrf_cookie(request, response, new_cookie)
    return response


def _form(request: Request, *, form: dict[str, Any] | None = None, error: dict[str, Any] | None = None,
          status_code: int = 200) -> Response:  # fmt: skip
    locale = locale_of(request, None)
    ctx = {**form_options(request, locale), "form": form or {}, "error": error, "limits": LIMITS,
           "per_hour": settings_of(request).complaint_form_per_hour}  # fmt: skip
    return _page(request, "complaint_public.html", ctx, status_code)


@router.get("/complaint", dependencies=[public()])
async def public_form(request: Request) -> Response:
    """The form (no sign-in)."""
    return _form(request)


def _check_lengths(form: dict[str, Any]) -> None:
    for name, limit in LIMITS.items():
        if len(form[name]) > limit:
            raise desk.field_error(name, f"Write at most {limit} characters here ({len(form[name])} now).")


async def _register(request: Request, db: AsyncSession, form: dict[str, Any], locale: str) -> Any:
    """Check the form and register the complaint. Every post counts as one with errors until the complaint
    is registered; only a registered one uses the hourly allowance (``PublicAttempt``)."""
    attempt = PublicAttempt(request.app.state.runtime, client_addr(request) or "unknown")
    try:
        if not form["consent"]:
            raise desk.field_error(
                "consent", "Tick the box to agree that we use your details to handle this complaint."
            )
        _check_lengths(form)
        data = intake.IntakeData(
            channel=IntakeChannel.FORM.value, complainant_name=form["name"] or None,
            complainant_phone=form["phone"] or None, complainant_email=form["email"] or None, locale=locale,
            matter=form["matter"], requested_resolution=form["requested_resolution"] or None,
            business_line=form["business_line"],
            category=form["category"] or intake.default_public_category(settings_of(request)),
        )  # fmt: skip
        attempt.reserve()
        complaint = await intake.register_public(db, data=data, consent=bool(form["consent"]))
    except KefuError:
        attempt.failed()
        raise
    attempt.registered()
    return complaint


@router.post("/complaint", dependencies=[public()], max_body_size=PUBLIC_BODY_LIMIT)
async def public_submit(
    request: Request, db: DbSession, name: Field = "", phone: Field = "", email: Field = "", business_line: Field = "",
    category: Field = "", matter: Field = "", requested_resolution: Field = "", consent: Field = "",
    csrf_token: Field = "",
) -> Response:  # fmt: skip
    """Register the complaint (channel form) and show its number; errors come back on the form."""
    locale = locale_of(request, None)
    raw = {"name": name, "phone": phone, "email": email, "matter": matter, "requested_resolution": requested_resolution}
    form: dict[str, Any] = {k: (v or "").strip() for k, v in raw.items()}
    form.update(business_line=business_line[:30], category=category[:60], consent=consent == "yes")
    if not pre_csrf_ok(request, csrf_token):
        error: dict[str, Any] = {"title": i18n.t("error.csrf", locale), "detail": None, "fields": []}
        return _form(request, form=form, error=error, status_code=403)
    try:
        complaint = await _register(request, db, form, locale)
    except KefuError as exc:
        await desk.undo(db, exc)
        return _form(request, form=form, error=public_error(exc, locale), status_code=exc.status)
    number = str(complaint.number)
    return redirect(f"/complaint/done?n={number}&s={done_signature(request, number)}")


@router.get("/complaint/done", dependencies=[public()])
async def public_done(request: Request, db: DbSession, n: str = "", s: str = "") -> Response:
    """The case number to keep (only for the address the form sent the complainant to)."""
    number = n.strip().upper()[:24]
    if not NUMBER.match(number) or not hmac.compare_digest(done_signature(request, number), s[:64]):
        return redirect("/complaint")
    case = await complaints_repo.by_number(db, number)
    ctx = {"number": number, "received_at": case.received_at if case is not None else None,
           "accept_days": settings_of(request).complaint_accept_days}  # fmt: skip
    return render(request, "complaint_public_done.html", ctx, principal=None, no_store=True)
