"""Roles, permissions and the one permission matrix that every route declares against."""

from __future__ import annotations

import enum

from kefu.core.crypto import DataClass


class Role(enum.StrEnum):
    AGENT = "agent"
    TEAM_LEAD = "team_lead"
    QA_INSPECTOR = "qa_inspector"
    KB_EDITOR = "kb_editor"
    KB_REVIEWER = "kb_reviewer"
    COMPLAINT_HANDLER = "complaint_handler"
    WFM_PLANNER = "wfm_planner"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    AUDITOR = "auditor"


class Permission(enum.StrEnum):
    # own account
    SELF_READ = "self.read"
    SELF_MANAGE = "self.manage"  # own password, own two-factor
    # staff administration
    STAFF_READ = "staff.read"  # directory: staff of one's own scope
    STAFF_MANAGE = "staff.manage"  # create, change roles/team, suspend, mark left, reset password
    STAFF_REVEAL = "staff.reveal"  # reveal a staff member's personal data with a purpose
    TEAM_READ = "team.read"
    TEAM_MANAGE = "team.manage"
    APIKEY_MANAGE = "apikey.manage"
    # audit
    AUDIT_READ = "audit.read"
    AUDIT_VERIFY = "audit.verify"
    # operations
    SYSTEM_OPS = "system.ops"  # event outbox, jobs, key status
    # banking (R2.2, R2.4, R9.3)
    BANKING_READ = "banking.read"  # masked accounts and cards of a customer, core-system status
    BANKING_OPERATE = "banking.operate"  # business on a verified call: balance, history, transfer, cards
    BANKING_MANUAL = "banking.manual"  # register and process requests by hand while the core is down
    BANKING_FRAUD_MANAGE = "banking.fraud_manage"  # the fraud list of payee accounts
    BANKING_LEDGER_CHECK = "banking.ledger_check"  # prove the ledger balances
    BANKING_CORE_SWITCH = "banking.core_switch"  # put the core system offline for drills and back
    # customers (R2.1, R3.1-R3.5)
    CUSTOMER_READ = "customer.read"  # masked profile, look-up by phone/ID, name search, consents
    CUSTOMER_MANAGE = "customer.manage"  # create, update profile, phones
    CUSTOMER_REVEAL = "customer.reveal"  # one field in clear with a purpose, within the role's clearance
    CUSTOMER_CONSENT = "customer.consent"  # record consents and withdrawals captured on a contact
    CUSTOMER_VERIFY = "customer.verify"  # verify a caller's identity (PIN, ID + SMS code, questions)
    CUSTOMER_MERGE = "customer.merge"  # merge duplicate customer records
    CUSTOMER_EXPORT = "customer.export"  # the data subject's export: everything held, in clear
    # contacts and routing (R1.1-R1.8)
    CONTACT_READ = "contact.read"  # contact records and a customer's timeline, within the reader's scope
    CONTACT_HANDLE = "contact.handle"  # the agent desk: presence, answer, hold, transfer, end, wrap-up, follow-ups
    FOLLOWUP_MANAGE = "followup.manage"  # reassign and close follow-ups of one's scope (team lead)
    ROUTING_MONITOR = "routing.monitor"  # wallboard: queues, agents' presence, live and historical service level
    ROUTING_CONFIGURE = "routing.configure"  # queues, skills, IVR routes, wrap-up categories
    CTI_EVENTS = "cti.events"  # a telephony system posting call events (API keys)
    CTI_SIMULATE = "cti.simulate"  # the built-in softphone simulator (when KEFU_SOFTPHONE_SIMULATOR is on)
    # knowledge base (R4.1-R4.6)
    KB_READ = "kb.read"  # search, read live entries, bulletins (read and acknowledge), attach entries to contacts
    KB_FORWARD = "kb.forward"  # forward a question one could not answer; read the answers to one's questions
    KB_EDIT = "kb.edit"  # drafts, categories, synonyms, import/export, answer forwarded questions, unmatched queries
    KB_REVIEW = "kb.review"  # approve (publish), send back, retire entries written by others
    KB_REPORT = "kb.report"  # hit counters, frequency bands, unmatched queries
    BULLETIN_MANAGE = "bulletin.manage"  # post, change and withdraw bulletins
    BULLETIN_RECEIPTS = "bulletin.receipts"  # who has read and acknowledged a bulletin (own team / center)
    # complaints (R5)
    COMPLAINT_INTAKE = "complaint.intake"  # register a complaint (from a contact, a letter, an e-mail)
    COMPLAINT_READ = "complaint.read"  # cases within scope: one's own registrations, or all (handlers, supervisors)
    COMPLAINT_HANDLE = "complaint.handle"  # accept, assign, investigate, plan, decide, close, reopen, merge
    COMPLAINT_APPROVE = "complaint.approve"  # approve a first extension (to 30 days): 投诉处理工作负责人
    COMPLAINT_APPROVE_SENIOR = "complaint.approve_senior"  # approve a second extension (+30 days): senior manager
    COMPLAINT_ESCALATIONS = "complaint.escalations"  # receives major complaints, breaches and overdue nodes
    COMPLAINT_REPORT = "complaint.report"  # statistics, weekly/monthly reports, exports, risk points
    CALENDAR_MANAGE = "calendar.manage"  # public holidays and make-up working days
    # agent desktop (R1)
    SCRIPT_MANAGE = "script.manage"  # call scripts per scenario (team leads, supervisors)


ALL = frozenset(Permission)

_SELF = {Permission.SELF_READ, Permission.SELF_MANAGE}

MATRIX: dict[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset(_SELF),
    Role.TEAM_LEAD: frozenset(_SELF | {Permission.STAFF_READ, Permission.TEAM_READ}),
    Role.QA_INSPECTOR: frozenset(_SELF | {Permission.STAFF_READ, Permission.TEAM_READ}),
    Role.KB_EDITOR: frozenset(_SELF),
    Role.KB_REVIEWER: frozenset(_SELF),
    Role.COMPLAINT_HANDLER: frozenset(_SELF),
    Role.WFM_PLANNER: frozenset(_SELF | {Permission.STAFF_READ, Permission.TEAM_READ}),
    Role.SUPERVISOR: frozenset(
        _SELF | {Permission.STAFF_READ, Permission.TEAM_READ, Permission.STAFF_REVEAL, Permission.AUDIT_READ}
    ),
    Role.ADMIN: frozenset(
        _SELF
        | {
            Permission.STAFF_READ,
            Permission.STAFF_MANAGE,
            Permission.STAFF_REVEAL,
            Permission.TEAM_READ,
            Permission.TEAM_MANAGE,
            Permission.APIKEY_MANAGE,
            Permission.SYSTEM_OPS,
        }
    ),
    Role.AUDITOR: frozenset(
        _SELF | {Permission.AUDIT_READ, Permission.AUDIT_VERIFY, Permission.STAFF_READ, Permission.TEAM_READ}
    ),
}

_BANKING: dict[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset({Permission.BANKING_READ, Permission.BANKING_OPERATE, Permission.BANKING_MANUAL}),
    Role.TEAM_LEAD: frozenset({Permission.BANKING_READ, Permission.BANKING_OPERATE, Permission.BANKING_MANUAL}),
    Role.SUPERVISOR: frozenset(
        {
            Permission.BANKING_READ,
            Permission.BANKING_MANUAL,
            Permission.BANKING_FRAUD_MANAGE,
            Permission.BANKING_LEDGER_CHECK,
            Permission.BANKING_CORE_SWITCH,
        }
    ),
    Role.ADMIN: frozenset({Permission.BANKING_CORE_SWITCH}),
    Role.AUDITOR: frozenset({Permission.BANKING_LEDGER_CHECK}),
}
for _role, _perms in _BANKING.items():
    MATRIX[_role] = MATRIX[_role] | _perms

_CUSTOMERS_DESK = {
    Permission.CUSTOMER_READ, Permission.CUSTOMER_MANAGE, Permission.CUSTOMER_REVEAL,
    Permission.CUSTOMER_CONSENT, Permission.CUSTOMER_VERIFY,
}  # fmt: skip
_CUSTOMERS: dict[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset(_CUSTOMERS_DESK),
    Role.TEAM_LEAD: frozenset(_CUSTOMERS_DESK | {Permission.CUSTOMER_MERGE}),
    Role.COMPLAINT_HANDLER: frozenset({Permission.CUSTOMER_READ}),
    Role.SUPERVISOR: frozenset(_CUSTOMERS_DESK | {Permission.CUSTOMER_MERGE, Permission.CUSTOMER_EXPORT}),
}
for _role, _perms in _CUSTOMERS.items():
    MATRIX[_role] = MATRIX[_role] | _perms

_CONTACTS: dict[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset({Permission.CONTACT_READ, Permission.CONTACT_HANDLE, Permission.CTI_SIMULATE}),
    Role.TEAM_LEAD: frozenset({
        Permission.CONTACT_READ, Permission.CONTACT_HANDLE, Permission.CTI_SIMULATE,
        Permission.FOLLOWUP_MANAGE, Permission.ROUTING_MONITOR,
    }),
    Role.QA_INSPECTOR: frozenset({Permission.CONTACT_READ}),
    Role.COMPLAINT_HANDLER: frozenset({Permission.CONTACT_READ}),
    Role.WFM_PLANNER: frozenset({Permission.ROUTING_MONITOR}),
    Role.SUPERVISOR: frozenset({
        Permission.CONTACT_READ, Permission.FOLLOWUP_MANAGE, Permission.ROUTING_MONITOR,
        Permission.ROUTING_CONFIGURE, Permission.CTI_SIMULATE,
    }),
    Role.ADMIN: frozenset({Permission.CTI_EVENTS, Permission.ROUTING_CONFIGURE}),
    Role.AUDITOR: frozenset({Permission.CONTACT_READ}),
}  # fmt: skip
for _role, _perms in _CONTACTS.items():
    MATRIX[_role] = MATRIX[_role] | _perms

_KB_DESK = {Permission.KB_READ, Permission.KB_FORWARD}
_KNOWLEDGE: dict[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset(_KB_DESK),
    Role.TEAM_LEAD: frozenset(_KB_DESK | {Permission.KB_REPORT, Permission.BULLETIN_RECEIPTS}),
    Role.QA_INSPECTOR: frozenset({Permission.KB_READ}),
    Role.KB_EDITOR: frozenset({
        Permission.KB_READ, Permission.KB_EDIT, Permission.KB_REPORT, Permission.BULLETIN_MANAGE,
        Permission.BULLETIN_RECEIPTS,
    }),
    Role.KB_REVIEWER: frozenset({
        Permission.KB_READ, Permission.KB_EDIT, Permission.KB_REVIEW, Permission.KB_REPORT,
        Permission.BULLETIN_RECEIPTS,
    }),
    Role.COMPLAINT_HANDLER: frozenset({Permission.KB_READ}),
    Role.SUPERVISOR: frozenset({
        Permission.KB_READ, Permission.KB_REPORT, Permission.BULLETIN_MANAGE, Permission.BULLETIN_RECEIPTS,
    }),
    Role.AUDITOR: frozenset({Permission.KB_READ}),
}  # fmt: skip
for _role, _perms in _KNOWLEDGE.items():
    MATRIX[_role] = MATRIX[_role] | _perms

_COMPLAINT_CENTER = {Permission.COMPLAINT_INTAKE, Permission.COMPLAINT_READ, Permission.COMPLAINT_REPORT}
_COMPLAINTS: dict[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset({Permission.COMPLAINT_INTAKE, Permission.COMPLAINT_READ}),
    Role.TEAM_LEAD: frozenset({Permission.COMPLAINT_INTAKE, Permission.COMPLAINT_READ}),
    Role.QA_INSPECTOR: frozenset({Permission.COMPLAINT_READ, Permission.COMPLAINT_REPORT}),
    Role.COMPLAINT_HANDLER: frozenset(_COMPLAINT_CENTER | {Permission.COMPLAINT_HANDLE}),
    Role.SUPERVISOR: frozenset(_COMPLAINT_CENTER | {
        Permission.COMPLAINT_HANDLE, Permission.COMPLAINT_APPROVE, Permission.COMPLAINT_APPROVE_SENIOR,
        Permission.COMPLAINT_ESCALATIONS, Permission.CALENDAR_MANAGE,
    }),
    Role.ADMIN: frozenset({Permission.CALENDAR_MANAGE}),
    Role.AUDITOR: frozenset({Permission.COMPLAINT_READ, Permission.COMPLAINT_REPORT}),
}  # fmt: skip
for _role, _perms in _COMPLAINTS.items():
    MATRIX[_role] = MATRIX[_role] | _perms

_DESKTOP: dict[Role, frozenset[Permission]] = {
    Role.TEAM_LEAD: frozenset({Permission.SCRIPT_MANAGE}),
    Role.SUPERVISOR: frozenset({Permission.SCRIPT_MANAGE}),
}
for _role, _perms in _DESKTOP.items():
    MATRIX[_role] = MATRIX[_role] | _perms

#: Roles that read every complaint; the others read those they registered (team leads: their team's).
COMPLAINTS_CENTER_WIDE: frozenset[Role] = frozenset(
    {Role.COMPLAINT_HANDLER, Role.SUPERVISOR, Role.AUDITOR, Role.QA_INSPECTOR}
)

#: The most sensitive data class each role may reveal (with a purpose). Masked views need no clearance.
CLEARANCE: dict[Role, DataClass | None] = {
    Role.AGENT: DataClass.C2,
    Role.TEAM_LEAD: DataClass.C2,
    Role.QA_INSPECTOR: DataClass.C2,
    Role.KB_EDITOR: None,
    Role.KB_REVIEWER: None,
    Role.COMPLAINT_HANDLER: DataClass.C2,
    Role.WFM_PLANNER: DataClass.C1,
    Role.SUPERVISOR: DataClass.C3,
    Role.ADMIN: DataClass.C2,
    Role.AUDITOR: DataClass.C3,
}

#: Roles whose holders see every team's staff; the others see their own team only.
CENTER_WIDE: frozenset[Role] = frozenset({Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR, Role.WFM_PLANNER})

#: Roles that read every contact record (quality, complaints, audit); the others read their own / their team's.
CONTACTS_CENTER_WIDE: frozenset[Role] = CENTER_WIDE | {Role.QA_INSPECTOR, Role.COMPLAINT_HANDLER}


def permissions_for(roles: set[Role] | frozenset[Role] | list[Role]) -> frozenset[Permission]:
    out: set[Permission] = set()
    for role in roles:
        out |= MATRIX[role]
    return frozenset(out)


def clearance_for(roles: set[Role] | frozenset[Role] | list[Role]) -> DataClass | None:
    levels = [c for r in roles if (c := CLEARANCE[r]) is not None]
    return max(levels) if levels else None
