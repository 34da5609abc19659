"""The web shell: every server-rendered page, gathered into one router that ``create_app`` includes."""

from fastapi import APIRouter

from kefu.web import (
    account,
    audit_pages,
    banking_pages,
    card_pages,
    chat_pages,
    complaint_pages,
    complaint_reports_pages,
    contact_pages,
    customer_pages,
    followup_pages,
    kb_pages,
    login,
    manual_pages,
    message_pages,
    phone_forms,
    phone_pages,
    script_pages,
    staff_pages,
    verification_pages,
    wallboard_pages,
)
from kefu.web.pages import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)
router.include_router(login.router)
router.include_router(account.router)
router.include_router(staff_pages.router)
router.include_router(audit_pages.router)
router.include_router(customer_pages.router)
router.include_router(verification_pages.router)
router.include_router(banking_pages.router)
router.include_router(card_pages.router)
router.include_router(manual_pages.router)
router.include_router(phone_pages.router)
router.include_router(phone_forms.router)
router.include_router(wallboard_pages.router)
router.include_router(contact_pages.router)
router.include_router(followup_pages.router)
router.include_router(message_pages.router)  # SMS / WeChat awaiting a reply, reply form
router.include_router(kb_pages.router)
router.include_router(complaint_reports_pages.router)
router.include_router(complaint_pages.router)  # inbox, new, case + its posts, public /complaint
router.include_router(chat_pages.router)  # the customer's chat widget /chat
router.include_router(script_pages.router)  # call scripts /scripts
