"""Timeline summaries in the reader's language.

The services store each timeline summary as a short English sentence without personal data (it is
kept in clear, read by the API and the CLI). Pages show it in the reader's language: each known
sentence shape maps to a catalogue key, and status, channel and reason codes inside it become labels.
A sentence no pattern knows is shown as stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from kefu.core import i18n

Params = dict[str, str]


def _status(code: str, locale: str) -> str:
    key = f"complaint.status.{code}"
    return i18n.t(key, locale) if i18n.has(key, locale) else code


def _channel(code: str, locale: str) -> str:
    key = f"complaint.channel.{code}"
    return i18n.t(key, locale) if i18n.has(key, locale) else code


def _notice(code: str, locale: str) -> str:
    key = f"complaint.notice_kind.{code}"
    return i18n.t(key, locale) if i18n.has(key, locale) else code


def _evidence_kind(code: str, locale: str) -> str:
    key = f"complaint.evidence.kind.{code}"
    return i18n.t(key, locale) if i18n.has(key, locale) else code


def _channels(codes: str, locale: str) -> str:
    names = {"sms": "complaint.notice_channel.sms", "email": "complaint.notice_channel.email",
             "letter": "complaint.notice_channel.letter"}  # fmt: skip
    out = []
    for code in (c.strip() for c in codes.split(",")):
        key = names.get(code)
        out.append(i18n.t(key, locale) if key and i18n.has(key, locale) else code)
    return "、".join(out) if locale.startswith("zh") else ", ".join(out)


#: (timeline kind, pattern of the stored summary, catalogue key, converters of named groups)
PATTERNS: list[tuple[str, re.Pattern[str], str, dict[str, Callable[[str, str], str]]]] = [
    ("status", re.compile(r"^registered via (?P<channel>\w+)$"), "complaint.tlx.registered", {"channel": _channel}),
    ("status", re.compile(r"^(?P<frm>\w+) → (?P<to>\w+) \(reopened\)$"), "complaint.tlx.reopened",
     {"frm": _status, "to": _status}),
    ("status", re.compile(r"^(?P<frm>\w+) → (?P<to>\w+)$"), "complaint.tlx.moved", {"frm": _status, "to": _status}),
    ("status", re.compile(r"^merged into (?P<number>TS[\d-]+)$"), "complaint.tlx.merged_into", {}),
    ("clock", re.compile(r"^clock (?P<kind>\w+): due (?P<before>[\d-]+|None) → (?P<after>[\d-]+|None)$"),
     "complaint.tlx.clock", {}),
    ("clock", re.compile(r"^clock paused \(outside appraisal / testing\)$"), "complaint.tlx.paused", {}),
    ("clock", re.compile(r"^(?P<number>TS[\d-]+) merged into this case; due date unchanged$"),
     "complaint.tlx.merged_here", {}),
    ("clock", re.compile(r"^extension request \d+ withdrawn: the clock restarted$"), "complaint.tlx.ext_withdrawn", {}),
    ("clock", re.compile(r"^extension request \d+ withdrawn: the case was decided$"),
     "complaint.tlx.ext_withdrawn_decided", {}),
    ("clock", re.compile(r"^extension request \d+ withdrawn: merged into (?P<number>TS[\d-]+)$"),
     "complaint.tlx.ext_withdrawn_merged", {}),
    ("assigned", re.compile(r"^handler removed: no longer an active complaint handler$"),
     "complaint.tlx.handler_removed", {}),
    ("clock", re.compile(r"^extension level (?P<level>[12]) requested$"), "complaint.tlx.ext_requested", {}),
    ("clock", re.compile(r"^extension level (?P<level>[12]) rejected$"), "complaint.tlx.ext_rejected", {}),
    ("clock", re.compile(r"^extension level (?P<level>[12]) approved: due (?P<before>[\d-]+|None) → (?P<after>[\d-]+)$"),
     "complaint.tlx.ext_approved", {}),
    ("escalated", re.compile(r"^escalated: (?P<reasons>.*)$"), "complaint.tlx.escalated", {}),
    ("warning", re.compile(r"^Deadline warning: (?P<days>-?\d+) day\(s\) left, due (?P<due>[\d-]+)$"),
     "complaint.tlx.warning", {}),
    ("breached", re.compile(r"^Decision deadline passed \(due (?P<due>[\d-]+)\): escalated to supervisors$"),
     "complaint.tlx.breached", {}),
    ("accept_overdue", re.compile(r"^Not accepted or refused by (?P<when>.+)$"), "complaint.tlx.accept_overdue", {}),
    ("plan", re.compile(r"^Plan node (?P<seq>\d+) added \(due (?P<due>[^)]+)\)$"), "complaint.tlx.node_added", {}),
    ("plan", re.compile(r"^Plan node (?P<seq>\d+) done \(customer notified\)$"), "complaint.tlx.node_done_told", {}),
    ("plan", re.compile(r"^Plan node (?P<seq>\d+) done$"), "complaint.tlx.node_done", {}),
    ("plan", re.compile(r"^Plan node (?P<seq>\d+) cancelled$"), "complaint.tlx.node_cancelled", {}),
    ("plan", re.compile(r"^Plan node (?P<seq>\d+) overdue \(due (?P<due>[^)]+)\): escalated$"),
     "complaint.tlx.node_overdue", {}),
    ("notice", re.compile(r"^notice (?P<kind>\w+): (?P<channels>[\w, ]+)$"), "complaint.tlx.notice",
     {"kind": _notice, "channels": _channels}),
    ("assigned", re.compile(r"^handler → staff (?P<staff>\d+)$"), "complaint.tlx.assigned", {}),
    ("details", re.compile(r"^details changed: (?P<fields>.*)$"), "complaint.tlx.details", {}),
    ("findings", re.compile(r"^findings: (?P<party>\w+) / (?P<cause>\w+)$"), "complaint.tlx.findings", {}),
    ("evidence", re.compile(r"^File added \((?P<ext>\w+), (?P<size>[\d,]+) bytes\)$"), "complaint.tlx.file", {}),
    ("evidence", re.compile(r"^Linked (?P<kind>\w+) (?P<ref>\S+) \(not checked: no customer linked\)$"),
     "complaint.tlx.linked_unchecked", {"kind": _evidence_kind}),
    ("evidence", re.compile(r"^Linked (?P<kind>\w+) (?P<ref>\S+)$"), "complaint.tlx.linked", {"kind": _evidence_kind}),
    ("evidence", re.compile(r"^Investigation note added$"), "complaint.tlx.evidence_note", {}),
    ("evidence", re.compile(r"^Linked system data$"), "complaint.tlx.system_data", {}),
    ("note", re.compile(r"^note$"), "complaint.tlx.note", {}),
]  # fmt: skip


def localise(kind: str, summary: str, locale: str, *, labels: dict[str, Callable[[str], str]] | None = None) -> str:
    """The summary in ``locale``; ``labels`` may translate extra groups (e.g. ``party``, ``cause``, ``staff``)."""
    for k, pattern, key, convert in PATTERNS:
        if k != kind:
            continue
        m = pattern.match(summary)
        if m is None:
            continue
        if not i18n.has(key, locale):
            return summary
        params: Params = {}
        for name, value in m.groupdict().items():
            if name in convert:
                params[name] = convert[name](value, locale)
            elif labels and name in labels:
                params[name] = labels[name](value)
            else:
                params[name] = "—" if value == "None" else value
        return i18n.t(key, locale, **params)
    return summary
